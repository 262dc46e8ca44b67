"""The Monitoring API kind: all 58 `/v2/monitoring/metrics/...` routes, validated against the
FULL API description for the demo fleet (and a fleet with a MySQL cluster, which the demo
lacks); the step rule; counters that only increase; memory, disk, bandwidth and load balancer
behaviours the alerts are written against; 400s, 404s and the scope."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from exporter.simulator import (
    Fleet,
    FleetSpec,
    SimAccount,
    SimToken,
    Simulator,
    SimulatorConfig,
    demo_config,
)
from exporter.simulator.kinds import KINDS
from exporter.simulator.kinds.monitoring import (
    NO_PLAN,
    MonitoringPlan,
    monitoring_plan,
    month_end,
    month_start,
    public_outbound_month_to_date_bytes,
)
from tests.conftest import full_spec, spec_example

from .conftest import START, ManualClock, parse_time

SPEC_HOST = "https://api.digitalocean.com"
PREFIX = "/v2/monitoring/metrics/"
MONITORING_READ = SimToken(name="monitoring", token="sim-secret-monitoring",
                           scopes=["monitoring:read"])
DROPLET_READ = SimToken(name="droplet", token="sim-secret-droplet", scopes=["droplet:read"])
MYSQL = FleetSpec(seed=1, droplets=30, databases=2, load_balancers=1, apps=1, autoscale_pools=1)
"""A generated fleet with a MySQL cluster (the demo's databases are PostgreSQL and Valkey)."""
HOUR = 3600
DAY = 86_400
Connect = Callable[..., httpx.Client]


def monitoring_templates() -> tuple[str, ...]:
    return tuple(r.template for kind in KINDS for r in kind.routes if r.template.startswith(PREFIX))


def spec_templates() -> set[str]:
    return {p for p in full_spec()["paths"] if p.startswith(PREFIX)}


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    """The full description's 58 monitoring operations (loading all of it takes ~25 s)."""
    full = full_spec()
    paths = {p: {"get": full["paths"][p]["get"]} for p in spec_templates()}
    return OpenAPI.from_dict(json.loads(json.dumps({
        "openapi": full["openapi"], "info": full["info"], "servers": [{"url": SPEC_HOST}],
        "paths": paths, "components": {"securitySchemes": full["components"]["securitySchemes"]},
        "security": full["security"],
    })))


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    demo = demo_config(seed=0)
    tokens = (MONITORING_READ, DROPLET_READ)
    config = SimulatorConfig(
        accounts=(
            *(SimAccount(name=a.name, fleet=a.fleet, tokens=(*a.tokens, *tokens[:1]) if
                         a.name == "production" else a.tokens) for a in demo.accounts),
            SimAccount(name="mysql", fleet=MYSQL, tokens=(
                SimToken(name="mysql", token="sim-secret-mysql", scopes=["read", "write"]), DROPLET_READ)),
        ),
        requests_per_minute=100_000,
        requests_per_hour=100_000,
    )
    running = Simulator(config, clock=ManualClock())
    running.start()
    yield running
    running.stop()


def token_of(simulator: Simulator, account: str) -> str:
    return next(a for a in simulator.config.accounts if a.name == account).tokens[0].token


def problems(openapi: OpenAPI, response: httpx.Response) -> list[str]:
    url = response.request.url
    request = MockRequest(SPEC_HOST, "GET", url.path, args=dict(url.params))
    mock = MockResponse(response.content, status_code=response.status_code,
                        content_type=response.headers["content-type"],
                        headers=dict(response.headers))
    return [f"{url}: {error} {getattr(error, '__cause__', None)!r}"[:2000]
            for error in openapi.iter_response_errors(request, mock)]


def first_id(simulator: Simulator, account: str, kind: str) -> str:
    return str(simulator.fleet(account).resources.objects(kind)[0].id)


def queries(simulator: Simulator, account: str, template: str) -> list[dict[str, Any]]:
    """The parameters of every request a route is asked with here: each choice of its enums,
    for an object of `account`'s fleet (its busy Droplet, failing load balancer, ... where it
    has one), over the hour before the clock."""
    fleet = simulator.fleet(account)
    plan = monitoring_plan(fleet.resources)
    window = {"start": str(int(START) - HOUR), "end": str(int(START))}
    folder, metric = template.removeprefix(PREFIX).rsplit("/", 1)
    if folder == "droplet":
        active = next(d.id for d in fleet.droplets if d.status == "active")
        base = {"host_id": str(plan.busy or active), **window}
        if metric == "bandwidth":
            return [{**base, "interface": i, "direction": d}
                    for i in ("private", "public") for d in ("inbound", "outbound")]
        return [base]
    if folder == "load_balancer":
        lb = plan.failing_load_balancer or first_id(simulator, account, "load_balancers")
        return [{"lb_id": lb, **window}]
    if folder == "apps":
        app = plan.restarting_app or first_id(simulator, account, "apps")
        return [{"app_id": app, **window}, {"app_id": app, "app_component": "web", **window}]
    if folder == "droplet_autoscale":
        return [{"autoscale_pool_id": first_id(simulator, account, "autoscale_pools"), **window}]
    databases = [item.as_json() for item in fleet.resources.objects("databases")]
    db = next((d["id"] for d in databases if d["engine"] == "mysql"), databases[0]["id"])
    base = {"db_id": db, **window}
    if metric in ("cpu_usage", "disk_usage", "memory_usage"):
        return [{**base, "aggregate": a} for a in ("avg", "max", "min")]
    if metric == "load":
        return [{**base, "metric": m, "aggregate": a}
                for m in ("load1", "load5", "load15") for a in ("avg", "max")]
    if metric == "op_rates":
        return [{**base, "metric": m} for m in ("select", "insert", "update", "delete")]
    if metric.startswith("schema_"):
        return [{**base, "schema": "defaultdb", "metric": m}
                for m in ("insert", "fetch", "update", "delete")]
    return [base]


def get(client: httpx.Client, template: str, **params: Any) -> httpx.Response:
    return client.get(template, params={k: str(v) for k, v in params.items()})


def series(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    response = get(client, PREFIX + path, **params)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["data"]["result"]
    return result


def values(client: httpx.Client, path: str, **params: Any) -> list[tuple[int, float]]:
    (one,) = series(client, path, **params)
    return [(ts, float(v)) for ts, v in one["values"]]


def test_all_58_routes_are_served_with_the_specs_scope() -> None:
    served = monitoring_templates()
    assert len(served) == len(set(served)) == 58
    assert set(served) == spec_templates()
    paths = full_spec()["paths"]
    scopes = {r.template: r.scope for kind in KINDS for r in kind.routes}
    for template in served:
        (requirement,) = paths[template]["get"]["security"]
        assert [scopes[template]] == requirement["bearer_auth"] == ["monitoring:read"]


@pytest.mark.parametrize("account", ["production", "staging", "mysql"])
def test_every_route_answers_the_full_spec(
    openapi: OpenAPI, simulator: Simulator, connect: Connect, account: str
) -> None:
    client = connect(simulator, token_of(simulator, account))
    found: list[str] = []
    empty: set[str] = set()
    statuses: dict[str, set[int]] = {}
    for template in monitoring_templates():
        for params in queries(simulator, account, template):
            response = get(client, template, **params)
            statuses.setdefault(template, set()).add(response.status_code)
            found += problems(openapi, response)
            if response.status_code == 200:
                result = response.json()["data"]["result"]
                if not result or not all(s["values"] for s in result):
                    empty.add(template.removeprefix(PREFIX))
    assert found == []
    databases = {t for t in statuses if "/database/" in t}
    expected_db = {200} if account == "mysql" else {404}  # no MySQL cluster in the demo
    assert {t: s for t, s in statuses.items() if t in databases} == dict.fromkeys(
        databases, expected_db)
    assert all(s == {200} for t, s in statuses.items() if t not in databases)
    nlb = {"load_balancer/frontend_nlb_tcp_network_throughput",
           "load_balancer/frontend_nlb_udp_network_throughput"}
    if account == "production":
        assert empty == nlb  # REGIONAL HTTP load balancers have no NLB throughput
    if account == "staging":  # its only pool is dynamic with both targets
        assert empty == nlb


def test_a_wrong_answer_would_be_caught(
    openapi: OpenAPI, simulator: Simulator, connect: Connect
) -> None:
    client = connect(simulator, token_of(simulator, "production"))
    template = PREFIX + "droplet/cpu"
    response = get(client, template, **queries(simulator, "production", template)[0])
    assert problems(openapi, response) == []
    body = response.json()
    body["data"]["result"][0]["values"][0][1] = 1.5  # a number where the spec has a string
    body["data"]["resultType"] = "vector"
    wrong = httpx.Response(200, json=body, headers=response.headers, request=response.request)
    assert len(problems(openapi, wrong)) == 1


@pytest.mark.parametrize(
    ("span", "step"),
    [(0, 60), (600, 60), (86_400, 60), (86_460, 120), (7 * DAY, 420), (31 * DAY, 1860)],
)
def test_points_follow_the_step_rule(
    simulator: Simulator, connect: Connect, span: int, step: int
) -> None:
    assert step == max(60, math.ceil(span / 1440 / 60) * 60)
    client = connect(simulator, token_of(simulator, "production"))
    plan = monitoring_plan(simulator.fleet("production").resources)
    end = int(START) + 1800  # half an hour past the clock: no points there
    start = end - span
    points = [ts for ts, _ in values(client, "droplet/memory_total", host_id=plan.busy,
                                     start=start, end=end)]
    first = math.ceil(start / step) * step
    assert points == list(range(first, int(START) + 1, step))
    assert len(points) <= 1441


def test_cpu_counters_only_increase_and_add_up_to_the_vcpus_uptime(
    simulator: Simulator, connect: Connect
) -> None:
    fleet = simulator.fleet("production")
    plan = monitoring_plan(fleet.resources)
    client = connect(simulator, token_of(simulator, "production"))
    busy_shares: dict[int | str, float] = {}
    for listed in fleet.droplets:
        if listed.status != "active":
            continue
        droplet = listed.as_json()
        modes = series(client, "droplet/cpu", host_id=listed.id, start=int(START) - DAY,
                       end=int(START))
        assert [m["metric"]["mode"] for m in modes] == [
            "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"]
        created = parse_time(droplet["created_at"])
        by_mode = {m["metric"]["mode"]: [float(v) for _, v in m["values"]] for m in modes}
        for mode, seconds in by_mode.items():
            assert all(b >= a for a, b in itertools.pairwise(seconds)), mode
        times = [ts for ts, _ in modes[0]["values"]]
        for index in (0, len(times) - 1):
            total = sum(seconds[index] for seconds in by_mode.values())
            assert total == pytest.approx(droplet["vcpus"] * (times[index] - created), abs=1e-3)
        idle = by_mode["idle"][-1] - by_mode["idle"][0]
        elapsed = droplet["vcpus"] * (times[-1] - times[0])
        busy_shares[listed.id] = 1 - idle / elapsed
    assert plan.busy is not None
    assert 0.9 <= busy_shares.pop(plan.busy) <= 0.97
    assert all(0.05 <= share <= 0.40 for share in busy_shares.values()), busy_shares


def test_cpu_counters_keep_increasing_as_the_clock_moves(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Connect, clock: ManualClock
) -> None:
    simulator = start_simulator(demo_config(seed=0))
    client = connect(simulator, token_of(simulator, "production"))
    plan = monitoring_plan(simulator.fleet("production").resources)
    newest: list[list[float]] = []
    for _ in range(3):
        modes = series(client, "droplet/cpu", host_id=plan.heavy, start=int(clock.now) - 600,
                       end=int(clock.now))
        newest.append([float(m["values"][-1][1]) for m in modes])
        clock.advance(5 * HOUR + 17)
    for before, after in itertools.pairwise(newest):
        assert all(b > a for a, b in zip(before, after, strict=True) if a > 0)


def test_load_follows_the_cpu(simulator: Simulator, connect: Connect) -> None:
    fleet = simulator.fleet("production")
    plan = monitoring_plan(fleet.resources)
    client = connect(simulator, token_of(simulator, "production"))
    vcpus = {d.id: d.as_json()["vcpus"] for d in fleet.droplets}
    window = {"start": int(START) - 900, "end": int(START)}
    for droplet in (plan.busy, plan.heavy):
        assert droplet is not None
        loads = [values(client, f"droplet/load_{n}", host_id=droplet, **window)[-1][1]
                 for n in (1, 5, 15)]
        modes = series(client, "droplet/cpu", host_id=droplet, **window)
        idle = [float(v) for _, v in modes[0]["values"]]
        share = 1 - (idle[-1] - idle[-2]) / (60 * vcpus[droplet])
        assert loads[0] == pytest.approx(vcpus[droplet] * share, rel=0.01)
        assert all(0 < load <= vcpus[droplet] for load in loads)
    busy_load = values(client, "droplet/load_15", host_id=plan.busy, **window)[-1][1]
    assert busy_load > 0.85 * vcpus[plan.busy or 0]


def test_memory_free_at_most_available_at_most_total(
    simulator: Simulator, connect: Connect
) -> None:
    fleet = simulator.fleet("production")
    client = connect(simulator, token_of(simulator, "production"))
    window = {"start": int(START) - DAY, "end": int(START)}
    checked = 0
    for listed in fleet.droplets:
        if listed.status != "active":
            continue
        got = {which: values(client, f"droplet/memory_{which}", host_id=listed.id, **window)
               for which in ("total", "available", "free", "cached")}
        assert {v for _, v in got["total"]} == {listed.as_json()["memory"] * 2**20}
        for (_, total), (_, available), (_, free), (_, cached) in zip(
            got["total"], got["available"], got["free"], got["cached"], strict=True
        ):
            assert 0 < free <= available <= total
            assert 0 < cached < available
        checked += 1
    assert checked == 33


def test_an_off_droplet_sends_nothing(simulator: Simulator, connect: Connect) -> None:
    fleet = simulator.fleet("production")
    off = next(d for d in fleet.droplets if d.status == "off")
    client = connect(simulator, token_of(simulator, "production"))
    assert series(client, "droplet/cpu", host_id=off.id, start=int(START) - 600,
                  end=int(START)) == []


def test_the_filling_disk_is_full_within_20_hours_whatever_the_clock(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Connect, clock: ManualClock
) -> None:
    simulator = start_simulator(demo_config(seed=0))
    fleet = simulator.fleet("production")
    plan = monitoring_plan(fleet.resources)
    client = connect(simulator, token_of(simulator, "production"))
    disk = {d.id: d.as_json()["disk"] * 2**30 for d in fleet.droplets}
    full_in = []
    for _ in range(6):
        now = int(clock.now)
        window = {"start": now - HOUR, "end": now}
        free = values(client, "droplet/filesystem_free", host_id=plan.filling, **window)
        size = values(client, "droplet/filesystem_size", host_id=plan.filling, **window)
        assert {v for _, v in size} == {disk[plan.filling or 0]}
        (t0, f0), (t1, f1) = free[-31], free[-1]
        slope = (f1 - f0) / (t1 - t0)
        assert slope < 0
        full_in.append(-f1 / slope)
        steady = values(client, "droplet/filesystem_free", host_id=plan.busy, **window)
        assert len({v for _, v in steady}) == 1
        clock.advance(7 * HOUR + 13 * 60)
    assert all(0 < seconds <= 20 * HOUR for seconds in full_in), full_in


def test_bandwidth_points_integrate_to_the_simulators_month_to_date(
    simulator: Simulator, connect: Connect
) -> None:
    fleet = simulator.fleet("production")
    plan = monitoring_plan(fleet.resources)
    assert plan.heavy is not None
    client = connect(simulator, token_of(simulator, "production"))
    begin = int(month_start(START))
    points = values(client, "droplet/bandwidth", host_id=plan.heavy, interface="public",
                    direction="outbound", start=begin, end=int(START))
    step = points[1][0] - points[0][0]
    assert points[0][0] == begin  # the month start is a multiple of the step
    megabits = sum(mbps * step for _, mbps in points[1:])
    exact = public_outbound_month_to_date_bytes(fleet, plan.heavy, points[-1][0])
    assert megabits * 125_000 == pytest.approx(exact, rel=1e-6)
    assert exact > 0


def test_the_heavy_droplet_outgrows_the_pooled_allowance_by_the_months_end(
    simulator: Simulator, connect: Connect
) -> None:
    fleet = simulator.fleet("production")
    plan = monitoring_plan(fleet.resources)
    assert plan.heavy is not None
    client = connect(simulator, token_of(simulator, "production"))
    droplets = [*client.get("/v2/droplets", params={"per_page": 200}).json()["droplets"],
                *client.get("/v2/droplets", params={"type": "gpus"}).json()["droplets"]]
    assert len(droplets) == 38
    pool = sum(d["size"]["transfer"] * 2**40 for d in droplets)  # TiB, a whole month each
    last_second = month_end(START) - 1
    heavy = public_outbound_month_to_date_bytes(fleet, plan.heavy, last_second)
    assert heavy > pool
    others = [public_outbound_month_to_date_bytes(fleet, int(d.id), last_second)
              for d in fleet.droplets if d.id != plan.heavy and d.status == "active"]
    assert max(others) < pool / 20
    assert public_outbound_month_to_date_bytes(fleet, plan.heavy, month_start(START)) == 0


def test_the_failing_load_balancer_has_one_unhealthy_backend(
    simulator: Simulator, connect: Connect
) -> None:
    fleet = simulator.fleet("production")
    plan = monitoring_plan(fleet.resources)
    client = connect(simulator, token_of(simulator, "production"))
    window = {"start": int(START) - HOUR, "end": int(START)}
    balancers = {str(i.id): i.as_json() for i in fleet.resources.objects("load_balancers")}
    assert balancers[plan.failing_load_balancer or ""]["status"] == "errored"
    for lb_id, lb in balancers.items():
        health = {s["metric"]["droplet_id"]: {v for _, v in s["values"]}
                  for s in series(client, "load_balancer/droplets_health_checks", lb_id=lb_id,
                                  **window)}
        downtime = {s["metric"]["droplet_id"]: [float(v) for _, v in s["values"]]
                    for s in series(client, "load_balancer/droplets_downtime", lb_id=lb_id,
                                    **window)}
        assert set(health) == set(downtime) == {str(d) for d in lb["droplet_ids"]}
        sick = {d for d, seen in health.items() if seen == {"0"}}
        rising = {d for d, seen in downtime.items() if seen[-1] > seen[0]}
        assert all(seen in ({"0"}, {"1"}) for seen in health.values())
        if lb_id == plan.failing_load_balancer:
            assert sick == rising == {str(plan.unhealthy_droplet)}
        else:
            assert sick == rising == set()
        p50 = series(client, "load_balancer/droplets_http_response_time_50p", lb_id=lb_id,
                     **window)
        p99 = series(client, "load_balancer/droplets_http_response_time_99p", lb_id=lb_id,
                     **window)
        assert {s["metric"]["droplet_id"] for s in p50} == set(health) - sick
        for low, high in zip(p50, p99, strict=True):
            assert float(low["values"][-1][1]) < float(high["values"][-1][1])
    staging = connect(simulator, token_of(simulator, "staging"))
    (only,) = simulator.fleet("staging").resources.objects("load_balancers")
    healthy = series(staging, "load_balancer/droplets_health_checks", lb_id=only.id, **window)
    assert {v for s in healthy for _, v in s["values"]} == {"1"}


def test_one_app_component_restarts(simulator: Simulator, connect: Connect) -> None:
    fleet = simulator.fleet("production")
    plan = monitoring_plan(fleet.resources)
    client = connect(simulator, token_of(simulator, "production"))
    window = {"start": int(START) - DAY, "end": int(START)}
    restarts: dict[tuple[str, str], int] = {}
    for app in fleet.resources.objects("apps"):
        for one in series(client, "apps/restart_count", app_id=app.id, **window):
            counts = [int(v) for _, v in one["values"]]
            assert counts == sorted(counts)
            restarts[(str(app.id), one["metric"]["app_component_instance"])] = counts[-1] - counts[0]
    assert plan.restarting_app is not None
    assert {key for key, grew in restarts.items() if grew} == {(plan.restarting_app, "web-0")}
    assert restarts[(plan.restarting_app, "web-0")] == DAY // 1800
    assert series(client, "apps/cpu_percentage", app_id=plan.restarting_app,
                  app_component="no-such-component", **window) == []


def test_mysql_metrics_and_their_aggregates(simulator: Simulator, connect: Connect) -> None:
    client = connect(simulator, token_of(simulator, "mysql"))
    databases = [i.as_json() for i in simulator.fleet("mysql").resources.objects("databases")]
    (mysql,) = [d for d in databases if d["engine"] == "mysql"]
    window = {"db_id": mysql["id"], "start": int(START) - HOUR, "end": int(START)}
    cpu = {a: values(client, "database/mysql/cpu_usage", aggregate=a, **window)[-1][1]
           for a in ("min", "avg", "max")}
    assert 0 < cpu["min"] < cpu["avg"] < cpu["max"] <= 100
    (one,) = series(client, "database/mysql/schema_latency", schema="defaultdb", metric="fetch",
                    **window)
    assert one["metric"] == {"db_id": mysql["id"], "schema": "defaultdb"}
    assert series(client, "database/mysql/schema_latency", schema="nothing", metric="fetch",
                  **window) == []
    other = next(d for d in databases if d["engine"] != "mysql")
    response = get(client, PREFIX + "database/mysql/threads_active", db_id=other["id"],
                   start=window["start"], end=window["end"])
    assert response.status_code == 404


def test_autoscale_series_follow_the_pools(simulator: Simulator, connect: Connect) -> None:
    client = connect(simulator, token_of(simulator, "production"))
    window = {"start": int(START) - HOUR, "end": int(START)}
    for item in simulator.fleet("production").resources.objects("autoscale_pools"):
        pool = item.as_json()
        config = pool["config"]
        ask = {"autoscale_pool_id": pool["id"], **window}
        current = values(client, "droplet_autoscale/current_instances", **ask)[-1][1]
        target = values(client, "droplet_autoscale/target_instances", **ask)[-1][1]
        assert current == pool["active_resources_count"]
        assert target == config.get("target_number_instances", current)
        targets = series(client, "droplet_autoscale/target_cpu_utilization", **ask)
        if "target_cpu_utilization" in config:
            assert float(targets[0]["values"][-1][1]) == config["target_cpu_utilization"]
        else:
            assert targets == []
        cpu = values(client, "droplet_autoscale/current_cpu_utilization", **ask)[-1][1]
        assert cpu == pytest.approx(pool["current_utilization"]["cpu"], rel=0.05)


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("droplet/cpu", {"start": None}, "start is required"),
        ("droplet/cpu", {"end": None}, "end is required"),
        ("droplet/cpu", {"start": "yesterday", "end": "1795000000"}, "start must be a Unix timestamp"),
        ("droplet/cpu", {"start": "1795000000", "end": "1794999999"}, "end must not be before start"),
        ("droplet/load_5", {"start": "1", "end": "2", "host_id": ""}, "host_id is required"),
        ("droplet/bandwidth", {"interface": "eth0", "direction": "inbound"},
         "interface must be one of private, public"),
        ("droplet/bandwidth", {"interface": "public"}, "direction is required"),
        ("load_balancer/frontend_cpu_utilization", {"lb_id": ""}, "lb_id is required"),
        ("apps/cpu_percentage", {"app_id": ""}, "app_id is required"),
        ("droplet_autoscale/current_instances", {}, "autoscale_pool_id is required"),
        ("database/mysql/cpu_usage", {"aggregate": "p99"}, "aggregate must be one of avg, max, min"),
        ("database/mysql/load", {"metric": "load1", "aggregate": "min"},
         "aggregate must be one of avg, max"),
        ("database/mysql/op_rates", {}, "metric is required"),
        ("database/mysql/schema_throughput", {"metric": "fetch"}, "schema is required"),
        ("database/mysql/threads_active", {"db_id": ""}, "db_id is required"),
    ],
)
def test_bad_parameters_answer_400(
    openapi: OpenAPI, simulator: Simulator, connect: Connect, path: str,
    params: dict[str, str | None], message: str
) -> None:
    fleet = simulator.fleet("production")
    ids = {"host_id": str(fleet.droplets[9].id), "db_id": first_id(simulator, "mysql", "databases"),
           "start": "1794990000", "end": "1795000000"}
    client = connect(simulator, token_of(simulator, "production"))
    asked = {name: value for name, value in {**ids, **params}.items() if value is not None}
    response = get(client, PREFIX + path, **asked)
    assert response.status_code == 400
    assert response.json()["id"] == "bad_request"
    assert response.json()["message"] == message
    assert problems(openapi, response) == []


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("droplet/cpu", {"host_id": "1"}),
        ("droplet/cpu", {"host_id": "web-01"}),
        ("load_balancer/droplets_health_checks", {"lb_id": "4de7ac8b-495b-4884-9a69-1050c6793cd6"}),
        ("apps/restart_count", {"app_id": "4de7ac8b-495b-4884-9a69-1050c6793cd6"}),
        ("database/mysql/threads_connected", {"db_id": "9cc10173-e9ea-4176-9dbc-a4cee4c4ff30"}),
        ("droplet_autoscale/target_instances",
         {"autoscale_pool_id": "0d3db13e-a604-4944-9827-7ec2642d32ac"}),
    ],
)
def test_unknown_resources_answer_404(
    openapi: OpenAPI, simulator: Simulator, connect: Connect, path: str, params: dict[str, str]
) -> None:
    client = connect(simulator, token_of(simulator, "production"))
    response = get(client, PREFIX + path, start=1794990000, end=1795000000, **params)
    assert response.status_code == 404
    assert response.json()["id"] == "not_found"
    assert problems(openapi, response) == []


