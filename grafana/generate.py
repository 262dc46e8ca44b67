"""Writes the Grafana dashboards of digitalocean-exporter into grafana/dashboards/.

    python grafana/generate.py              # rewrite grafana/dashboards/*.json
    python grafana/generate.py --markdown   # print the panel list of every dashboard

The dashboards use Grafana's classic dashboard JSON model, pinned at schemaVersion 41 (the
version Grafana 12 writes): Grafana migrates older models up when it loads them, never newer
ones down, so pinning the newest we validate against keeps the files importable as they are.
Every panel queries the Prometheus picked in the `datasource` variable and filters by the
`account` variable (Prometheus' own series about the exporter's target, `up` and `scrape_*`, by
the `job` and `instance` variables instead); thresholds come from
deploy/prometheus/thresholds.json, the same file the alerts are generated from, so a dashboard
turns orange or red where an alert fires.

The builders below (stat, timeseries, bargauge, table, row) produce plain dicts; `layout` places
panels on Grafana's 24-column grid row by row. Standard library only.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "dashboards"
THRESHOLDS_PATH = HERE.parent / "deploy" / "prometheus" / "thresholds.json"

SCHEMA_VERSION = 41  # Grafana 12
GRID_WIDTH = 24
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
ACCOUNT = 'account=~"$account"'
TARGET = 'job=~"$job",instance=~"$instance"'
TAGS = ["digitalocean", "digitalocean-exporter"]

JSON = dict[str, Any]


# --- thresholds shared with the alerts --------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """The alert thresholds the panels colour by (deploy/prometheus/thresholds.json)."""

    token_expiry_seconds: int
    certificate_expiry_seconds: int
    snapshot_max_age_seconds: int
    account_limit_ratio: float
    registry_storage_ratio: float
    rate_limit_remaining_ratio: float
    budget_used_ratio: float
    data_stale_intervals: float
    balance_owed_usd: float
    waste_ignore_tag: str
    snapshot_keep_name: str
    droplet_cpu_busy_ratio: float = 0.9
    droplet_memory_available_ratio: float = 0.1


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def seconds(duration: str) -> int:
    number, unit = duration[:-1], duration[-1]
    if not number.isdigit() or unit not in _UNITS:
        raise ValueError(f"{duration!r} is not a duration in one unit, such as 15m or 7d")
    return int(number) * _UNITS[unit]


def load_limits(path: Path = THRESHOLDS_PATH) -> Limits:
    values = {name: spec["value"] for name, spec in json.loads(path.read_text())["thresholds"].items()}
    return Limits(
        token_expiry_seconds=seconds(values["token_expiry_warning"]),
        certificate_expiry_seconds=seconds(values["certificate_expiry_warning"]),
        snapshot_max_age_seconds=seconds(values["snapshot_max_age"]),
        account_limit_ratio=float(values["account_limit_ratio"]),
        registry_storage_ratio=float(values["registry_storage_ratio"]),
        rate_limit_remaining_ratio=float(values["api_rate_limit_remaining_ratio"]),
        budget_used_ratio=float(values["api_budget_used_ratio"]),
        data_stale_intervals=float(values["data_stale_intervals"]),
        balance_owed_usd=float(values["balance_owed_usd"]),
        waste_ignore_tag=str(values["waste_ignore_tag"]),
        snapshot_keep_name=str(values["snapshot_keep_name"]),
        droplet_cpu_busy_ratio=float(values["droplet_cpu_busy_ratio"]),
        droplet_memory_available_ratio=float(values["droplet_memory_available_ratio"]),
    )


# --- panel builders ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One Prometheus target. `instant` for a value now (stats, bars, tables), else a range."""

    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False


@dataclass(frozen=True)
class Panel:
    """A panel before layout: everything but its id and position."""

    body: JSON
    width: int
    height: int


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...]


Step = tuple[str, float | None]


def steps(*pairs: Step) -> JSON:
    """Absolute thresholds; the first step's value is None (everything below the next)."""
    return {"mode": "absolute", "steps": [{"color": color, "value": value} for color, value in pairs]}


OK_ONLY = steps(("green", None))
RED_FROM_ONE = steps(("green", None), ("red", 1))
ORANGE_FROM_ONE = steps(("green", None), ("orange", 1))
# An expiry (a token's, a certificate's): red within 3 days, orange within the alert's warning.
CRITICAL_EXPIRY_SECONDS = 3 * 86400


def expiry_steps(warning_seconds: int) -> JSON:
    return steps(("red", None), ("orange", min(CRITICAL_EXPIRY_SECONDS, warning_seconds)),
                 ("green", warning_seconds))


def text_colours(*pairs: tuple[str, str], otherwise: str | None = None) -> list[JSON]:
    """Value mappings for a text column (a state label): (text, colour) pairs, and the colour of
    any other text."""
    mappings: list[JSON] = [{"type": "value", "options": {
        text: {"color": color, "index": index} for index, (text, color) in enumerate(pairs)
    }}]
    if otherwise is not None:
        mappings.append({"type": "regex", "options": {
            "pattern": ".+", "result": {"color": otherwise, "index": len(pairs)}}})
    return mappings


def by_name(name: str, thresholds: JSON) -> JSON:
    """A field override: the series (bar, line) named `name` colours by `thresholds`."""
    return {"matcher": {"id": "byName", "options": name},
            "properties": [{"id": "thresholds", "value": thresholds}]}


def dashboard_link(title: str, uid: str) -> JSON:
    """A link to another dashboard of ours, keeping the time range, data source and accounts."""
    return {"title": title, "targetBlank": False,
            "url": f"/d/{uid}?${{__url_time_range}}&${{datasource:queryparam}}&${{account:queryparam}}"}


def value_map(*pairs: tuple[int, str, str]) -> list[JSON]:
    """Value mappings: (value, text, colour)."""
    return [{"type": "value", "options": {
        str(value): {"text": text, "color": color, "index": index}
        for index, (value, text, color) in enumerate(pairs)
    }}]


def _targets(queries: Sequence[Query]) -> list[JSON]:
    targets = []
    for index, query in enumerate(queries):
        targets.append({
            "datasource": DATASOURCE,
            "refId": chr(ord("A") + index),
            "expr": query.expr,
            "legendFormat": query.legend or "__auto",
            "instant": query.instant,
            "range": not query.instant,
            "format": "table" if query.table else "time_series",
            "editorMode": "code",
        })
    return targets


def _panel(kind: str, title: str, description: str, unit: str, queries: Sequence[Query],
           *, thresholds: JSON, options: JSON, custom: JSON | None = None,
           extra_defaults: JSON | None = None, overrides: Sequence[JSON] = (),
           transformations: Sequence[JSON] = (), links: Sequence[JSON] = ()) -> JSON:
    defaults: JSON = {
        "unit": unit,
        "color": {"mode": "thresholds"},
        "thresholds": thresholds,
        "mappings": [],
    }
    if custom is not None:
        defaults["custom"] = custom
    if links:
        # data links: a click on a value opens the detail; the panel links say the same in its header
        defaults["links"] = list(links)
    defaults.update(extra_defaults or {})
    body: JSON = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": _targets(queries),
        "fieldConfig": {"defaults": defaults, "overrides": list(overrides)},
        "options": options,
    }
    if transformations:
        body["transformations"] = list(transformations)
    if links:
        body["links"] = list(links)
    return body


_REDUCE_LAST = {"calcs": ["lastNotNull"], "fields": "", "values": False}


def stat(title: str, description: str, unit: str, *queries: Query, width: int = 6,
         height: int = 4, thresholds: JSON = OK_ONLY, mappings: Sequence[JSON] = (),
         decimals: int | None = None, background: bool = False,
         links: Sequence[JSON] = ()) -> Panel:
    extra: JSON = {"mappings": list(mappings)}
    if decimals is not None:
        extra["decimals"] = decimals
    body = _panel(
        "stat", title, description, unit, queries, thresholds=thresholds, extra_defaults=extra,
        links=links,
        options={
            "reduceOptions": _REDUCE_LAST,
            "orientation": "auto",
            "textMode": "value_and_name" if len(queries) > 1 else "auto",
            "colorMode": "background" if background else "value",
            "graphMode": "none",
            "justifyMode": "auto",
            "wideLayout": True,
            "showPercentChange": False,
        },
    )
    return Panel(body, width, height)


