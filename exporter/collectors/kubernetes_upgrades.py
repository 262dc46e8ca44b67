"""Kubernetes upgrades: per cluster GET /v2/kubernetes/clusters/{cluster_id}/upgrades,
/clusterlint and /status_messages (scope kubernetes:read, default every 1h).

The clusters are the ones the `kubernetes` collector last listed (its data is this collector's
input): the list is never read again, except after a 404 to tell a deleted cluster (left out of
that poll) from a failed request. Each cluster costs three requests per poll.

The versions a cluster can be upgraded to, one `_info` series each, and how many there are (0:
up to date). The latest clusterlint run: its diagnostics counted by severity, and when it
completed; a cluster that was never linted answers 404, which means no run, not an error (and
no lint series). Status messages (incidents DigitalOcean reports for the cluster): how many
there are and when the newest was posted; their text is free and never a label.

    digitalocean_kubernetes_cluster_upgrade_info{account="production",kubernetes_cluster_id="bd5f5959-5e1e-4205-a714-a914373942af",version="1.16.13-do.0",kubernetes_version="1.16.13"} 1
    digitalocean_kubernetes_cluster_available_upgrades{account="production",kubernetes_cluster_id="bd5f5959-5e1e-4205-a714-a914373942af"} 1
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors import kubernetes
from exporter.collectors.base import (
    FOLLOW_UP_CONCURRENCY,
    Collector,
    Family,
    PollContext,
    ResourceReader,
    Sample,
)
from exporter.collectors.fields import ShapeError, objects, optional_str, required_str, timestamp
from exporter.collectors.relisting import confirm_deleted
from exporter.tasks import all_or_nothing

UPGRADES_ENDPOINT = "/v2/kubernetes/clusters/{cluster_id}/upgrades"
LINT_ENDPOINT = "/v2/kubernetes/clusters/{cluster_id}/clusterlint"
MESSAGES_ENDPOINT = "/v2/kubernetes/clusters/{cluster_id}/status_messages"
UNKNOWN_SEVERITY = "unknown"  # a diagnostic without a severity is still counted, visibly

CLUSTER = ("kubernetes_cluster_id",)

UPGRADE_INFO = Family(
    "digitalocean_kubernetes_cluster_upgrade_info",
    f"A version the cluster can be upgraded to: its slug and Kubernetes version (always 1), "
    f"polled from {UPGRADES_ENDPOINT}.",
    (*CLUSTER, "version", "kubernetes_version"),
)
AVAILABLE_UPGRADES = Family(
    "digitalocean_kubernetes_cluster_available_upgrades",
    f"Versions the cluster can be upgraded to (0 when it is up to date), "
    f"polled from {UPGRADES_ENDPOINT}.",
    CLUSTER,
)
LINT_DIAGNOSTICS = Family(
    "digitalocean_kubernetes_cluster_lint_diagnostics",
    f"Diagnostics of the latest clusterlint run by severity (absent before the first run), "
    f"polled from {LINT_ENDPOINT}.",
    (*CLUSTER, "severity"),
)
LINT_COMPLETED = Family(
    "digitalocean_kubernetes_cluster_lint_completed_timestamp_seconds",
    f"When the latest clusterlint run completed, polled from {LINT_ENDPOINT}.",
    CLUSTER,
)
STATUS_MESSAGES = Family(
    "digitalocean_kubernetes_cluster_status_messages",
    f"Status messages DigitalOcean reports for the cluster, polled from {MESSAGES_ENDPOINT}.",
    CLUSTER,
)
LAST_STATUS_MESSAGE = Family(
    "digitalocean_kubernetes_cluster_last_status_message_timestamp_seconds",
    f"When the newest status message for the cluster was posted, polled from {MESSAGES_ENDPOINT}.",
    CLUSTER,
)


@dataclass(frozen=True, slots=True)
class UpgradeRecord:
    version: str  # the slug, e.g. 1.16.13-do.0
    kubernetes_version: str


@dataclass(frozen=True, slots=True)
class LintRun:
    completed_at: float | None
    by_severity: tuple[tuple[str, int], ...]  # sorted by severity


@dataclass(frozen=True, slots=True)
class ClusterUpgrades:
    cluster_id: str
    upgrades: tuple[UpgradeRecord, ...]  # sorted by version
    lint: LintRun | None  # None: never linted (404)
    status_messages: int
    last_status_message: float | None


def parse_upgrades(body: Mapping[str, Any], where: str) -> tuple[UpgradeRecord, ...]:
    key = "available_upgrade_versions"
    if key not in body:
        raise ShapeError(f"{where} {key}: missing from the response")
    items = body[key]
    if items is None:  # nullable in the spec: no upgrade available
        return ()
    by_slug: dict[str, UpgradeRecord] = {}
    for path, upgrade in objects(items, f"{where} {key}"):
        record = UpgradeRecord(required_str(upgrade, "slug", path),
                               optional_str(upgrade, "kubernetes_version"))
        by_slug[record.version] = record
    return tuple(by_slug[slug] for slug in sorted(by_slug))


def parse_lint(body: Mapping[str, Any], where: str) -> LintRun:
    diagnostics = body.get("diagnostics")
    counts: dict[str, int] = {}
    for _, diagnostic in objects([] if diagnostics is None else diagnostics, f"{where} diagnostics"):
        severity = (optional_str(diagnostic, "severity") or UNKNOWN_SEVERITY).lower()
        counts[severity] = counts.get(severity, 0) + 1
    return LintRun(timestamp(body, "completed_at"), tuple(sorted(counts.items())))


def parse_messages(body: Mapping[str, Any], where: str) -> tuple[int, float | None]:
    """(how many, when the newest was posted); the text is never kept."""
    messages = body.get("messages")
    items = list(objects([] if messages is None else messages, f"{where} messages"))
    times = [t for _, m in items if (t := timestamp(m, "timestamp")) is not None]
    return len(items), max(times, default=None)


def answer_where(endpoint: str, cluster_id: str) -> str:
    return endpoint.replace("{cluster_id}", cluster_id)


async def _upgrades_or_none(reader: ResourceReader, cluster_id: str) -> ClusterUpgrades | None:
    """The cluster's upgrades, lint and messages; None when the cluster no longer exists."""
    path = {"cluster_id": cluster_id}
    body = await reader.get_or_none(UPGRADES_ENDPOINT, path=path)
    if body is None:
        return None
    upgrades = parse_upgrades(body, answer_where(UPGRADES_ENDPOINT, cluster_id))
    messages = await reader.get_or_none(MESSAGES_ENDPOINT, path=path)
    if messages is None:
        return None
    count, newest = parse_messages(messages, answer_where(MESSAGES_ENDPOINT, cluster_id))
    # 404 here is "clusterlint has not run on this cluster", not a deletion
    lint = await reader.get_or_none(LINT_ENDPOINT, path=path)
    run = None if lint is None else parse_lint(lint, answer_where(LINT_ENDPOINT, cluster_id))
    return ClusterUpgrades(cluster_id, upgrades, run, count, newest)


