"""The Grafana dashboards: generated, valid against the schema of the model they use, laid out
without overlaps, filtered by account, querying only metrics the exporter serves, coloured where
a value is bad, and linked from the Overview's tiles to the details."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no types-jsonschema stubs in the dev set
import pytest

from exporter.collectors import COLLECTORS
from tests.deploy.catalog import ROOT, grafana_generator, not_in_golden, unknown_names
from tests.deploy.promql import metric_names, variable_query_metric_names

DASHBOARD_DIR = ROOT / "grafana" / "dashboards"
SCHEMA = json.loads((Path(__file__).parent / "grafana-dashboard.schema.json").read_text())
ACCOUNT_FILTER = 'account=~"$account"'
TARGET_FILTER = 'job=~"$job",instance=~"$instance"'
# Prometheus' own series about a scrape target: they have no account, only job and instance.
PROMETHEUS_SERIES = frozenset({"up", "scrape_duration_seconds"})


def committed() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARD_DIR.glob("*.json"))}


DASHBOARDS = committed()


def data_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return (p for p in dashboard["panels"] if p["type"] != "row")


def queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Every PromQL query: the panels' targets and the Prometheus annotations."""
    for panel in data_panels(dashboard):
        for target in panel["targets"]:
            yield f"{panel['title']} {target['refId']}", target["expr"]
    for annotation in dashboard["annotations"]["list"]:
        if "expr" in annotation:
            yield f"annotation {annotation['name']}", annotation["expr"]