def test_a_token_without_monitoring_read_gets_403_everywhere(
    openapi: OpenAPI, simulator: Simulator, connect: Connect
) -> None:
    refused = connect(simulator, DROPLET_READ)
    allowed = connect(simulator, MONITORING_READ)
    for template in monitoring_templates():
        response = get(refused, template, **queries(simulator, "mysql", template)[0])
        assert response.status_code == 403, template
        assert response.json()["id"] == "forbidden"
        assert problems(openapi, response) == []
    template = PREFIX + "droplet/cpu"
    assert get(allowed, template, **queries(simulator, "production", template)[0]).status_code == 200


def test_who_is_what_in_the_demo(simulator: Simulator) -> None:
    fleet = simulator.fleet("production")
    plan = monitoring_plan(fleet.resources)
    names = {d.id: d.name for d in fleet.droplets}
    balancers = {i.id: i.name for i in fleet.resources.objects("load_balancers")}
    assert (names[plan.busy or 0], names[plan.heavy or 0], names[plan.filling or 0]) == (
        "worker-sfo3-00009", "web-tor1-00028", "db-fra1-00008")
    assert balancers[plan.failing_load_balancer or ""] == "db-fra1-lb-02"
    assert isinstance(plan, MonitoringPlan)
    assert monitoring_plan(simulator.fleet("staging").resources) == NO_PLAN