def inventory(context: PollContext) -> tuple[kubernetes.ClusterRecord, ...]:
    """The clusters the `kubernetes` collector last listed; none before its first good poll."""
    records: tuple[kubernetes.ClusterRecord, ...] = context.inputs.get(kubernetes.COLLECTOR.name, ())
    return records


async def fetch_with(reader: ResourceReader, context: PollContext) -> tuple[ClusterUpgrades, ...]:
    clusters = inventory(context)
    answers = await all_or_nothing(
        [_upgrades_or_none(reader, c.cluster_id) for c in clusters], limit=FOLLOW_UP_CONCURRENCY
    )
    gone = [c.cluster_id for c, found in zip(clusters, answers, strict=True) if found is None]
    await confirm_deleted(reader, kubernetes.ENDPOINT, kubernetes.LIST_KEY, "id", gone=gone,
                          follow_up=UPGRADES_ENDPOINT)
    found = {a.cluster_id: a for a in answers if a is not None}
    return tuple(found[key] for key in sorted(found))


def requests_for(context: PollContext) -> int:
    """Requests one poll makes (without the rare re-read of the list after a 404)."""
    return 3 * len(inventory(context))


async def fetch(reader: ResourceReader) -> tuple[ClusterUpgrades, ...]:
    return await fetch_with(reader, PollContext())


def samples(clusters: tuple[ClusterUpgrades, ...]) -> Iterator[Sample]:
    for c in clusters:
        key = (c.cluster_id,)
        for u in c.upgrades:
            yield UPGRADE_INFO.name, (*key, u.version, u.kubernetes_version), 1
        yield AVAILABLE_UPGRADES.name, key, len(c.upgrades)
        if c.lint is not None:
            for severity, count in c.lint.by_severity:
                yield LINT_DIAGNOSTICS.name, (*key, severity), count
            if c.lint.completed_at is not None:
                yield LINT_COMPLETED.name, key, c.lint.completed_at
        yield STATUS_MESSAGES.name, key, c.status_messages
        if c.last_status_message is not None:
            yield LAST_STATUS_MESSAGE.name, key, c.last_status_message


COLLECTOR: Collector[tuple[ClusterUpgrades, ...]] = Collector(
    name="kubernetes_upgrades",
    summary="kubernetes cluster upgrades available, clusterlint diagnostics by severity, "
            "status messages",
    endpoints=(UPGRADES_ENDPOINT, LINT_ENDPOINT, MESSAGES_ENDPOINT),
    id_label="kubernetes_cluster_id",
    scope="kubernetes:read",
    interval=3600.0,
    families=(UPGRADE_INFO, AVAILABLE_UPGRADES, LINT_DIAGNOSTICS, LINT_COMPLETED, STATUS_MESSAGES,
              LAST_STATUS_MESSAGE),
    fetch=fetch,
    samples=samples,
    inputs=("kubernetes",),
    fetch_with=fetch_with,
    requests_for=requests_for,
)
