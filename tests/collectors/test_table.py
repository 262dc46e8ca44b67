"""Rules every collector in the table keeps: naming, HELP text, labels, scopes, intervals."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from exporter.collectors import COLLECTORS
from exporter.collectors.base import Collector
from exporter.selfmetrics import SELF_FAMILIES
from tests.conftest import spec

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
    assert re.fullmatch(r"digitalocean_[a-z0-9_]+", family.name)
    assert not family.name.endswith("_total"), "gauges never end in _total"
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


def test_free_text_labels_are_documented_in_the_readme() -> None:
    readme = (Path(__file__).parent.parent.parent / "README.md").read_text()
    used = {label for _, f in families() for label in f.labels} & FREE_TEXT_LABELS
    for label in used:
        assert f"`{label}`" in readme.split("## Cardinality", 1)[-1], label