def timeseries(title: str, description: str, unit: str, *queries: Query, width: int = 12,
               height: int = 8, thresholds: JSON = OK_ONLY, threshold_lines: bool = False,
               stacked: bool = False, minimum: float | None = None) -> Panel:
    custom: JSON = {
        "drawStyle": "line",
        "lineWidth": 1,
        "fillOpacity": 10,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"mode": "normal" if stacked else "none", "group": "A"},
        "thresholdsStyle": {"mode": "dashed" if threshold_lines else "off"},
    }
    extra: JSON = {"color": {"mode": "palette-classic"}}
    if minimum is not None:
        extra["min"] = minimum
    body = _panel(
        "timeseries", title, description, unit, queries, thresholds=thresholds, custom=custom,
        extra_defaults=extra,
        options={
            "legend": {"displayMode": "table", "placement": "bottom", "showLegend": True,
                       "calcs": ["lastNotNull", "max"]},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    )
    return Panel(body, width, height)


def bargauge(title: str, description: str, unit: str, *queries: Query, width: int = 8,
             height: int = 8, thresholds: JSON = OK_ONLY, minimum: float | None = 0,
             maximum: float | None = None, overrides: Sequence[JSON] = ()) -> Panel:
    extra: JSON = {}
    if minimum is not None:
        extra["min"] = minimum
    if maximum is not None:
        extra["max"] = maximum
    body = _panel(
        "bargauge", title, description, unit, queries, thresholds=thresholds,
        extra_defaults=extra, overrides=overrides,
        options={
            "reduceOptions": _REDUCE_LAST,
            "orientation": "horizontal",
            "displayMode": "gradient",
            "valueMode": "color",
            "namePlacement": "auto",
            "showUnfilled": True,
            "sizing": "auto",
            "minVizHeight": 16,
            "minVizWidth": 8,
            "maxVizHeight": 300,
        },
    )
    return Panel(body, width, height)


@dataclass(frozen=True)
class Column:
    """A table column: a label of the series, or the value of a query (`Value #A` ...)."""

    field: str
    title: str
    unit: str | None = None
    thresholds: JSON | None = None
    mappings: Sequence[JSON] = ()


def value(ref: str = "A") -> str:
    return f"Value #{ref}"


def table(title: str, description: str, unit: str, queries: Sequence[Query],
          columns: Sequence[Column], *, width: int = 24, height: int = 8,
          sort_by: str | None = None, descending: bool = True) -> Panel:
    """A table of instant queries, one row per series, merged on their common labels.

    Grafana names the value of each query `Value #<refId>`; labels keep their names. Columns
    not listed are dropped, so a new label on a series never widens the table.
    """
    instant = [Query(q.expr, q.legend, instant=True, table=True) for q in queries]
    overrides = []
    for column in columns:
        properties: list[JSON] = []
        if column.unit is not None:
            properties.append({"id": "unit", "value": column.unit})
        if column.thresholds is not None:
            properties += [{"id": "thresholds", "value": column.thresholds},
                           {"id": "custom.cellOptions", "value": {"type": "color-text"}}]
        if column.mappings:
            properties.append({"id": "mappings", "value": list(column.mappings)})
            if column.thresholds is None:
                properties.append({"id": "custom.cellOptions", "value": {"type": "color-text"}})
        if properties:
            overrides.append({"matcher": {"id": "byName", "options": column.title},
                              "properties": properties})
    # A single query's value is named "Value #A" only when it is merged with another.
    fields = [c.field if len(queries) > 1 or not c.field.startswith("Value #") else "Value"
              for c in columns]
    transformations: list[JSON] = []
    if len(queries) > 1:
        transformations.append({"id": "merge", "options": {}})
    transformations += [
        {"id": "filterFieldsByName", "options": {"include": {"names": fields}}},
        {"id": "organize", "options": {
            "excludeByName": {},
            "indexByName": {name: index for index, name in enumerate(fields)},
            "renameByName": {name: c.title for name, c in zip(fields, columns, strict=True)},
        }},
    ]
    options: JSON = {"showHeader": True, "cellHeight": "sm",
                     "footer": {"show": False, "reducer": ["sum"], "fields": "", "countRows": False}}
    if sort_by is not None:
        options["sortBy"] = [{"displayName": sort_by, "desc": descending}]
    body = _panel("table", title, description, unit, instant, thresholds=OK_ONLY,
                  custom={"align": "auto", "cellOptions": {"type": "auto"}, "inspect": False},
                  overrides=overrides, transformations=transformations, options=options)
    return Panel(body, width, height)


def row(title: str, *panels: Panel) -> Row:
    return Row(title, panels)


def layout(rows: Iterable[Row]) -> list[JSON]:
    """Ids and grid positions: each row a header, its panels left to right, wrapping at 24."""
    placed: list[JSON] = []
    next_id, y = 1, 0
    for group in rows:
        placed.append({"type": "row", "title": group.title, "id": next_id, "collapsed": False,
                       "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y}, "panels": []})
        next_id, y = next_id + 1, y + 1
        x, line_height = 0, 0
        for panel in group.panels:
            if x + panel.width > GRID_WIDTH:
                x, y, line_height = 0, y + line_height, 0
            placed.append({"id": next_id,
                           "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
                           **panel.body})
            next_id += 1
            x += panel.width
            line_height = max(line_height, panel.height)
        y += line_height
    return placed


# --- variables and the dashboard ---------------------------------------------------------------


def datasource_variable() -> JSON:
    return {"type": "datasource", "name": "datasource", "label": "Data source", "query": "prometheus",
            "current": {}, "hide": 0, "includeAll": False, "multi": False, "options": [],
            "refresh": 1, "regex": "", "skipUrlSync": False}


def query_variable(name: str, label: str, query: str, description: str,
                   all_value: str | None = ".*") -> JSON:
    """A multi-value variable with All; `all_value` None makes All the list of the values found
    (for a label such as `job`, where `.*` would also match every other target)."""
    return {
        "type": "query", "name": name, "label": label, "description": description,
        "datasource": DATASOURCE, "definition": query,
        "query": {"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2, "multi": True, "includeAll": True, "allValue": all_value,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [], "regex": "", "sort": 1, "hide": 0, "skipUrlSync": False,
    }


# The token metrics exist for every configured account, whatever its token may read.
ACCOUNT_VARIABLE = query_variable(
    "account", "Account", "label_values(digitalocean_token_valid, account)",
    "Accounts of the exporter (the `name` of each account in its configuration).",
)
# The jobs and instances that scrape an exporter: build_info is served whatever the accounts.
JOB_VARIABLE = query_variable(
    "job", "Job", "label_values(digitalocean_exporter_build_info, job)",
    "Prometheus scrape jobs of the exporter (thresholds.json `exporter_job`, `digitalocean` by "
    "default).", all_value=None,
)
INSTANCE_VARIABLE = query_variable(
    "instance", "Instance", 'label_values(digitalocean_exporter_build_info{job=~"$job"}, instance)',
    "Exporter targets of the selected jobs (an HA pair, or one exporter per Prometheus replica).",
    all_value=None,
)
TAG_VARIABLE = query_variable(
    "tag", "Tag", 'label_values(digitalocean_droplet_tag_info{account=~"$account"}, tag)',
    "Droplets carrying one of the selected tags (All: every Droplet, untagged ones included).",
)
DROPLET_VARIABLE = query_variable(
    "droplet", "Droplet",
    'label_values(digitalocean_droplet_info{account=~"$account",region=~"$region"}, name)',
    "Droplets by name (the Monitoring API panels show only the Droplets droplet_metrics watches).",
)
REGION_VARIABLE = query_variable(
    "region", "Region", 'label_values(digitalocean_droplet_info{account=~"$account"}, region)',
    "Regions the selected accounts run Droplets in; filters the resources that have a region.",
)


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    rows: tuple[Row, ...]
    time_from: str = "now-7d"
    refresh: str = "1m"
    variables: tuple[JSON, ...] = field(default=(ACCOUNT_VARIABLE,))
    annotations: tuple[JSON, ...] = ()  # Prometheus annotations beside Grafana's own

    def to_json(self) -> JSON:
        return {
            "annotations": {"list": [{
                "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                "name": "Annotations & Alerts", "type": "dashboard",
            }, *self.annotations]},
            "description": self.description,
            "editable": True,
            "fiscalYearStartMonth": 0,
            "graphTooltip": 1,
            "id": None,
            "links": [{"title": "DigitalOcean", "type": "dashboards", "tags": ["digitalocean"],
                       "asDropdown": True, "includeVars": True, "keepTime": True,
                       "icon": "external link", "targetBlank": False, "tooltip": "", "url": ""}],
            "panels": layout(self.rows),
            "refresh": self.refresh,
            "schemaVersion": SCHEMA_VERSION,
            "tags": TAGS,
            "templating": {"list": [datasource_variable(), *self.variables]},
            "time": {"from": self.time_from, "to": "now"},
            "timepicker": {},
            "timezone": "utc",
            "title": self.title,
            "uid": self.uid,
            "version": 1,
            "weekStart": "",
        }


# --- the dashboards -----------------------------------------------------------------------------

OVERVIEW_UID = "digitalocean-overview"
COST_UID = "digitalocean-cost"
INVENTORY_UID = "digitalocean-inventory"
EXPORTER_UID = "digitalocean-exporter"
RESOURCES_UID = "digitalocean-droplet-resources"

USD = "currencyUSD"


MARKED_ACTIONS = "resize|power_off|power_on|power_cycle|shutdown|reboot|destroy"
"""Action types the dashboards mark: what changes a Droplet's size, power or existence."""


def action_annotation() -> JSON:
    """Resizes, power events and destroys, marked where `digitalocean_actions_total` grew: one
    mark per account and type for each minute the counter rose in the 5 minutes before (the
    collector counts an action when a poll sees it finished)."""
    return {
        "datasource": DATASOURCE,
        "enable": True,
        "hide": False,
        "iconColor": "rgba(255, 152, 48, 1)",
        "name": "Resizes, power events and destroys",
        "expr": (
            f'sum by (account, type, status) (increase(digitalocean_actions_total{{{ACCOUNT},'
            f'type=~"{MARKED_ACTIONS}"}}[5m])) > 0'
        ),
        "step": "1m",
        "titleFormat": "{{type}} {{status}}",
        "textFormat": "{{account}}: {{type}} {{status}}",
        "tagKeys": "account,type,status",
        "useValueForTime": False,
    }


def by_account(expr: str) -> str:
    # max, not sum: two exporters serving the same account (an HA pair) are not twice the money
    return f"max by (account) ({expr})"


def count_or_zero(expr: str) -> str:
    # count() of nothing is no series at all; a problem count of 0 should read 0, not "No data"
    return f"count({expr}) or vector(0)"


def unattached_volumes() -> str:
    return (f"digitalocean_volume_info{{{ACCOUNT}}} "
            "unless on (account, volume_id) digitalocean_volume_attached_droplet_info")


def failed_app_deployments() -> str:
    return (f'(digitalocean_app_in_progress_deployment_status{{{ACCOUNT},status="error"}} == 1) '
            f"or ((digitalocean_app_last_deployment_created_timestamp_seconds{{{ACCOUNT}}} "
            "> bool digitalocean_app_last_deployment_timestamp_seconds) == 1 "
            "unless on (account, app_id) digitalocean_app_in_progress_deployment_status)")


def limit_ratio(resource: str, info: str, limit: str) -> Query:
    return Query(f"count by (account) ({info}{{{ACCOUNT}}}) "
                 f"/ on (account) max by (account) ({limit}{{{ACCOUNT}}} > 0)",
                 f"{{{{account}}}} {resource}", instant=True)


# Resources with a creation time and a name: (what the panels call them, metric prefix, id label).
CREATED_KINDS = (
    ("Droplet", "digitalocean_droplet", "droplet_id"),
    ("Autoscale pool", "digitalocean_droplet_autoscale_pool", "autoscale_pool_id"),
    ("Volume", "digitalocean_volume", "volume_id"),
    ("Snapshot", "digitalocean_snapshot", "snapshot_id"),
    ("Image", "digitalocean_image", "image_id"),
    ("NFS share", "digitalocean_nfs_share", "nfs_share_id"),
    ("NFS snapshot", "digitalocean_nfs_snapshot", "nfs_snapshot_id"),
    ("Load balancer", "digitalocean_load_balancer", "load_balancer_id"),
    ("Kubernetes cluster", "digitalocean_kubernetes_cluster", "kubernetes_cluster_id"),
    ("Database", "digitalocean_database", "database_id"),
    ("Vector database", "digitalocean_vector_database", "vector_database_id"),
    ("App", "digitalocean_app", "app_id"),
    ("Firewall", "digitalocean_firewall", "firewall_id"),
    ("VPC", "digitalocean_vpc", "vpc_id"),
    ("VPC peering", "digitalocean_vpc_peering", "vpc_peering_id"),
    ("NAT gateway", "digitalocean_nat_gateway", "nat_gateway_id"),
    ("Spaces key", "digitalocean_spaces_key", "spaces_key_id"),
    ("Certificate", "digitalocean_certificate", "certificate_id"),
    ("Project", "digitalocean_project", "project_id"),
    ("GenAI agent", "digitalocean_genai_agent", "agent_id"),
    ("Knowledge base", "digitalocean_genai_knowledge_base", "knowledge_base_id"),
    ("Dedicated inference", "digitalocean_dedicated_inference", "dedicated_inference_id"),
)


def created_in_range() -> str:
    """Every object created in the dashboard's time range, labelled with its `kind` and `name`;
    the value is its creation time in milliseconds (Grafana's time unit)."""
    parts = []
    for kind, prefix, id_label in CREATED_KINDS:
        parts.append(
            f'label_replace(max by (account, {id_label}) ({prefix}_created_timestamp_seconds{{{ACCOUNT}}} '
            f"> time() - $__range_s) * on (account, {id_label}) group_left (name) "
            f'max by (account, {id_label}, name) ({prefix}_info{{{ACCOUNT}}}), "kind", "{kind}", "", "")'
        )
    return "1000 * (\n  " + "\nor\n  ".join(parts) + "\n)"


def overview(limits: Limits) -> Dashboard:
    spend = row(
        "Spend",
        stat("Month to date", "Usage charged so far this billing period, as DigitalOcean's balance "
             "reports it, summed over the selected accounts.", USD,
             Query(f"sum({by_account(f'digitalocean_balance_month_to_date_usage_usd{{{ACCOUNT}}}')})",
                   "Month to date", instant=True)),
        stat("Forecast", "Month-to-date usage extrapolated over the whole calendar month, summed "
             "over the selected accounts.", USD,
             Query(f"sum({by_account(f'digitalocean_month_forecast_usd{{{ACCOUNT}}}')})",
                   "Forecast", instant=True)),
        stat("Last month's invoice", "The invoice of the previous calendar month (recording rule "
             "digitalocean:invoice_amount_usd:last_month in alerts.yml), summed over the selected "
             "accounts.", USD,
             Query(f"sum(digitalocean:invoice_amount_usd:last_month{{{ACCOUNT}}})",
                   "Last month", instant=True)),
        stat("Balance", "Account balance without this month's usage: positive is money owed, "
             "negative is credit. Red when money is owed.", USD,
             Query(f"sum({by_account(f'digitalocean_balance_account_usd{{{ACCOUNT}}}')})",
                   "Balance", instant=True),
             thresholds=steps(("green", None), ("red", limits.balance_owed_usd + 0.01))),
        table("Accounts", "Per account: usage so far this month, the month-end forecast, last "
              "month's invoice, the budget set in budgets.yml (empty without one) and the balance "
              "(positive is owed).", USD,
              [Query(by_account(f"digitalocean_balance_month_to_date_usage_usd{{{ACCOUNT}}}")),
               Query(by_account(f"digitalocean_month_forecast_usd{{{ACCOUNT}}}")),
               Query(f"digitalocean:invoice_amount_usd:last_month{{{ACCOUNT}}}"),
               Query(by_account(f"digitalocean:month_budget_usd{{{ACCOUNT}}}")),
               Query(by_account(f"digitalocean_balance_account_usd{{{ACCOUNT}}}"))],
              [Column("account", "Account"), Column(value("A"), "Month to date"),
               Column(value("B"), "Forecast"), Column(value("C"), "Last month"),
               Column(value("D"), "Budget"), Column(value("E"), "Balance")],
              width=12, height=8, sort_by="Forecast"),
        timeseries("Spend this month", "Usage so far this month, the month-end forecast and last "
                   "month's invoice, per account. Usage resets on the first of the month.", USD,
                   Query(by_account(f"digitalocean_balance_month_to_date_usage_usd{{{ACCOUNT}}}"),
                         "{{account}} month to date"),
                   Query(by_account(f"digitalocean_month_forecast_usd{{{ACCOUNT}}}"),
                         "{{account}} forecast"),
                   Query(f"digitalocean:invoice_amount_usd:last_month{{{ACCOUNT}}}",
                         "{{account}} last month"),
                   width=12, height=8, minimum=0),
    )
    resources = row(
        "Resources",
        stat("Resources", "How many of each resource the selected accounts have now.", "none",
             *(Query(count_or_zero(f"{metric}{{{ACCOUNT}}}"), title, instant=True)
               for title, metric in (
                   ("Droplets", "digitalocean_droplet_info"),
                   ("Volumes", "digitalocean_volume_info"),
                   ("Snapshots", "digitalocean_snapshot_info"),
                   ("Images", "digitalocean_image_info"),
                   ("NFS shares", "digitalocean_nfs_share_info"),
                   ("Reserved IPs", "digitalocean_reserved_ip_info"),
                   ("Load balancers", "digitalocean_load_balancer_info"),
                   ("Kubernetes clusters", "digitalocean_kubernetes_cluster_info"),
                   ("Databases", "digitalocean_database_info"),
                   ("Apps", "digitalocean_app_info"),
               )),
             width=14, height=6),
        bargauge("Account limits in use", "Share of each account's Droplet, volume and reserved IP "
                 f"limit in use; DigitalOceanAccountLimitNearlyReached fires above "
                 f"{limits.account_limit_ratio:.0%}.", "percentunit",
                 limit_ratio("Droplets", "digitalocean_droplet_info", "digitalocean_account_droplet_limit"),
                 limit_ratio("volumes", "digitalocean_volume_info", "digitalocean_account_volume_limit"),
                 limit_ratio("reserved IPs", "digitalocean_reserved_ip_info",
                             "digitalocean_account_reserved_ip_limit"),
                 width=10, height=6, maximum=1,
                 thresholds=steps(("green", None), ("orange", limits.account_limit_ratio), ("red", 1))),
    )
    days = limits.snapshot_max_age_seconds // 86400
    attention = row(
        "Needs attention",
        stat("Broken", "Resources in a state that has an alert: each tile counts them (0 is good). "
             "Click a tile for the Inventory dashboard, which lists them.",
             "none",
             Query(f'sum(digitalocean_load_balancer_status{{{ACCOUNT},status="errored"}}) or vector(0)',
                   "Load balancers errored", instant=True),
             Query(f'sum(digitalocean_kubernetes_cluster_status{{{ACCOUNT},status=~"degraded|error"}}) '
                   "or vector(0)", "Kubernetes clusters unhealthy", instant=True),
             Query(count_or_zero(f"digitalocean_kubernetes_node_pool_nodes{{{ACCOUNT}}} "
                                 "< digitalocean_kubernetes_node_pool_min_nodes"),
                   "Node pools below minimum", instant=True),
             Query(f'sum(digitalocean_database_status{{{ACCOUNT},status!="online"}}) or vector(0)',
                   "Databases not online", instant=True),
             Query(count_or_zero(failed_app_deployments()), "App deployments failed", instant=True),
             Query(count_or_zero(f"digitalocean_certificate_expiry_timestamp_seconds{{{ACCOUNT}}} "
                                 f"- time() < {limits.certificate_expiry_seconds}"),
                   "Certificates expiring", instant=True),
             Query(f'sum(digitalocean_certificate_status{{{ACCOUNT},status="error"}}) or vector(0)',
                   "Certificates in error", instant=True),
             Query(count_or_zero(f"digitalocean_uptime_check_up{{{ACCOUNT}}} == 0"),
                   "Uptime checks down (by region)", instant=True),
             width=24, height=4, thresholds=RED_FROM_ONE, background=True,
             links=[dashboard_link("Inventory: every resource and its state", INVENTORY_UID)]),
        stat("Paying for nothing", "Billed resources nobody uses: Droplets powered off, volumes "
             f"attached to nothing, unassigned reserved IPv4 addresses, snapshots older than {days} "
             "days. Like the alerts, the tiles leave out Droplets tagged "
             f"{limits.waste_ignore_tag} and snapshots named {limits.snapshot_keep_name} "
             "(kept on purpose). Click a tile for the Cost dashboard, which lists everything "
             "billed with its price.", "none",
             Query(f'sum(digitalocean_droplet_status{{{ACCOUNT},status="off"}} '
                   "unless on (account, droplet_id) "
                   f'digitalocean_droplet_tag_info{{tag="{limits.waste_ignore_tag}"}}) or vector(0)',
                   "Droplets off", instant=True),
             Query(count_or_zero(unattached_volumes()), "Unattached volumes", instant=True),
             Query(count_or_zero(f"digitalocean_reserved_ip_assigned{{{ACCOUNT}}} == 0"),
                   "Unassigned reserved IPs", instant=True),
             Query(count_or_zero(f"(time() - digitalocean_snapshot_created_timestamp_seconds{{{ACCOUNT}}} "
                                 f"> {limits.snapshot_max_age_seconds}) "
                                 "unless on (account, snapshot_id) "
                                 f'digitalocean_snapshot_info{{name=~"{limits.snapshot_keep_name}"}}'),
                   f"Snapshots older than {days} days", instant=True),
             width=14, height=4, thresholds=ORANGE_FROM_ONE, background=True,
             links=[dashboard_link("Cost: what is billed but unused, with its price", COST_UID)]),
        stat("Exporter", "Collectors failing (enabled ones only), collectors disabled for a missing "
             "read scope, and tokens DigitalOcean rejected. Click a tile for the Exporter health "
             "dashboard, which has the details.", "none",
             Query(count_or_zero(f"(digitalocean_collector_success{{{ACCOUNT}}} == 0) "
                                 "and on (account, collector) (digitalocean_collector_enabled == 1)"),
                   "Collectors failing", instant=True),
             Query(count_or_zero(f"digitalocean_collector_enabled{{{ACCOUNT}}} == 0"),
                   "Collectors disabled", instant=True),
             Query(count_or_zero(f"digitalocean_token_valid{{{ACCOUNT}}} == 0"),
                   "Tokens rejected", instant=True),
             width=10, height=4, thresholds=RED_FROM_ONE, background=True,
             links=[dashboard_link("Exporter health: collectors, API and tokens", EXPORTER_UID)]),
    )
    return Dashboard(
        uid=OVERVIEW_UID,
        title="DigitalOcean / Overview",
        description="Per account: spend against forecast, last invoice and budget, what runs, "
                    "and anything broken or billed for nothing.",
        rows=(spend, resources, attention),
        annotations=(action_annotation(),),
    )


def cost(limits: Limits) -> Dashboard:
    days = limits.snapshot_max_age_seconds // 86400
    month = row(
        "This month",
        stat("Estimated cost so far", "The exporter's estimate of this month's cost so far, "
             "summed over every priced resource (recording rule "
             "digitalocean:month_to_date_cost_usd:sum_by_account).", USD,
             Query(f"sum(digitalocean:month_to_date_cost_usd:sum_by_account{{{ACCOUNT}}})",
                   "Estimate", instant=True)),
        stat("Invoice preview", "DigitalOcean's own preview of this month's invoice.", USD,
             Query(f"sum({by_account(f'digitalocean_invoice_preview_amount_usd{{{ACCOUNT}}}')})",
                   "Invoice preview", instant=True)),
        stat("Estimate minus invoice preview", "Positive: the estimate is higher than DigitalOcean's "
             "preview. Resources destroyed earlier in the month, bandwidth and unpriced products "
             "make it negative; a large gap means the price table needs an override.", USD,
             Query(f"sum(digitalocean:cost_estimate_drift_usd{{{ACCOUNT}}})", "Drift", instant=True)),
        stat("Run rate", "List price per month of everything that runs now: what a full month "
             "costs if nothing changes (recording rule digitalocean:price_monthly_usd:sum_by_product).",
             USD,
             Query(f"sum(digitalocean:price_monthly_usd:sum_by_product{{{ACCOUNT}}})",
                   "Run rate", instant=True)),
        timeseries("Estimate, invoice preview and forecast", "Per account: the exporter's estimate "
                   "so far, DigitalOcean's invoice preview and the month-end forecast.", USD,
                   Query(f"digitalocean:month_to_date_cost_usd:sum_by_account{{{ACCOUNT}}}",
                         "{{account}} estimate"),
                   Query(by_account(f"digitalocean_invoice_preview_amount_usd{{{ACCOUNT}}}"),
                         "{{account}} invoice preview"),
                   Query(by_account(f"digitalocean_month_forecast_usd{{{ACCOUNT}}}"),
                         "{{account}} forecast"),
                   width=24, height=8, minimum=0),
    )
    breakdown = row(
        "Where the money goes",
        bargauge("By product", "Estimated cost so far this month by product (recording rule "
                 "digitalocean:month_to_date_cost_usd:sum_by_product).", USD,
                 Query("sort_desc(sum by (product) "
                       f"(digitalocean:month_to_date_cost_usd:sum_by_product{{{ACCOUNT}}}))",
                       "{{product}}", instant=True)),
        bargauge("By region", "Estimated cost so far this month by region (recording rule "
                 "digitalocean:month_to_date_cost_usd:sum_by_region; snapshots have no single "
                 "region and are left out).", USD,
                 Query("sort_desc(sum by (region) "
                       f"(digitalocean:month_to_date_cost_usd:sum_by_region{{{ACCOUNT}}}))",
                       "{{region}}", instant=True)),
        bargauge("By project", "Estimated cost so far this month by project (recording rule "
                 "digitalocean:month_to_date_cost_usd:sum_by_project; snapshots and the registry "
                 "belong to no project).", USD,
                 Query("sort_desc(sum by (account, name) "
                       f"(digitalocean:month_to_date_cost_usd:sum_by_project{{{ACCOUNT}}} "
                       "* on (account, project_id) group_left (name) "
                       "max by (account, project_id, name) (digitalocean_project_info)))",
                       "{{account}} / {{name}}", instant=True)),
        bargauge("By tag", "Estimated cost so far this month of tagged Droplets and their backups, "
                 "by tag (recording rule digitalocean:month_to_date_cost_usd:sum_by_tag). A "
                 "Droplet with two tags counts under both, so tags do not add up to the total.", USD,
                 Query("sort_desc(sum by (tag) "
                       f"(digitalocean:month_to_date_cost_usd:sum_by_tag{{{ACCOUNT}}}))",
                       "{{tag}}", instant=True)),
        bargauge("Run rate by product", "List price per month of what runs now, by product.", USD,
                 Query("sort_desc(sum by (product) "
                       f"(digitalocean:price_monthly_usd:sum_by_product{{{ACCOUNT}}}))",
                       "{{product}}", instant=True)),
        bargauge("Last invoice by product", "The latest invoice's charges per product, as "
                 "DigitalOcean billed them (digitalocean_invoice_product_charges_usd).", USD,
                 Query(f"sort_desc(sum by (product) (max by (account, product) "
                       f"(digitalocean_invoice_product_charges_usd{{{ACCOUNT}}})))",
                       "{{product}}", instant=True)),
        timeseries("Estimated cost by product", "Estimated cost so far this month by product, over "
                   "time: the slope is the spend rate.", USD,
                   Query("sum by (product) "
                         f"(digitalocean:month_to_date_cost_usd:sum_by_product{{{ACCOUNT}}})",
                         "{{product}}"),
                   width=24, height=8, stacked=True, minimum=0),
    )
    top = row(
        "Most expensive",
        table("Top 10 Droplets by cost this month", "The Droplets with the highest estimated cost "
              "so far this month, with their list price per month (Kubernetes nodes are priced "
              "with their node pool, not here).", USD,
              [Query(f"topk(10, digitalocean_droplet_month_to_date_cost_usd{{{ACCOUNT}}} "
                     "* on (account, droplet_id) group_left (name, region, size) "
                     "digitalocean_droplet_info)"),
               Query(f"digitalocean_droplet_price_monthly_usd{{{ACCOUNT}}} "
                     "and on (account, droplet_id) "
                     f"topk(10, digitalocean_droplet_month_to_date_cost_usd{{{ACCOUNT}}})")],
              [Column("account", "Account"), Column("name", "Droplet"), Column("region", "Region"),
               Column("size", "Size"), Column(value("A"), "Cost this month"),
               Column(value("B"), "Price per month")],
              width=12, height=9, sort_by="Cost this month"),
        table("Yesterday's top costs (Billing Insights)", "What DigitalOcean billed for the last "
              "complete day, by SKU and resource (its name; the SKU says its size), and the "
              "group it belongs to, such as a Kubernetes cluster: the ten largest items.", USD,
              [Query(f"topk(10, digitalocean_billing_insight_cost_usd{{{ACCOUNT}}})")],
              [Column("account", "Account"), Column("resource", "Resource"),
               Column("group", "Group"), Column("region", "Region"), Column("sku", "SKU"),
               Column(value("A"), "Cost")],
              width=12, height=9, sort_by="Cost"),
    )
    waste = row(
        "Waste: billed, unused",
        stat("Waste per month", "List price per month of what is billed but unused: Droplets that "
             "are off, volumes attached to nothing, unassigned reserved IPv4 addresses and "
             f"snapshots older than {days} days.", USD,
             Query(f'(sum(digitalocean_droplet_price_monthly_usd{{{ACCOUNT}}} '
                   'and on (account, droplet_id) (digitalocean_droplet_status{status="off"} == 1)) '
                   "or vector(0)) "
                   f"+ (sum(digitalocean_volume_price_monthly_usd{{{ACCOUNT}}} "
                   f"and on (account, volume_id) ({unattached_volumes()})) or vector(0)) "
                   f"+ (sum(digitalocean_reserved_ip_price_monthly_usd{{{ACCOUNT}}} "
                   "and on (account, reserved_ip) (digitalocean_reserved_ip_assigned == 0)) "
                   "or vector(0)) "
                   f"+ (sum(digitalocean_snapshot_price_monthly_usd{{{ACCOUNT}}} "
                   "and on (account, snapshot_id) (time() - digitalocean_snapshot_created_timestamp_seconds "
                   f"> {limits.snapshot_max_age_seconds})) or vector(0))",
                   "Waste", instant=True),
             width=4, height=8, thresholds=steps(("green", None), ("orange", 1))),
        table("Droplets off, still billed", "Powered-off Droplets are billed at their full price.",
              USD,
              [Query(f"digitalocean_droplet_price_monthly_usd{{{ACCOUNT}}} "
                     "* on (account, droplet_id) group_left (name, region, size) digitalocean_droplet_info "
                     'and on (account, droplet_id) (digitalocean_droplet_status{status="off"} == 1)')],
              [Column("account", "Account"), Column("name", "Droplet"), Column("region", "Region"),
               Column("size", "Size"), Column(value("A"), "Price per month")],
              width=10, height=8, sort_by="Price per month"),
        table("Volumes attached to nothing", "Volumes are billed for their size whether or not a "
              "Droplet uses them.", USD,
              [Query(f"digitalocean_volume_price_monthly_usd{{{ACCOUNT}}} "
                     "* on (account, volume_id) group_left (name, region) "
                     f"({unattached_volumes()})")],
              [Column("account", "Account"), Column("name", "Volume"), Column("region", "Region"),
               Column(value("A"), "Price per month")],
              width=10, height=8, sort_by="Price per month"),
        table("Unassigned reserved IPs", "Reserved IPv4 addresses are billed while they are "
              "assigned to no Droplet.", USD,
              [Query(f"digitalocean_reserved_ip_price_monthly_usd{{{ACCOUNT}}} "
                     "* on (account, reserved_ip) group_left (region) digitalocean_reserved_ip_info "
                     "and on (account, reserved_ip) (digitalocean_reserved_ip_assigned == 0)")],
              [Column("account", "Account"), Column("reserved_ip", "Address"),
               Column("region", "Region"), Column(value("A"), "Price per month")],
              width=10, height=8, sort_by="Price per month"),
        table(f"Snapshots older than {days} days", "Snapshots are billed by the GiB every month; "
              "old ones are often forgotten.", USD,
              [Query(f"digitalocean_snapshot_price_monthly_usd{{{ACCOUNT}}} "
                     "* on (account, snapshot_id) group_left (name, resource_type) "
                     "digitalocean_snapshot_info and on (account, snapshot_id) "
                     "(time() - digitalocean_snapshot_created_timestamp_seconds "
                     f"> {limits.snapshot_max_age_seconds})"),
               Query(f"time() - digitalocean_snapshot_created_timestamp_seconds{{{ACCOUNT}}} "
                     f"> {limits.snapshot_max_age_seconds}")],
              [Column("account", "Account"), Column("name", "Snapshot"),
               Column("resource_type", "Of a"), Column(value("B"), "Age", unit="dtdurations"),
               Column(value("A"), "Price per month")],
              width=14, height=8, sort_by="Price per month"),
    )
    return Dashboard(
        uid=COST_UID,
        title="DigitalOcean / Cost",
        description="This month's cost by product, region, project and tag, the most expensive "
                    "Droplets, and what is billed but unused.",
        rows=(month, breakdown, top, waste),
        time_from="now/M",
    )


def inventory(limits: Limits) -> Dashboard:
    region = 'region=~"$region"'
    droplet_in_region = f"digitalocean_droplet_info{{{ACCOUNT},{region}}}"
    droplets = row(
        "Droplets",
        stat("Droplets", "Droplets in the selected accounts and regions, GPU Droplets and "
             "Kubernetes nodes included.", "none",
             Query(count_or_zero(droplet_in_region), "Droplets", instant=True), width=4),
        stat("vCPUs", "vCPUs of those Droplets.", "none",
             Query(f"sum(digitalocean_droplet_vcpus{{{ACCOUNT}}} "
                   f"* on (account, droplet_id) group_left () {droplet_in_region}) or vector(0)",
                   "vCPUs", instant=True), width=4),
        stat("Memory", "Memory of those Droplets.", "bytes",
             Query(f"sum(digitalocean_droplet_memory_bytes{{{ACCOUNT}}} "
                   f"* on (account, droplet_id) group_left () {droplet_in_region}) or vector(0)",
                   "Memory", instant=True), width=4),
        bargauge("By status", "Droplets by status: off Droplets are still billed (orange), "
                 "archived ones are not.", "none",
                 Query(f"sum by (status) (digitalocean_droplet_status{{{ACCOUNT}}} "
                       f"* on (account, droplet_id) group_left () {droplet_in_region})",
                       "{{status}}", instant=True),
                 width=12, height=4, overrides=[by_name("off", ORANGE_FROM_ONE)]),
        bargauge("By region", "Droplets per region.", "none",
                 Query(f"sort_desc(count by (region) ({droplet_in_region}))", "{{region}}",
                       instant=True), width=8),
        bargauge("By size", "Droplets per size slug.", "none",
                 Query(f"sort_desc(count by (size) ({droplet_in_region}))", "{{size}}",
                       instant=True), width=8),
        timeseries("Droplets over time", "Droplets per account over time.", "none",
                   Query(f"count by (account) ({droplet_in_region})", "{{account}}"),
                   width=8, minimum=0),
    )
    volumes = row(
        "Volumes and snapshots",
        bargauge("Volume storage by region", "Size of the volumes per region.", "bytes",
                 Query(f"sort_desc(sum by (region) (digitalocean_volume_size_bytes{{{ACCOUNT}}} "
                       "* on (account, volume_id) group_left (region) "
                       f"digitalocean_volume_info{{{region}}}))", "{{region}}", instant=True)),
        table("Volumes", "Every volume, its size and the Droplet it is attached to (empty: "
              "attached to none).", "bytes",
              [Query(f"digitalocean_volume_size_bytes{{{ACCOUNT}}} "
                     "* on (account, volume_id) group_left (name, region) "
                     f"digitalocean_volume_info{{{region}}}"),
               Query(f"digitalocean_volume_attached_droplet_info{{{ACCOUNT}}}")],
              [Column("account", "Account"), Column("name", "Volume"), Column("region", "Region"),
               Column(value("A"), "Size"), Column("droplet_id", "Attached to Droplet")],
              width=8, height=8, sort_by="Size"),
        bargauge("Snapshots by age", f"Snapshots by age; DigitalOceanSnapshotOld reports those "
                 f"older than {limits.snapshot_max_age_seconds // 86400} days.", "none",
                 Query(count_or_zero(f"time() - digitalocean_snapshot_created_timestamp_seconds"
                                     f"{{{ACCOUNT}}} < 30 * 86400"), "under 30 days", instant=True),
                 Query(count_or_zero(f"(time() - digitalocean_snapshot_created_timestamp_seconds"
                                     f"{{{ACCOUNT}}} >= 30 * 86400) "
                                     f"< {limits.snapshot_max_age_seconds}"),
                       f"30 to {limits.snapshot_max_age_seconds // 86400} days", instant=True),
                 Query(count_or_zero(f"time() - digitalocean_snapshot_created_timestamp_seconds"
                                     f"{{{ACCOUNT}}} >= {limits.snapshot_max_age_seconds}"),
                       f"over {limits.snapshot_max_age_seconds // 86400} days", instant=True),
                 thresholds=OK_ONLY, overrides=[by_name(
                     f"over {limits.snapshot_max_age_seconds // 86400} days", ORANGE_FROM_ONE)]),
    )
    cluster_in_region = f"digitalocean_kubernetes_cluster_info{{{ACCOUNT},{region}}}"
    kubernetes = row(
        "Kubernetes",
        table("Clusters", "Kubernetes clusters, their version, state and whether the control "
              "plane is highly available.", "none",
              [Query(f"(digitalocean_kubernetes_cluster_status{{{ACCOUNT}}} == 1) "
                     "* on (account, kubernetes_cluster_id) group_left (name, region, version) "
                     f"{cluster_in_region}"),
               Query(f"digitalocean_kubernetes_cluster_ha{{{ACCOUNT}}}")],
              [Column("account", "Account"), Column("name", "Cluster"), Column("region", "Region"),
               Column("version", "Version"),
               Column("status", "State", mappings=text_colours(
                   ("running", "green"), ("degraded", "red"), ("error", "red"), otherwise="orange")),
               Column(value("B"), "HA", mappings=value_map((1, "yes", "green"), (0, "no", "text")))],
              width=12, height=7),
        table("Node pools", "Nodes each pool is set to run, with the autoscaler's bounds (empty "
              "for pools that do not auto-scale).", "none",
              [Query(f"digitalocean_kubernetes_node_pool_nodes{{{ACCOUNT}}} "
                     "* on (account, kubernetes_cluster_id, node_pool_id) group_left (name, size) "
                     "digitalocean_kubernetes_node_pool_info"),
               Query(f"digitalocean_kubernetes_node_pool_min_nodes{{{ACCOUNT}}}"),
               Query(f"digitalocean_kubernetes_node_pool_max_nodes{{{ACCOUNT}}}")],
              [Column("account", "Account"), Column("name", "Pool"), Column("size", "Size"),
               Column(value("A"), "Nodes"), Column(value("B"), "Min"), Column(value("C"), "Max")],
              width=12, height=7),
        bargauge("Nodes by state", "Kubernetes worker nodes by state: running is green, any "
                 "other state orange.", "none",
                 Query(f"sum by (status) (digitalocean_kubernetes_node_status{{{ACCOUNT}}})",
                       "{{status}}", instant=True), width=12, height=5,
                 thresholds=ORANGE_FROM_ONE, overrides=[by_name("running", OK_ONLY)]),
        bargauge("Clusters by state", "Kubernetes clusters by state: running is green, degraded "
                 "and error red (DigitalOceanKubernetesClusterUnhealthy), any other state orange.",
                 "none",
                 Query(f"sum by (status) (digitalocean_kubernetes_cluster_status{{{ACCOUNT}}} "
                       f"* on (account, kubernetes_cluster_id) group_left () {cluster_in_region})",
                       "{{status}}", instant=True), width=12, height=5,
                 thresholds=ORANGE_FROM_ONE,
                 overrides=[by_name("running", OK_ONLY), by_name("degraded", RED_FROM_ONE),
                            by_name("error", RED_FROM_ONE)]),
    )
    databases = row(
        "Databases, apps and load balancers",
        table("Database clusters", "Managed database clusters, their engine, size, nodes and "
              "status.", "none",
              [Query(f"(digitalocean_database_status{{{ACCOUNT}}} == 1) "
                     "* on (account, database_id) group_left (name, engine, version, region, size) "
                     f"digitalocean_database_info{{{region}}}"),
               Query(f"digitalocean_database_nodes{{{ACCOUNT}}}"),
               Query(f"digitalocean_database_storage_bytes{{{ACCOUNT}}}")],
              [Column("account", "Account"), Column("name", "Cluster"), Column("engine", "Engine"),
               Column("version", "Version"), Column("region", "Region"), Column("size", "Size"),
               Column("status", "Status", mappings=text_colours(("online", "green"),
                                                                otherwise="orange")),
               Column(value("B"), "Nodes"),
               Column(value("C"), "Additional storage", unit="bytes")],
              width=24, height=7),
        table("Apps", "App Platform apps and the phase of their active deployment (an app's "
              "region is an App Platform region, not a Droplet region, so the region filter "
              "does not apply).", "none",
              [Query(f"(digitalocean_app_active_deployment_status{{{ACCOUNT}}} == 1) "
                     "* on (account, app_id) group_left (name, region, tier) digitalocean_app_info"),
               Query(f"digitalocean_app_last_deployment_timestamp_seconds{{{ACCOUNT}}} * 1000")],
              [Column("account", "Account"), Column("name", "App"), Column("region", "Region"),
               Column("tier", "Tier"), Column("status", "Active deployment"),
               Column(value("B"), "Live since", unit="dateTimeAsIso")],
              width=12, height=7),
        table("Load balancers", "Load balancers, their status, nodes and backend Droplets.", "none",
              [Query(f"(digitalocean_load_balancer_status{{{ACCOUNT}}} == 1) "
                     "* on (account, load_balancer_id) group_left (name, region, type) "
                     f"digitalocean_load_balancer_info{{{region}}}"),
               Query(f"digitalocean_load_balancer_nodes{{{ACCOUNT}}}"),
               Query(f"digitalocean_load_balancer_droplets{{{ACCOUNT}}}")],
              [Column("account", "Account"), Column("name", "Load balancer"),
               Column("region", "Region"), Column("type", "Type"),
               Column("status", "Status", mappings=text_colours(
                   ("active", "green"), ("errored", "red"), otherwise="orange")),
               Column(value("B"), "Nodes"), Column(value("C"), "Droplets")],
              width=12, height=7),
    )
    edges = row(
        "Certificates and uptime checks",
        table("Certificates", "TLS certificates and the time left before they expire; orange "
              f"within {limits.certificate_expiry_seconds // 86400} days "
              "(DigitalOceanCertificateExpiringSoon), red within "
              f"{min(CRITICAL_EXPIRY_SECONDS, limits.certificate_expiry_seconds) // 86400} days; "
              "a state of error is red (DigitalOceanCertificateError).", "dtdurations",
              [Query(f"digitalocean_certificate_expiry_timestamp_seconds{{{ACCOUNT}}} - time()"),
               Query(f"(digitalocean_certificate_status{{{ACCOUNT}}} == 1) "
                     "* on (account, certificate_id) group_left (name, type) "
                     "digitalocean_certificate_info")],
              [Column("account", "Account"), Column("name", "Certificate"), Column("type", "Type"),
               Column("status", "State", mappings=text_colours(
                   ("verified", "green"), ("error", "red"), otherwise="orange")),
               Column(value("A"), "Expires in",
                      thresholds=expiry_steps(limits.certificate_expiry_seconds))],
              width=12, height=7, sort_by="Expires in", descending=False),
        table("Uptime checks", "DigitalOcean uptime checks: up or down from each region "
              "(DigitalOceanUptimeCheckDown), and the share of the last 30 days the target was "
              "up: orange below 99.9 %, red below 99 %.", "none",
              [Query(f"digitalocean_uptime_check_up{{{ACCOUNT}}} "
                     "* on (account, uptime_check_id) group_left (name, target) "
                     "digitalocean_uptime_check_info"),
               Query(f"digitalocean_uptime_check_thirty_day_uptime_ratio{{{ACCOUNT}}}")],
              [Column("account", "Account"), Column("name", "Check"), Column("target", "Target"),
               Column("region", "From"),
               Column(value("A"), "Now", mappings=value_map((1, "up", "green"), (0, "down", "red"))),
               Column(value("B"), "30-day uptime", unit="percentunit", thresholds=steps(
                   ("red", None), ("orange", 0.99), ("green", 0.999)))],
              width=12, height=7, sort_by="Now", descending=False),
    )
    changes = row(
        "What changed in the time range",
        stat("Created", "Objects created in the dashboard's time range, by kind (widen the time "
             "range to look further back). The region filter does not apply.", "none",
             Query(f"count by (kind) ({created_in_range()})", "{{kind}}", instant=True),
             Query(count_or_zero(created_in_range()), "Total", instant=True),
             width=8, height=8),
        table("Created in the time range", "Every Droplet, autoscale pool, volume, snapshot, "
              "load balancer, Kubernetes cluster, database, app, firewall, VPC, certificate, "
              "project, GenAI agent, knowledge base and dedicated inference endpoint created in "
              "the dashboard's time range, newest first. The region filter does not apply.",
              "dateTimeAsIso",
              [Query(created_in_range())],
              [Column("account", "Account"), Column("kind", "Kind"), Column("name", "Name"),
               Column(value("A"), "Created", unit="dateTimeAsIso")],
              width=16, height=8, sort_by="Created"),
    )
    return Dashboard(
        uid=INVENTORY_UID,
        title="DigitalOcean / Inventory",
        description="What runs: Droplets by region, size and status, volumes, snapshots by age, "
                    "Kubernetes, databases, apps, load balancers, certificates and uptime checks, "
                    "and what was created in the time range.",
        rows=(droplets, volumes, kubernetes, databases, edges, changes),
        annotations=(action_annotation(),),
        variables=(ACCOUNT_VARIABLE, REGION_VARIABLE),
    )


def selected_droplets() -> str:
    """The Droplets of the account, region, tag and name variables, one series each, carrying
    `name` (to join onto any series with a `droplet_id`). A Droplet without tags is selected
    only while the tag variable selects every tag (All)."""
    info = f'digitalocean_droplet_info{{{ACCOUNT},region=~"$region",name=~"$droplet"}}'
    tags = "digitalocean_droplet_tag_info"
    all_tags = (f'(count({tags}{{{ACCOUNT},tag=~"$tag"}}) or vector(0)) '
                f"== (count({tags}{{{ACCOUNT}}}) or vector(0))")
    return (f"max by (account, droplet_id, name) ({info} and on (account, droplet_id) "
            f'({tags}{{tag=~"$tag"}} or on (account, droplet_id) '
            f"(digitalocean_droplet_info unless on (account, droplet_id) {tags}) and on () "
            f"({all_tags})))")


def per_droplet(expr: str) -> str:
    """`expr` (series with account and droplet_id) for the selected Droplets, with their name."""
    return f"({expr}) * on (account, droplet_id) group_left (name) {selected_droplets()}"


CPU = "digitalocean_droplet_cpu_seconds_total"
RATE = "[15m]"  # the Monitoring API collectors poll every 5 minutes by default: 3 polls


def droplet_resources(limits: Limits) -> Dashboard:
    busy = (f'1 - sum by (account, droplet_id) (rate({CPU}{{{ACCOUNT},mode="idle"}}{RATE})) '
            f"/ sum by (account, droplet_id) (rate({CPU}{{{ACCOUNT}}}{RATE}))")
    busy_modes = f'rate({CPU}{{{ACCOUNT},mode!="idle"}}{RATE})'
    newest = f"digitalocean_droplet_metric_timestamp_seconds{{{ACCOUNT}}}"
    received = f"digitalocean_droplet_network_receive_bytes_per_second{{{ACCOUNT}}}"
    sent = f"digitalocean_droplet_public_transmit_month_to_date_bytes{{{ACCOUNT}}}"
    memory_used = (f"1 - digitalocean_droplet_memory_available_bytes{{{ACCOUNT}}} "
                   f"/ digitalocean_droplet_memory_total_bytes{{{ACCOUNT}}}")
    disk_used = (f"1 - digitalocean_droplet_filesystem_free_bytes{{{ACCOUNT}}} "
                 f"/ digitalocean_droplet_filesystem_size_bytes{{{ACCOUNT}}}")
    cpu_limit = limits.droplet_cpu_busy_ratio
    memory_limit = 1 - limits.droplet_memory_available_ratio
    overview = row(
        "Droplets at a glance (Monitoring API, droplet_metrics)",
        stat("Watched Droplets", "Selected Droplets with Monitoring API data (the droplet_metrics "
             "collector's selection).", "none",
             Query(count_or_zero(per_droplet(f"max by (account, droplet_id) ({newest})")),
                   "Droplets", instant=True), width=4),
        stat("CPU saturated", "Watched Droplets busier than the DigitalOceanDropletCPUSaturated "
             "threshold.", "none",
             Query(count_or_zero(per_droplet(f"({busy}) > {cpu_limit}")), "Droplets", instant=True),
             width=4, thresholds=ORANGE_FROM_ONE),
        stat("Memory low", "Watched Droplets with less memory available than the "
             "DigitalOceanDropletMemoryLow threshold.", "none",
             Query(count_or_zero(per_droplet(f"({memory_used}) > {memory_limit}")), "Droplets",
                   instant=True), width=4, thresholds=ORANGE_FROM_ONE),
        stat("Newest data", "Age of the newest Monitoring API point of the watched Droplets; "
             "DigitalOcean's own data is usually a minute or more old, plus the poll interval.",
             "s", Query(f"time() - max(digitalocean_droplet_metric_timestamp_seconds{{{ACCOUNT}}})",
                        "age", instant=True), width=4),
        stat("Oldest data", "Age of the oldest newest point among the watched Droplets' metric "
             "groups: a Droplet whose agent stopped reporting shows here.", "s",
             Query(f"time() - min(digitalocean_droplet_metric_timestamp_seconds{{{ACCOUNT}}})",
                   "age", instant=True), width=4),
        stat("Stretched", "How much the request planner stretched the Monitoring API "
             "collectors' intervals to fit the budget (1: not stretched).", "s",
             Query(f'max(digitalocean_collector_interval_seconds{{{ACCOUNT},collector="droplet_metrics"}})',
                   "interval", instant=True), width=4),
    )
    cpu = row(
        "CPU and load",
        timeseries("CPU busy by Droplet", "Share of the time the Droplet's CPUs were not idle "
                   "(from the cumulative CPU seconds the metrics agent reports).", "percentunit",
                   Query(per_droplet(busy), "{{name}}"), minimum=0,
                   thresholds=steps(("green", None), ("orange", cpu_limit)), threshold_lines=True),
        timeseries("CPU by mode", "CPU seconds per second of the selected Droplets by mode: "
                   "steal is time a neighbour took, iowait time waiting for the disk.", "none",
                   Query(f"sum by (mode) ({per_droplet(busy_modes)})", "{{mode}}"),
                   stacked=True, minimum=0),
        timeseries("Load average (1 minute)", "Runnable and waiting processes; above the vCPU "
                   "count, work queues.", "none",
                   Query(per_droplet(f"digitalocean_droplet_load1{{{ACCOUNT}}}"), "{{name}}"),
                   minimum=0),
        timeseries("Load average (15 minutes)", "The slow trend of the load.", "none",
                   Query(per_droplet(f"digitalocean_droplet_load15{{{ACCOUNT}}}"), "{{name}}"),
                   minimum=0),
    )
    memory = row(
        "Memory and disk",
        timeseries("Memory used", "Share of the Droplet's memory not available to new programs "
                   "(1 - MemAvailable / MemTotal).", "percentunit",
                   Query(per_droplet(memory_used), "{{name}}"), minimum=0,
                   thresholds=steps(("green", None), ("orange", memory_limit)), threshold_lines=True),
        timeseries("Page cache", "Memory the kernel uses to cache files (freed when needed).",
                   "bytes", Query(per_droplet(f"digitalocean_droplet_memory_cached_bytes{{{ACCOUNT}}}"),
                                  "{{name}}"), minimum=0),
        timeseries("Filesystem used", "Share of each filesystem in use.", "percentunit",
                   Query(per_droplet(disk_used), "{{name}} {{mountpoint}}"), minimum=0),
        table("Filesystems filling up", "Filesystems whose free space shrank over the last 6 "
              "hours, and when they would be full at that pace.", "s",
              [Query(per_droplet(
                  f"digitalocean_droplet_filesystem_free_bytes{{{ACCOUNT}}} / "
                  f"-deriv(digitalocean_droplet_filesystem_free_bytes{{{ACCOUNT}}}[6h]) > 0")),
               Query(per_droplet(disk_used))],
              [Column("account", "Account"), Column("name", "Droplet"),
               Column("mountpoint", "Mount point"),
               Column(value("A"), "Full in", unit="s"),
               Column(value("B"), "Used", unit="percentunit")],
              width=12, sort_by="Full in", descending=False),
    )
    network = row(
        "Network and the bandwidth bill",
        timeseries("Public outbound", "Bytes per second each Droplet sends on its public "
                   "interface: what counts against the transfer pool.", "Bps",
                   Query(per_droplet(f'digitalocean_droplet_network_transmit_bytes_per_second{{{ACCOUNT},interface="public"}}'),
                         "{{name}}"), minimum=0),
        timeseries("Inbound", "Bytes per second each Droplet receives (free), by interface.",
                   "Bps", Query(per_droplet(received), "{{name}} {{interface}}"), minimum=0),
        stat("Transfer this month", "Outbound public transfer of the watched Droplets so far "
             "this month, against the pool the account's Droplets accrued.", "bytes",
             Query(by_account(f"digitalocean_transfer_month_to_date_bytes{{{ACCOUNT}}}"),
                   "{{account}} sent", instant=True),
             Query(by_account(f"digitalocean_transfer_pool_accrued_bytes{{{ACCOUNT}}}"),
                   "{{account}} accrued", instant=True), width=8),
        stat("Month-end forecast", "Outbound transfer forecast for the month against the "
             "month's pool (if every Droplet stays).", "bytes",
             Query(by_account(f"digitalocean_transfer_forecast_bytes{{{ACCOUNT}}}"),
                   "{{account}} forecast", instant=True),
             Query(by_account(f"digitalocean_transfer_pool_forecast_bytes{{{ACCOUNT}}}"),
                   "{{account}} pool", instant=True), width=8),
        stat("Overage forecast", "What the transfer beyond the pool would cost this month "
             "(0 while it fits).", USD,
             Query(by_account(f"digitalocean_transfer_overage_forecast_usd{{{ACCOUNT}}}"),
                   "{{account}}", instant=True), width=8, thresholds=ORANGE_FROM_ONE),
        bargauge("Top senders this month", "Outbound public transfer of each watched Droplet "
                 "so far this month.", "bytes",
                 Query(f"topk(10, {per_droplet(sent)})", "{{name}}", instant=True), width=24),
    )
    balancers = row(
        "Load balancers (load_balancer_metrics)",
        timeseries("Requests per second", "HTTP requests per second each load balancer "
                   "received.", "reqps",
                   Query(f"digitalocean_load_balancer_http_requests_per_second{{{ACCOUNT}}} "
                         "* on (account, load_balancer_id) group_left (name) "
                         "digitalocean_load_balancer_info", "{{name}}"), width=8, minimum=0),
        timeseries("Backend response time", "Backend Droplets' HTTP response time.", "s",
                   Query(f"digitalocean_load_balancer_droplet_http_response_time_seconds{{{ACCOUNT}}} "
                         "* on (account, load_balancer_id) group_left (name) "
                         "digitalocean_load_balancer_info", "{{name}} {{statistic}}"),
                   width=8, minimum=0),
        timeseries("Unhealthy backends", "Backend Droplets failing their load balancer's "
                   "health checks.", "none",
                   Query(f"count by (account, load_balancer_id) "
                         f"(digitalocean_load_balancer_droplet_health_checks{{{ACCOUNT}}} == 0) "
                         "* on (account, load_balancer_id) group_left (name) "
                         "digitalocean_load_balancer_info or on () vector(0)", "{{name}}"),
                   width=8, minimum=0),
    )
    apps = row(
        "Apps (app_metrics)",
        timeseries("App CPU", "CPU use of each app component instance, of its instance size's "
                   "share.", "percentunit",
                   Query(f"digitalocean_app_cpu_utilization_ratio{{{ACCOUNT}}} "
                         "* on (account, app_id) group_left (name) digitalocean_app_info",
                         "{{name}} {{instance}}"), width=8, minimum=0),
        timeseries("App memory", "Memory use of each app component instance, of its "
                   "instance size's.", "percentunit",
                   Query(f"digitalocean_app_memory_utilization_ratio{{{ACCOUNT}}} "
                         "* on (account, app_id) group_left (name) digitalocean_app_info",
                         "{{name}} {{instance}}"), width=8, minimum=0),
        timeseries("App restarts", "Restarts of each app component instance (a growing count "
                   "is a crash loop).", "none",
                   Query(f"digitalocean_app_restarts{{{ACCOUNT}}} "
                         "* on (account, app_id) group_left (name) digitalocean_app_info",
                         "{{name}} {{instance}}"), width=8, minimum=0),
    )
    return Dashboard(
        uid=RESOURCES_UID,
        title="DigitalOcean / Droplet resources",
        description="How hard the fleet works, from DigitalOcean's Monitoring API (no agent to "
                    "install beyond DigitalOcean's own): CPU, memory, disk, load and network of "
                    "the Droplets droplet_metrics watches, the bandwidth bill, load balancer and "
                    "app metrics.",
        rows=(overview, cpu, memory, network, balancers, apps),
        variables=(ACCOUNT_VARIABLE, REGION_VARIABLE, TAG_VARIABLE, DROPLET_VARIABLE),
        time_from="now-24h",
    )


def exporter_health(limits: Limits) -> Dashboard:
    # The exporter's own series of the selected accounts, served by the selected targets.
    selected = f"{ACCOUNT},{TARGET}"
    up = f"up{{{TARGET}}}"
    scrape = row(
        "Scrape",
        stat("Targets down", "Exporter targets of the selected jobs and instances that Prometheus "
             "cannot scrape now (DigitalOceanExporterDown). A target Prometheus does not scrape "
             "at all has no series: DigitalOceanExporterAbsent covers that.", "none",
             Query(count_or_zero(f"{up} == 0"), "Down", instant=True),
             width=4, height=7, thresholds=RED_FROM_ONE, background=True),
        timeseries("Scrape health", "`up` of each exporter target: 1 when Prometheus scraped it, "
                   "0 when the scrape failed.", "none",
                   Query(up, "{{instance}}"),
                   width=6, height=7, minimum=0,
                   thresholds=steps(("red", None), ("green", 1)), threshold_lines=True),
        timeseries("Scrape duration", "How long Prometheus' scrape of each exporter target took. "
                   "The exporter serves cached bytes, so a scrape takes milliseconds; orange from "
                   "1 s, red from 10 s (Prometheus' default scrape timeout).", "s",
                   Query(f"scrape_duration_seconds{{{TARGET}}}", "{{instance}}"),
                   width=7, height=7, minimum=0,
                   thresholds=steps(("green", None), ("orange", 1), ("red", 10)),
                   threshold_lines=True),
        timeseries("Collectors succeeding", "Share of the enabled collectors of the selected "
                   "accounts whose last poll succeeded (digitalocean_collector_success), per "
                   "exporter target: below 1, a collector fails (DigitalOceanCollectorFailing).",
                   "percentunit",
                   Query(f"sum by (instance) (digitalocean_collector_success{{{selected}}} "
                         "and on (job, instance, account, collector) "
                         "(digitalocean_collector_enabled == 1)) "
                         f"/ count by (instance) (digitalocean_collector_enabled{{{selected}}} == 1)",
                         "{{instance}}"),
                   width=7, height=7, minimum=0,
                   thresholds=steps(("red", None), ("orange", 0.5), ("green", 1)),
                   threshold_lines=True),
    )
    collectors = row(
        "Collectors",
        table("Collectors", "Every collector of every selected account: whether its last poll "
              "succeeded, whether it is enabled (0: the token lacks its read scope), how long "
              "the last poll took, its interval in effect and the age of its data in intervals "
              f"(orange once a poll is missed, red above {limits.data_stale_intervals:g}, where "
              "DigitalOceanDataStale starts).", "none",
              [Query(f"digitalocean_collector_success{{{selected}}}"),
               Query(f"digitalocean_collector_enabled{{{selected}}}"),
               Query(f"digitalocean_collector_duration_seconds{{{selected}}}"),
               Query(f"digitalocean_collector_interval_seconds{{{selected}}}"),
               Query(f"(time() - digitalocean_collector_last_success_timestamp_seconds{{{selected}}}) "
                     "/ digitalocean_collector_interval_seconds")],
              [Column("account", "Account"), Column("collector", "Collector"),
               Column(value("A"), "Last poll", mappings=value_map((1, "ok", "green"),
                                                                  (0, "failed", "red"))),
               Column(value("B"), "Enabled", mappings=value_map((1, "yes", "green"),
                                                                (0, "no scope", "orange"))),
               Column(value("C"), "Poll took", unit="s"),
               Column(value("D"), "Interval", unit="dtdurations"),
               Column(value("E"), "Data age (intervals)", thresholds=steps(
                   ("green", None), ("orange", (1 + limits.data_stale_intervals) / 2),
                   ("red", limits.data_stale_intervals)))],
              width=24, height=10, sort_by="Last poll", descending=False),
        timeseries("Poll duration", "How long each collector's last poll took.", "s",
                   Query(f"digitalocean_collector_duration_seconds{{{selected}}}",
                         "{{account}} {{collector}}")),
        timeseries("Data age", "Seconds since each collector's last successful poll; it drops to "
                   "0 at every successful poll.", "s",
                   Query(f"time() - digitalocean_collector_last_success_timestamp_seconds{{{selected}}}",
                         "{{account}} {{collector}}"), minimum=0),
    )
    api = row(
        "DigitalOcean API",
        timeseries("Requests by status code", "Requests per second to the DigitalOcean API by "
                   "account and HTTP status (timeout or error when no answer came).", "reqps",
                   Query(f"sum by (account, code) (rate(digitalocean_api_requests_total{{{selected}}}"
                         "[$__rate_interval]))", "{{account}} {{code}}"),
                   stacked=True, minimum=0),
        timeseries("Request duration (95th percentile)", "95th percentile of the duration of API "
                   "requests, by endpoint: orange from 2 s, red from 10 s (the default "
                   "api.timeout).", "s",
                   Query("histogram_quantile(0.95, sum by (account, endpoint, le) "
                         f"(rate(digitalocean_api_request_duration_seconds_bucket{{{selected}}}"
                         "[$__rate_interval])))", "{{account}} {{endpoint}}"),
                   minimum=0, thresholds=steps(("green", None), ("orange", 2), ("red", 10)),
                   threshold_lines=True),
        timeseries("Rate limit and budget", "DigitalOcean's hourly limit for the token and what is "
                   "left of it (shared by everything using the token), next to the exporter's own "
                   "budget (api.requests_per_hour), the requests it made in the last hour and the "
                   "requests its intervals plan for.", "short",
                   Query(f"digitalocean_api_rate_limit_remaining{{{selected}}}", "{{account}} remaining"),
                   Query(f"digitalocean_api_rate_limit_limit{{{selected}}}", "{{account}} limit"),
                   Query(f"digitalocean_api_budget_requests_per_hour{{{selected}}}", "{{account}} budget"),
                   Query(f"digitalocean_api_budget_used_requests{{{selected}}}", "{{account}} used"),
                   Query(f"digitalocean_api_planned_requests_per_hour{{{selected}}}",
                         "{{account}} planned"),
                   minimum=0),
        bargauge("Budget used", "Requests the exporter made in the last hour as a share of its own "
                 f"budget; DigitalOceanApiBudgetNearlySpent fires above {limits.budget_used_ratio:.0%}.",
                 "percentunit",
                 Query(f"digitalocean_api_budget_used_requests{{{selected}}} "
                       "/ digitalocean_api_budget_requests_per_hour", "{{account}}", instant=True),
                 width=6, maximum=1,
                 thresholds=steps(("green", None), ("orange", limits.budget_used_ratio), ("red", 1))),
        bargauge("Rate limit left", "Share of the token's hourly DigitalOcean rate limit that is "
                 "left; DigitalOceanApiRateLimitLow fires below "
                 f"{limits.rate_limit_remaining_ratio:.0%} (red), orange below twice that.",
                 "percentunit",
                 Query(f"digitalocean_api_rate_limit_remaining{{{selected}}} "
                       "/ digitalocean_api_rate_limit_limit", "{{account}}", instant=True),
                 width=6, maximum=1,
                 thresholds=steps(("red", None), ("orange", limits.rate_limit_remaining_ratio),
                                  ("green", min(1.0, 2 * limits.rate_limit_remaining_ratio)))),
        table("Requests in the time range", "Requests to the DigitalOcean API in the dashboard's "
              "time range, by account, endpoint and status.", "short",
              [Query(f"sum by (account, endpoint, code) (increase(digitalocean_api_requests_total"
                     f"{{{selected}}}[$__range]))")],
              [Column("account", "Account"), Column("endpoint", "Endpoint"), Column("code", "Status"),
               Column(value("A"), "Requests", unit="short")],
              width=12, height=8, sort_by="Requests"),
    )
    tokens = row(
        "Tokens",
        table("Tokens", "Per account: whether DigitalOcean accepts the token, whether token/info "
              "verified it read-only, and the time left before it expires (empty for tokens that "
              f"never expire; orange within {limits.token_expiry_seconds // 86400} days, "
              "DigitalOceanTokenExpiringSoon, red within "
              f"{min(CRITICAL_EXPIRY_SECONDS, limits.token_expiry_seconds) // 86400} days).", "none",
              [Query(f"digitalocean_token_valid{{{selected}}}"),
               Query(f"digitalocean_token_read_only{{{selected}}}"),
               Query(f"digitalocean_token_expiry_timestamp_seconds{{{selected}}} - time()")],
              [Column("account", "Account"),
               Column(value("A"), "Accepted", mappings=value_map((1, "yes", "green"),
                                                                 (0, "rejected (401)", "red"))),
               Column(value("B"), "Read-only", mappings=value_map((1, "verified", "green"),
                                                                  (0, "NOT verified", "red"))),
               Column(value("C"), "Expires in", unit="dtdurations",
                      thresholds=expiry_steps(limits.token_expiry_seconds))],
              width=16, height=6),
        table("Exporter", "The version of the exporters that serve the selected accounts, and the "
              "Python they run on.", "none",
              [Query("count by (version, python_version) (digitalocean_exporter_build_info "
                     f"and on (job, instance) digitalocean_token_valid{{{selected}}})")],
              [Column("version", "Version"), Column("python_version", "Python"),
               Column(value("A"), "Exporters")],
              width=8, height=6),
    )
    return Dashboard(
        uid=EXPORTER_UID,
        title="DigitalOcean / Exporter health",
        description="Is the exporter collecting: scrape health, collector success and "
                    "duration, API requests by status, rate limit and budget, tokens.",
        rows=(scrape, collectors, api, tokens),
        time_from="now-6h",
        variables=(ACCOUNT_VARIABLE, JOB_VARIABLE, INSTANCE_VARIABLE),
    )


def dashboards(limits: Limits | None = None) -> dict[str, JSON]:
    """Every dashboard by file name."""
    limits = limits or load_limits()
    return {
        "digitalocean-overview.json": overview(limits).to_json(),
        "digitalocean-cost.json": cost(limits).to_json(),
        "digitalocean-inventory.json": inventory(limits).to_json(),
        "digitalocean-exporter.json": exporter_health(limits).to_json(),
        "digitalocean-droplet-resources.json": droplet_resources(limits).to_json(),
    }


def render(dashboard: Mapping[str, Any]) -> str:
    return json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n"


def markdown(all_dashboards: Mapping[str, JSON]) -> str:
    parts = []
    for name, dashboard in all_dashboards.items():
        lines = [f"**{dashboard['title']}** (`grafana/dashboards/{name}`): {dashboard['description']}",
                 ""]
        for panel in dashboard["panels"]:
            if panel["type"] == "row":
                lines.append(f"- *{panel['title']}*:")
            else:
                lines.append(f"  - {panel['title']} ({panel['type']})")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def main(argv: Sequence[str]) -> int:
    generated = dashboards()
    if list(argv) == ["--markdown"]:
        print(markdown(generated))
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    OUT.mkdir(exist_ok=True)
    for name, dashboard in generated.items():
        (OUT / name).write_text(render(dashboard))
        print(f"wrote {OUT / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
