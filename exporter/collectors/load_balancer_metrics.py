"""Load balancer metrics: GET /v2/monitoring/metrics/load_balancer/* (scope monitoring:read,
default every 5m, off by default) for the load balancers the `load_balancers` collector found.

Connections, requests, responses, throughput, TLS, backend response times and session
durations, queue, health, firewall drops and CPU of each selected load balancer, the newest
point DigitalOcean has (usually a minute or more old;
`digitalocean_load_balancer_metric_timestamp_seconds` says when, per metric group). An answer
with several series (one per backend Droplet or response code) is summed where the values add
up (connections, rates, bytes) and its maximum taken where they do not (times, limits, CPU),
so every value series carries only the load balancer's id. The network load balancer metrics
(`frontend_nlb_*`, firewall drops) are read for `REGIONAL_NETWORK` load balancers only, the
HTTP, TCP and UDP throughput for the others. Each endpoint costs one request per load balancer
and poll: `session` and `tls` (six requests) are not read unless `metrics:` names them.

    digitalocean_load_balancer_frontend_connections{account="production",load_balancer_id="4de7ac8b-495b-4884-9a69-1050c6793cd6"} 1
    digitalocean_load_balancer_droplet_http_response_time_seconds{account="production",load_balancer_id="4de7ac8b-495b-4884-9a69-1050c6793cd6",statistic="p95"} 0.12
"""

from __future__ import annotations

from typing import Literal

from exporter.collectors.base import Collector, Facts, Family
from exporter.collectors.load_balancers import LoadBalancerRecord
from exporter.collectors.monitoring import (
    PERCENT,
    MonitoringData,
    Product,
    Query,
    Resource,
    late_help,
)

BASE = "/v2/monitoring/metrics/load_balancer"
NETWORK = "REGIONAL_NETWORK"  # the load balancer type whose metrics are the frontend_nlb_* ones
_ID = ("load_balancer_id",)


def _family(name: str, what: str, endpoint: str, labels: tuple[str, ...] = ()) -> Family:
    return Family(f"digitalocean_load_balancer_{name}", late_help(what, f"{BASE}/{endpoint}"),
                  (*_ID, *labels))


def _one(group: str, endpoint: str, name: str, what: str, combine: Literal["sum", "max"], *,
         scale: float = 1.0, kinds: tuple[str, ...] | None = None) -> Query:
    return Query(f"{BASE}/{endpoint}", group, _family(name, what, endpoint), scale=scale,
                 combine=combine, kinds=kinds)


def _by(group: str, endpoints: dict[str, str], family: Family, combine: Literal["sum", "max"], *,
        kinds: tuple[str, ...] | None = None, not_kinds: tuple[str, ...] = ()) -> tuple[Query, ...]:
    """One request per endpoint into one family, told apart by the label value each names."""
    return tuple(Query(f"{BASE}/{endpoint}", group, family, fixed=(value,), combine=combine,
                       kinds=kinds, not_kinds=not_kinds) for endpoint, value in endpoints.items())


THROUGHPUT = _family("network_throughput_bytes_per_second",
                     "Load balancer frontend traffic per protocol (http, tcp, udp)",
                     "frontend_network_throughput_*", ("protocol",))
NLB_THROUGHPUT = _family("nlb_network_throughput_bytes_per_second",
                         "Network load balancer frontend traffic per protocol (tcp, udp)",
                         "frontend_nlb_*_network_throughput", ("protocol",))
RESPONSE_TIME = _family("droplet_http_response_time_seconds",
                        "Backend Droplets' HTTP response time: the average and the 50th, 95th "
                        "and 99th percentiles (statistic), the slowest Droplet's",
                        "droplets_http_response_time_*", ("statistic",))
SESSION = _family("droplet_http_session_duration_seconds",
                  "Backend Droplets' HTTP session duration: the average and the 50th and 95th "
                  "percentiles (statistic), the longest Droplet's",
                  "droplets_http_session_duration_*", ("statistic",))
# One series per backend Droplet, so an alert names the one that is down.
_PER_DROPLET = (("droplet_id", "droplet_id"),)
HEALTH = _family("droplet_health_checks",
                 "Each backend Droplet's health check status as DigitalOcean reports it (1 "
                 "healthy, 0 failing)", "droplets_health_checks", ("droplet_id",))
DOWNTIME = _family("droplet_downtime",
                   "Each backend Droplet's downtime as DigitalOcean reports it",
                   "droplets_downtime", ("droplet_id",))