def test_answers_repeat_byte_for_byte(connect: Connect) -> None:
    bodies = []
    for _ in range(2):
        with Simulator(demo_config(seed=0), clock=ManualClock()) as simulator:
            client = connect(simulator, token_of(simulator, "production"))
            template = PREFIX + "droplet/bandwidth"
            params = queries(simulator, "production", template)[3]
            bodies.append(get(client, template, **params).content)
    assert bodies[0] == bodies[1]
    assert b'"values":[[' in bodies[0]


def test_label_names_are_those_of_the_specs_examples(simulator: Simulator, connect: Connect) -> None:
    """Where the description shows an example answer, the simulator's series carry exactly its
    label names (and the CPU example's modes)."""
    client = connect(simulator, token_of(simulator, "production"))
    paths = full_spec()["paths"]
    compared = []
    for template in monitoring_templates():
        content = paths[template]["get"]["responses"]["200"]["content"]["application/json"]
        for example in (content.get("examples") or {}).values():
            expected = [sorted(s["metric"]) for s in example["value"]["data"]["result"]]
            params = queries(simulator, "production", template)
            labels = {
                s["metric"].get("direction", "") + s["metric"].get("interface", ""):
                    sorted(s["metric"])
                for p in params for s in get(client, template, **p).json()["data"]["result"]
            }
            assert all(names in labels.values() for names in expected), template
            if template.endswith("/cpu"):
                modes = {s["metric"]["mode"] for s in example["value"]["data"]["result"]}
                answer = get(client, template, **params[0]).json()["data"]["result"]
                assert [s["metric"]["mode"] for s in answer] == sorted(modes)
            compared.append(template.removeprefix(PREFIX))
    assert sorted(set(compared)) == [
        "apps/cpu_percentage", "apps/memory_percentage", "apps/restart_count", "droplet/bandwidth",
        "droplet/cpu", "droplet/filesystem_free", "droplet/filesystem_size"]