def test_the_dashboards_that_show_resources_mark_resizes_power_events_and_destroys() -> None:
    marked = {name: [a for a in d["annotations"]["list"] if "expr" in a]
              for name, d in DASHBOARDS.items()}
    assert sorted(name for name, found in marked.items() if found) == [
        "digitalocean-inventory.json", "digitalocean-overview.json"]
    [annotation] = marked["digitalocean-overview.json"]
    assert metric_names(annotation["expr"]) == {"digitalocean_actions_total"}
    assert 'type=~"resize|power_off|power_on|power_cycle|shutdown|reboot|destroy"' in annotation["expr"]
    assert annotation["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


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


def test_the_five_dashboards_exist_with_distinct_uids() -> None:
    assert sorted(d["uid"] for d in DASHBOARDS.values()) == sorted([
        "digitalocean-overview", "digitalocean-cost", "digitalocean-inventory",
        "digitalocean-exporter", "digitalocean-droplet-resources",
    ])


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


def _external_link(d: dict[str, Any]) -> None:
    next(data_panels(d))["links"] = [{"title": "x", "url": "https://example.com/"}]


@pytest.mark.parametrize("breakage", [
    _break_unit, _break_description, _break_datasource, _break_schema_version,
    _drop_account_variable, _break_target, _unknown_key, _external_link,
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
    """...or, for Prometheus' own series about the exporter's targets, by job and instance (`up`
    has no account; `.*` for All would match every other target too)."""
    unfiltered = [where for where, expr in queries(DASHBOARDS[name])
                  if ACCOUNT_FILTER not in expr
                  and not (metric_names(expr) <= PROMETHEUS_SERIES and TARGET_FILTER in expr)]
    assert unfiltered == []


@pytest.mark.parametrize("name", DASHBOARDS)
def test_every_query_names_only_metrics_the_exporter_serves(name: str) -> None:
    problems = {}
    for where, expr in [*queries(DASHBOARDS[name]), *variable_queries(DASHBOARDS[name])]:
        names = variable_query_metric_names(expr) if expr.startswith("label_values(") else (
            metric_names(expr))
        assert names, f"{where}: no metric in {expr}"
        names -= PROMETHEUS_SERIES
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
    used = {v for _, expr in queries(DASHBOARDS[name])
            for v in ("account", "region", "job", "instance") if f"${v}" in expr}
    assert used <= set(variables)


def test_thresholds_follow_the_alert_thresholds() -> None:
    """A change in thresholds.json moves the dashboards' lines with the alerts."""
    generator = grafana_generator()
    limits = generator.load_limits()
    changed = generator.dashboards(type(limits)(**{**limits.__dict__, "account_limit_ratio": 0.5}))
    overview = json.dumps(changed["digitalocean-overview.json"])
    assert '"orange", "value": 0.5' in overview
    assert '"orange", "value": 0.5' not in json.dumps(DASHBOARDS["digitalocean-overview.json"])


def panels_by_title(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {panel["title"]: panel for panel in data_panels(dashboard)}


def row_panels(dashboard: dict[str, Any], title: str) -> list[dict[str, Any]]:
    """The data panels under the row `title`."""
    found, inside = [], False
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            inside = panel["title"] == title
        elif inside:
            found.append(panel)
    return found


def test_the_overview_attention_tiles_link_to_the_dashboards_that_list_the_problems() -> None:
    uids = {d["uid"] for d in DASHBOARDS.values()}
    tiles = row_panels(DASHBOARDS["digitalocean-overview.json"], "Needs attention")
    targets = {}
    for tile in tiles:
        links = tile["links"]
        # the header link and the data link (a click on the value) say the same
        assert tile["fieldConfig"]["defaults"]["links"] == links
        [link] = links
        uid = re.fullmatch(r"/d/([\w-]+)\?(.*)", link["url"])
        assert uid, link["url"]
        assert uid.group(1) in uids
        # the time range, data source and selected accounts go along
        assert set(uid.group(2).split("&")) == {
            "${__url_time_range}", "${datasource:queryparam}", "${account:queryparam}"}
        targets[tile["title"]] = uid.group(1)
    assert targets == {"Broken": "digitalocean-inventory", "Paying for nothing": "digitalocean-cost",
                       "Exporter": "digitalocean-exporter"}


def test_the_exporter_health_dashboard_has_job_and_instance_and_a_scrape_health_row() -> None:
    dashboard = DASHBOARDS["digitalocean-exporter.json"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    for name in ("job", "instance"):
        # All is the values found, never .*: `up{job=~".*"}` is every target Prometheus has
        assert (variables[name]["multi"], variables[name]["includeAll"]) == (True, True)
        assert variables[name]["allValue"] is None
    assert variables["instance"]["query"]["query"].startswith(
        'label_values(digitalocean_exporter_build_info{job=~"$job"}')
    scrape = row_panels(dashboard, "Scrape")
    metrics = set().union(*(metric_names(t["expr"]) for p in scrape for t in p["targets"]))
    assert {"up", "scrape_duration_seconds", "digitalocean_collector_success"} <= metrics
    # every query of the dashboard follows the job and instance variables
    assert [where for where, expr in queries(dashboard) if TARGET_FILTER not in expr] == []


def test_the_inventory_lists_what_was_created_in_the_time_range() -> None:
    """Every resource with a creation time and a named `_info` series is in the panel, so a new
    product cannot be forgotten."""
    families = {f.name: f for c in COLLECTORS for f in c.families}
    expected = set()
    for name in families:
        prefix = name.removesuffix("_created_timestamp_seconds")
        info = families.get(f"{prefix}_info")
        if prefix != name and info is not None and "name" in info.labels:
            expected.add(f"{prefix}_created_timestamp_seconds")
    panel = panels_by_title(DASHBOARDS["digitalocean-inventory.json"])["Created in the time range"]
    [target] = panel["targets"]
    assert metric_names(target["expr"]) & set(families) >= expected
    assert "> time() - $__range_s" in target["expr"]
    assert len(expected) >= 10


def colours(panel: dict[str, Any]) -> set[str]:
    """Every colour a panel can show by value: its thresholds, and its overrides' thresholds and
    value mappings."""
    found = {step["color"] for step in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]}
    for override in panel["fieldConfig"]["overrides"]:
        for prop in override["properties"]:
            if prop["id"] == "thresholds":
                found |= {step["color"] for step in prop["value"]["steps"]}
            elif prop["id"] == "mappings":
                found |= set(re.findall(r'"color": "(\w+)"', json.dumps(prop["value"])))
    return found


@pytest.mark.parametrize("name", DASHBOARDS)
def test_a_panel_about_an_alert_turns_a_colour_where_it_fires(name: str) -> None:
    """A panel whose description names an alert is the place someone looks when it fires: it
    must colour the bad values, not show everything green."""
    about_alerts = [p for p in data_panels(DASHBOARDS[name])
                    if re.search(r"DigitalOcean[A-Z]\w+", p["description"])]
    assert [p["title"] for p in about_alerts if colours(p) <= {"green", "text"}] == []


@pytest.mark.parametrize(("dashboard", "title", "column"), [
    ("digitalocean-exporter.json", "Tokens", "Expires in"),
    ("digitalocean-inventory.json", "Certificates", "Expires in"),
    ("digitalocean-exporter.json", "Collectors", "Data age (intervals)"),
    ("digitalocean-inventory.json", "Uptime checks", "30-day uptime"),
])
def test_columns_with_a_warning_and_a_critical_colour(dashboard: str, title: str, column: str) -> None:
    panel = panels_by_title(DASHBOARDS[dashboard])[title]
    [steps] = [prop["value"]["steps"] for o in panel["fieldConfig"]["overrides"]
               if o["matcher"]["options"] == column for prop in o["properties"]
               if prop["id"] == "thresholds"]
    assert {"orange", "red", "green"} <= {step["color"] for step in steps}
    values = [step["value"] for step in steps[1:]]
    assert values == sorted(values)


@pytest.mark.parametrize(("dashboard", "title"), [
    ("digitalocean-overview.json", "Account limits in use"),
    ("digitalocean-exporter.json", "Budget used"),
    ("digitalocean-exporter.json", "Rate limit left"),
    ("digitalocean-exporter.json", "Scrape duration"),
    ("digitalocean-exporter.json", "Collectors succeeding"),
    ("digitalocean-exporter.json", "Request duration (95th percentile)"),
])
def test_panels_with_a_warning_and_a_critical_colour(dashboard: str, title: str) -> None:
    steps = panels_by_title(DASHBOARDS[dashboard])[title]["fieldConfig"]["defaults"]["thresholds"]
    assert {"orange", "red", "green"} <= {step["color"] for step in steps["steps"]}


def test_the_token_expiry_colours_follow_the_alert_threshold() -> None:
    generator = grafana_generator()
    limits = generator.load_limits()
    expires = panels_by_title(DASHBOARDS["digitalocean-exporter.json"])["Tokens"]
    [steps] = [prop["value"]["steps"] for o in expires["fieldConfig"]["overrides"]
               if o["matcher"]["options"] == "Expires in" for prop in o["properties"]
               if prop["id"] == "thresholds"]
    assert steps == [{"color": "red", "value": None}, {"color": "orange", "value": 3 * 86400},
                     {"color": "green", "value": limits.token_expiry_seconds}]


def test_the_overview_waste_tiles_honour_the_alerts_opt_outs() -> None:
    """A Droplet tagged `keep` or a snapshot named `...-keep` is left out of the alert, and so of
    the tile that would otherwise stay orange for it forever."""
    generator = grafana_generator()
    limits = generator.load_limits()
    tiles = panels_by_title(DASHBOARDS["digitalocean-overview.json"])["Paying for nothing"]
    exprs = {t["legendFormat"]: t["expr"] for t in tiles["targets"]}
    assert f'digitalocean_droplet_tag_info{{tag="{limits.waste_ignore_tag}"}}' in exprs["Droplets off"]
    [snapshots] = [e for legend, e in exprs.items() if legend.startswith("Snapshots older")]
    assert f'digitalocean_snapshot_info{{name=~"{limits.snapshot_keep_name}"}}' in snapshots
