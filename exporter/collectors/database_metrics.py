"""Managed MySQL metrics: GET /v2/monitoring/metrics/database/mysql/* (scope monitoring:read,
default every 5m, off by default) for the MySQL clusters the `databases` collector found
(clusters of other engines have no metrics here).

CPU, memory and disk utilisation (DigitalOcean's `avg` aggregate, as ratios from 0 to 1),
load averages, threads, the share of reads that use an index and the rate of each kind of
statement, the newest point DigitalOcean has (usually a minute or more old;
`digitalocean_database_mysql_metric_timestamp_seconds` says when, per metric group). The
`schema` group (row throughput and latency per table I/O operation) needs a schema name the
database list does not give, so it reads `defaultdb`, the schema every cluster is created with,
and is read only when `metrics:` names it. An answer with several series is summed where the
values add up (threads, rates) and its maximum taken where they do not.

    digitalocean_database_mysql_cpu_utilization_ratio{account="production",database_id="9cc10173-e9ea-4176-9dbc-a4cee4c4ff30"} 0.12
    digitalocean_database_mysql_operations_per_second{account="production",database_id="9cc10173-e9ea-4176-9dbc-a4cee4c4ff30",operation="select"} 40
"""

from __future__ import annotations

from typing import Literal

from exporter.collectors.base import Collector, Facts, Family
from exporter.collectors.databases import DatabaseRecord
from exporter.collectors.monitoring import (
    PERCENT,
    MonitoringData,
    Product,
    Query,
    Resource,
    late_help,
)

BASE = "/v2/monitoring/metrics/database/mysql"
ENGINE = "mysql"
SCHEMA = "defaultdb"  # every managed MySQL cluster has it
OPERATIONS = ("select", "insert", "update", "delete")  # the spec's enum of op_rates' metric
TABLE_IO = ("insert", "fetch", "update", "delete")  # the spec's enum of schema_* metric
_ID = ("database_id",)


def _family(name: str, what: str, endpoint: str, labels: tuple[str, ...] = ()) -> Family:
    return Family(f"digitalocean_database_mysql_{name}", late_help(what, f"{BASE}/{endpoint}"),
                  (*_ID, *labels))


def _one(group: str, endpoint: str, family: Family, combine: Literal["sum", "max"], *,
         params: tuple[tuple[str, str], ...] = (), scale: float = 1.0,
         fixed: tuple[str, ...] = ()) -> Query:
    return Query(f"{BASE}/{endpoint}", group, family, params=params, fixed=fixed, scale=scale,
                 combine=combine)


def _usage(group: str, endpoint: str, what: str) -> Query:
    family = _family(f"{group}_utilization_ratio", f"{what} (0 to 1), DigitalOcean's avg aggregate",
                     endpoint)
    return _one(group, endpoint, family, "max", params=(("aggregate", "avg"),), scale=PERCENT)


LOAD = {window: _family(window, f"Load average over {window[4:]} minute(s), DigitalOcean's avg "
                        "aggregate", "load") for window in ("load1", "load5", "load15")}
OPERATION_RATE = _family("operations_per_second", "Statements of each kind run per second",
                         "op_rates", ("operation",))
SCHEMA_ROWS = _family("schema_rows_per_second",
                      "Rows per second of each table I/O operation in the schema",
                      "schema_throughput", ("schema", "operation"))
SCHEMA_LATENCY = _family("schema_latency_seconds",
                         "Latency of each table I/O operation in the schema",
                         "schema_latency", ("schema", "operation"))
TIMESTAMP = Family("digitalocean_database_mysql_metric_timestamp_seconds",
                   late_help("When the newest point of each metric group of the MySQL cluster "
                             "was taken", f"{BASE}/*"), (*_ID, "metric"))

QUERIES = (
    _usage("cpu", "cpu_usage", "CPU utilisation"),
    _usage("memory", "memory_usage", "Memory utilisation"),
    _usage("disk", "disk_usage", "Disk utilisation"),
    *(_one("load", "load", family, "max", params=(("metric", window), ("aggregate", "avg")))
      for window, family in LOAD.items()),
    _one("threads", "threads_connected",
         _family("threads_connected", "Client connections (threads) open", "threads_connected"),
         "sum"),
    _one("threads", "threads_active",
         _family("threads_active", "Threads running a statement", "threads_active"), "sum"),
    _one("threads", "threads_created_rate",
         _family("threads_created_per_second", "Threads created per second",
                 "threads_created_rate"), "sum"),
    _one("reads", "index_vs_sequential_reads",
         _family("index_reads_ratio", "The share of reads that use an index (0 to 1)",
                 "index_vs_sequential_reads"), "max", scale=PERCENT),
    *(_one("operations", "op_rates", OPERATION_RATE, "sum", params=(("metric", op),),
           fixed=(op,)) for op in OPERATIONS),
    *(_one("schema", "schema_throughput", SCHEMA_ROWS, "sum",
           params=(("schema", SCHEMA), ("metric", op)), fixed=(SCHEMA, op)) for op in TABLE_IO),
    *(_one("schema", "schema_latency", SCHEMA_LATENCY, "max",
           params=(("schema", SCHEMA), ("metric", op)), fixed=(SCHEMA, op)) for op in TABLE_IO),
)

GROUPS = ("cpu", "memory", "disk", "load", "threads", "reads", "operations", "schema")
DEFAULT_METRICS = tuple(g for g in GROUPS if g != "schema")


def _facts(db: DatabaseRecord) -> Facts:
    return Facts(db.database_id, db.name, db.region)


def _resource(db: DatabaseRecord) -> Resource | None:
    return Resource(db.database_id) if db.engine == ENGINE else None


PRODUCT: Product[DatabaseRecord] = Product(
    input="databases", id_param="db_id", id_label="database_id", queries=QUERIES,
    timestamp=TIMESTAMP, facts=_facts, resource=_resource, default_metrics=DEFAULT_METRICS,
)


COLLECTOR: Collector[MonitoringData] = PRODUCT.collector(
    name="database_metrics",
    summary="managed MySQL metrics from the Monitoring API: CPU, memory, disk, load, threads, "
            "index reads, statement rates",
    filters=("region", "name", "id"),  # the monitoring facts name no tags
)