def test_series_follow_the_fleet_as_droplets_come_and_go(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Connect, clock: ManualClock
) -> None:
    simulator = start_simulator(demo_config(seed=0))
    client = connect(simulator, token_of(simulator, "production"))
    fleet = simulator.fleet("production")
    targets = {str(i.id): set(i.droplet_ids) for i in fleet.resources.objects("load_balancers")}
    created, destroyed = simulator.mutate_fleet("production", create_droplets=1,
                                                destroy_droplets=12)
    assert set(destroyed) & set().union(*targets.values())  # some targets went away
    clock.advance(HOUR)
    window = {"start": int(clock.now) - HOUR, "end": int(clock.now)}
    for droplet in destroyed:
        assert get(client, PREFIX + "droplet/cpu", host_id=droplet, **window).status_code == 404
    for lb_id, before in targets.items():
        health = series(client, "load_balancer/droplets_health_checks", lb_id=lb_id, **window)
        assert {int(s["metric"]["droplet_id"]) for s in health} == before - set(destroyed)
    (new,) = created
    status = simulator.fleet("production").find_droplet(new)
    assert status is not None
    memory = series(client, "droplet/memory_total", host_id=new, **window)
    assert len(memory) == (1 if status.status == "active" else 0)


def test_no_answer_carries_a_database_secret(simulator: Simulator, connect: Connect) -> None:
    """The MySQL routes read the cluster without its credentials, even for a full-access token."""
    client = connect(simulator, token_of(simulator, "mysql"))
    answers = b"".join(
        get(client, template, **params).content
        for template in monitoring_templates() if "/database/" in template
        for params in queries(simulator, "mysql", template)
    )
    assert b'"values":[[' in answers
    listed = connect(simulator, token_of(simulator, "mysql")).get("/v2/databases").content
    assert b"AVNS_" in listed  # this token is allowed to see them in /v2/databases
    assert b"AVNS_" not in answers
    assert b"password" not in answers


def test_a_fleet_given_verbatim_answers_too(connect: Connect) -> None:
    """The spec's own Droplet example, served by `Fleet.from_objects`: no busy, heavy or filling
    Droplet there, but its series are answered like any other."""
    (droplet,) = spec_example("/v2/droplets", "All Droplets")["droplets"][:1]
    fleet = Fleet.from_objects(droplets=[droplet])
    token = SimToken(name="given", token="sim-secret-given", scopes=["monitoring:read"])
    config = SimulatorConfig(accounts=(SimAccount(name="given", fleet=fleet, tokens=(token,)),))
    with Simulator(config, clock=ManualClock()) as simulator:
        assert monitoring_plan(simulator.fleet("given").resources) == NO_PLAN
        client = connect(simulator, token)
        modes = series(client, "droplet/cpu", host_id=droplet["id"], start=int(START) - 600,
                       end=int(START))
        total = values(client, "droplet/memory_total", host_id=droplet["id"],
                       start=int(START) - 600, end=int(START))
    assert droplet["status"] == "active"
    assert len(modes) == 8
    assert {v for _, v in total} == {droplet["memory"] * 2**20}
