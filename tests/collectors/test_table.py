"""Rules every collector in the table keeps: naming, HELP text, labels, scopes, intervals."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter.collectors import COLLECTORS
from exporter.collectors.base import Collector, state_set
from exporter.selfmetrics import SELF_FAMILIES
from tests.conftest import example_reader, object_ids, spec

DOCS = Path(__file__).parent.parent.parent / "docs" / "collectors.md"
GOLDEN_FILES = sorted((Path(__file__).parent.parent / "golden").glob("*.prom"))

UNIT_SUFFIXES = ("_bytes", "_seconds", "_usd")
# Labels whose values are free text chosen by users. They are allowed on purpose (you need a
# name to read a dashboard) and are bounded by the number of objects; nothing else is free text.
FREE_TEXT_LABELS = {
    "name", "tag", "team", "target", "custom_domain", "origin", "endpoint", "purpose", "environment",
    "resource", "group", "product",
}
FORBIDDEN_LABELS = {"id", "description", "message", "email", "token", "request_id", "error", "url"}


def families() -> list[tuple[Collector[Any], Any]]:
    return [(c, f) for c in COLLECTORS for f in c.families]


def test_family_names_are_unique_across_the_exporter() -> None:
    names = [f.name for _, f in families()] + [f.name for f in SELF_FAMILIES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("collector", "family"), families(), ids=lambda x: getattr(x, "name", ""))
def test_family_naming(collector: Collector[Any], family: Any) -> None:
    # lower case, but for /proc/meminfo's field names, spelt as node_exporter spells them
    assert re.fullmatch(r"digitalocean_[a-z0-9_]+", family.name)
    # _total on counters only, and on every counter
    assert family.name.endswith("_total") == (family.kind == "counter"), family.kind
    assert family.help.endswith(".")
    assert "polled from /v" in family.help
    assert '"' not in family.help
    assert "\\" not in family.help
    assert "account" not in family.labels, "the renderer adds account"
    assert len(set(family.labels)) == len(family.labels)
    assert not FORBIDDEN_LABELS & set(family.labels)
    if family.name.endswith("_status"):
        assert family.labels[-1] == "status", "a state set names its state label status"


def test_collector_names_and_intervals() -> None:
    names = [c.name for c in COLLECTORS]
    assert len(names) == len(set(names))
    for collector in COLLECTORS:
        assert re.fullmatch(r"[a-z][a-z_]*", collector.name)
        assert collector.interval >= 5
        assert collector.summary
        assert collector.summary == collector.summary.strip()


def test_scopes_match_the_official_spec() -> None:
    paths = spec()["paths"]
    for collector in COLLECTORS:
        for endpoint in collector.endpoints:
            path = endpoint.split("?")[0]
            if path not in paths:
                continue  # endpoints the subset does not include (documented per collector)
            required = paths[path]["get"]["security"][0]["bearer_auth"]
            assert set(collector.scope.split()) & set(required), (collector.name, endpoint, required)


def test_free_text_labels_are_documented_in_the_metrics_doc() -> None:
    metrics_doc = (Path(__file__).parent.parent.parent / "docs" / "metrics.md").read_text()
    cardinality = metrics_doc.split("\n## Cardinality\n", 1)
    assert len(cardinality) == 2, "docs/metrics.md has no Cardinality section"
    used = {label for _, f in families() for label in f.labels} & FREE_TEXT_LABELS
    for label in used:
        assert f"`{label}`" in cardinality[1], label


@pytest.mark.parametrize("collector", COLLECTORS, ids=lambda c: c.name)
def test_id_label_names_the_objects_of_the_info_family(collector: Collector[Any]) -> None:
    id_labels = {c.id_label for c in COLLECTORS if c.id_label}
    if collector.monitoring:  # its objects are its input's: their _info is there
        [source] = [c for c in COLLECTORS if c.name in collector.inputs]
        assert collector.id_label == source.id_label
        assert all(f.labels[0] == collector.id_label for f in collector.families)
    elif collector.id_label:
        info = next(f for f in collector.families if f.name.endswith("_info"))
        assert info.labels[0] == collector.id_label, info
    else:  # facts about the account: no family is keyed by any object's id label
        assert not [f.name for f in collector.families if id_labels & set(f.labels)]


@pytest.mark.parametrize("collector", COLLECTORS, ids=lambda c: c.name)
async def test_paged_is_an_endpoint_read_through_list_all(collector: Collector[Any]) -> None:
    reader = example_reader()
    data = await collector.fetch(reader)
    listed = {r.endpoint for r in reader.requests if r.method == "list_all"}
    if collector.paged is None:
        assert collector.paged not in listed
        return
    assert collector.paged in collector.endpoints
    assert "{" not in collector.paged
    assert "?" not in collector.paged
    assert collector.paged in listed
    assert collector.id_label, "a paged list's objects are named by an id label"
    assert object_ids(collector, data), "the official example's objects are counted"


def id_label_paragraph() -> str:
    text = DOCS.read_text()
    start = text.index("- Id labels are named after the resource.")
    return text[start:text.index("\n- ", start + 1)]


def test_every_id_like_label_is_a_collectors_id_label_or_named_in_the_docs() -> None:
    """The collectors' own id labels are listed in the generated collector table
    (docs/configuration.md);
    the docs name the others (objects inside or beside a collector's objects)."""
    documented = set(re.findall(r"`([a-z_0-9]+)`", id_label_paragraph()))
    used = {label for _, f in families() for label in f.labels}
    declared = {c.id_label for c in COLLECTORS if c.id_label}
    id_like = {label for label in used if label.endswith("_id")}
    assert id_like - declared <= documented
    assert declared <= used, "a collector's id label is a label of its families"
    assert documented - {"id", "Collector", "id_label", "account", "resource_type"} <= used


def test_state_sets_are_written_in_lower_case_whatever_the_api_sends() -> None:
    assert list(state_set("f", ("x",), "ERROR", ("ACTIVE", "ERROR", "active"))) == [
        ("f", ("x", "active"), 0),
        ("f", ("x", "error"), 1),
    ]
    # an unknown state is shown, lower case too, and a known one in another case is not unknown
    assert list(state_set("f", ("x",), "Paused", ("active",))) == [
        ("f", ("x", "active"), 0),
        ("f", ("x", "paused"), 1),
    ]
    assert list(state_set("f", ("x",), "ACTIVE", ("active",))) == [("f", ("x", "active"), 1)]


def test_every_status_value_in_the_golden_expositions_is_lower_case() -> None:
    """One convention across families: `status="error"` for an app and `status="active"` for a
    Droplet, never `ERROR` beside `active`."""
    values = set()
    for golden in GOLDEN_FILES:
        for family in text_string_to_metric_families(golden.read_text()):
            if family.name.endswith("_status"):
                values |= {s.labels["status"] for s in family.samples}
    assert {"error", "active", "up", "online"} <= values
    assert [v for v in values if v != v.lower()] == []
