"""The Grafana dashboards: generated, valid against the schema of the model they use, laid out
without overlaps, filtered by account, and querying only metrics the exporter serves."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no types-jsonschema stubs in the dev set
import pytest

from tests.deploy.catalog import ROOT, grafana_generator, not_in_golden, unknown_names
from tests.deploy.promql import metric_names, variable_query_metric_names

DASHBOARD_DIR = ROOT / "grafana" / "dashboards"
SCHEMA = json.loads((Path(__file__).parent / "grafana-dashboard.schema.json").read_text())
ACCOUNT_FILTER = 'account=~"$account"'


def committed() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARD_DIR.glob("*.json"))}


DASHBOARDS = committed()


def data_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return (p for p in dashboard["panels"] if p["type"] != "row")


def queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for panel in data_panels(dashboard):
        for target in panel["targets"]:
            yield f"{panel['title']} {target['refId']}", target["expr"]


def variable_queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            yield variable["name"], variable["query"]["query"]


def test_the_committed_dashboards_are_what_the_generator_writes() -> None:
    generator = grafana_generator()
    generated = generator.dashboards()
    assert sorted(generated) == sorted(DASHBOARDS), "run: python grafana/generate.py"
    for name, dashboard in generated.items():
        text = (DASHBOARD_DIR / name).read_text()
        assert text == generator.render(dashboard), f"{name} is stale: run python grafana/generate.py"


def test_the_four_dashboards_exist_with_distinct_uids() -> None:
    assert {d["uid"] for d in DASHBOARDS.values()} == {
        "digitalocean-overview", "digitalocean-cost", "digitalocean-inventory", "digitalocean-exporter"
    }


def test_the_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_validates_against_the_schema(name: str) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(DASHBOARDS[name])


def _break_unit(d: dict[str, Any]) -> None:
    del next(data_panels(d))["fieldConfig"]["defaults"]["unit"]


def _break_description(d: dict[str, Any]) -> None:
    next(data_panels(d))["description"] = " "


def _break_datasource(d: dict[str, Any]) -> None:
    next(data_panels(d))["datasource"] = {"type": "prometheus", "uid": "prometheus"}


def _break_schema_version(d: dict[str, Any]) -> None:
    d["schemaVersion"] = 39


def _drop_account_variable(d: dict[str, Any]) -> None:
    d["templating"]["list"] = [v for v in d["templating"]["list"] if v["name"] != "account"]


def _break_target(d: dict[str, Any]) -> None:
    del next(data_panels(d))["targets"][0]["expr"]


def _unknown_key(d: dict[str, Any]) -> None:
    next(data_panels(d))["datsource"] = {}


@pytest.mark.parametrize("breakage", [
    _break_unit, _break_description, _break_datasource, _break_schema_version,
    _drop_account_variable, _break_target, _unknown_key,
])
def test_the_schema_rejects_a_broken_dashboard(breakage: Any) -> None:
    dashboard = copy.deepcopy(DASHBOARDS["digitalocean-overview.json"])
    breakage(dashboard)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(dashboard)


@pytest.mark.parametrize("name", DASHBOARDS)
def test_panel_ids_are_unique(name: str) -> None:
    ids = [p["id"] for p in DASHBOARDS[name]["panels"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", DASHBOARDS)
def test_panels_do_not_overlap_and_fit_the_grid(name: str) -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in DASHBOARDS[name]["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


@pytest.mark.parametrize("name", DASHBOARDS)
def test_every_panel_sits_under_a_row(name: str) -> None:
    panels = DASHBOARDS[name]["panels"]
    assert panels[0]["type"] == "row"
    assert all(p["gridPos"]["y"] >= panels[0]["gridPos"]["y"] for p in panels)


@pytest.mark.parametrize("name", DASHBOARDS)
def test_every_query_is_filtered_by_account(name: str) -> None:
    unfiltered = [where for where, expr in queries(DASHBOARDS[name]) if ACCOUNT_FILTER not in expr]
    assert unfiltered == []


@pytest.mark.parametrize("name", DASHBOARDS)
def test_every_query_names_only_metrics_the_exporter_serves(name: str) -> None:
    problems = {}
    for where, expr in [*queries(DASHBOARDS[name]), *variable_queries(DASHBOARDS[name])]:
        names = variable_query_metric_names(expr) if expr.startswith("label_values(") else (
            metric_names(expr))
        assert names, f"{where}: no metric in {expr}"
        if unknown := unknown_names(names):
            problems[where] = f"unknown {sorted(unknown)}"
        elif missing := not_in_golden(names):
            problems[where] = f"not in the golden expositions {sorted(missing)}"
    assert problems == {}


@pytest.mark.parametrize("name", DASHBOARDS)
def test_variables(name: str) -> None:
    variables = {v["name"]: v for v in DASHBOARDS[name]["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    account = variables["account"]
    assert (account["multi"], account["includeAll"], account["allValue"]) == (True, True, ".*")
    assert account["definition"] == account["query"]["query"]
    # every variable a query uses is defined
    used = {v for _, expr in queries(DASHBOARDS[name]) for v in ("account", "region")
            if f"${v}" in expr}
    assert used <= set(variables)


def test_thresholds_follow_the_alert_thresholds() -> None:
    """A change in thresholds.json moves the dashboards' lines with the alerts."""
    generator = grafana_generator()
    limits = generator.load_limits()
    changed = generator.dashboards(type(limits)(**{**limits.__dict__, "account_limit_ratio": 0.5}))
    overview = json.dumps(changed["digitalocean-overview.json"])
    assert '"orange", "value": 0.5' in overview
    assert '"orange", "value": 0.5' not in json.dumps(DASHBOARDS["digitalocean-overview.json"])