TIMESTAMP = Family("digitalocean_load_balancer_metric_timestamp_seconds",
                   late_help("When the newest point of each metric group of the load balancer "
                             "was taken", f"{BASE}/*"), (*_ID, "metric"))

QUERIES = (
    _one("connections", "frontend_connections_current", "frontend_connections",
         "Active connections to the load balancer", "sum"),
    _one("connections", "frontend_connections_limit", "frontend_connections_limit",
         "The most connections the load balancer accepts", "max"),
    _one("connections", "droplets_connections", "droplet_connections",
         "Active connections to the backend Droplets, summed", "sum"),
    _one("requests", "frontend_http_requests_per_second", "http_requests_per_second",
         "HTTP requests per second to the load balancer", "sum"),
    _one("responses", "frontend_http_responses", "http_responses_per_second",
         "HTTP responses per second from the load balancer, all response codes summed", "sum"),
    _one("responses", "droplets_http_responses", "droplet_http_responses_per_second",
         "HTTP responses per second from the backend Droplets, all codes and Droplets summed",
         "sum"),
    *_by("throughput", {"frontend_network_throughput_http": "http",
                        "frontend_network_throughput_tcp": "tcp",
                        "frontend_network_throughput_udp": "udp"}, THROUGHPUT, "sum",
         not_kinds=(NETWORK,)),
    *_by("throughput", {"frontend_nlb_tcp_network_throughput": "tcp",
                        "frontend_nlb_udp_network_throughput": "udp"}, NLB_THROUGHPUT, "sum",
         kinds=(NETWORK,)),
    _one("tls", "frontend_tls_connections_current", "tls_connections_per_second",
         "New TLS connections per second to the load balancer", "sum"),
    _one("tls", "frontend_tls_connections_limit", "tls_connections_per_second_limit",
         "The most new TLS connections per second the load balancer accepts", "max"),
    _one("tls", "frontend_tls_connections_exceeding_rate_limit",
         "tls_connections_exceeding_rate_limit",
         "TLS connections closed for exceeding the rate limit, as DigitalOcean counts them",
         "sum"),
    *_by("response_time", {"droplets_http_response_time_avg": "avg",
                           "droplets_http_response_time_50p": "p50",
                           "droplets_http_response_time_95p": "p95",
                           "droplets_http_response_time_99p": "p99"}, RESPONSE_TIME, "max"),
    *_by("session", {"droplets_http_session_duration_avg": "avg",
                     "droplets_http_session_duration_50p": "p50",
                     "droplets_http_session_duration_95p": "p95"}, SESSION, "max"),
    Query(f"{BASE}/droplets_health_checks", "health", HEALTH, labels=_PER_DROPLET),
    Query(f"{BASE}/droplets_downtime", "health", DOWNTIME, labels=_PER_DROPLET),
    _one("queue", "droplets_queue_size", "droplet_queued_requests",
         "Requests queued for the backend Droplets, summed", "sum"),
    _one("firewall", "frontend_firewall_dropped_bytes", "firewall_dropped_bytes",
         "Bytes the network load balancer's firewall dropped, as DigitalOcean counts them",
         "sum", kinds=(NETWORK,)),
    _one("firewall", "frontend_firewall_dropped_packets", "firewall_dropped_packets_per_second",
         "Packets per second the network load balancer's firewall dropped", "sum",
         kinds=(NETWORK,)),
    _one("cpu", "frontend_cpu_utilization", "cpu_utilization_ratio",
         "The load balancer's average CPU utilisation (0 to 1)", "max", scale=PERCENT),
)

GROUPS = ("connections", "requests", "responses", "throughput", "tls", "response_time",
          "session", "health", "queue", "firewall", "cpu")
DEFAULT_METRICS = tuple(g for g in GROUPS if g not in {"tls", "session"})


def _facts(lb: LoadBalancerRecord) -> Facts:
    return Facts(lb.load_balancer_id, lb.name, lb.region)


def _resource(lb: LoadBalancerRecord) -> Resource:
    return Resource(lb.load_balancer_id, lb.type)


PRODUCT: Product[LoadBalancerRecord] = Product(
    input="load_balancers", id_param="lb_id", id_label="load_balancer_id", queries=QUERIES,
    timestamp=TIMESTAMP, facts=_facts, resource=_resource, default_metrics=DEFAULT_METRICS,
)


COLLECTOR: Collector[MonitoringData] = PRODUCT.collector(
    name="load_balancer_metrics",
    summary="load balancer metrics from the Monitoring API: connections, requests, responses, "
            "throughput, response times, health, CPU",
    filters=("region", "name", "id"),  # load balancer records carry no tags
)
