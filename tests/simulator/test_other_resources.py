"""Every other resource agrees with the fleet: nodes are Droplets, targets exist, URNs add up.

One read-only simulator (600 Droplets, defaults for everything else) serves most checks; the
ones that move the clock or change the fleet start their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from exporter.simulator.catalog import (
    GPU_SIZE_SLUGS,
    REGULAR_SIZE_SLUGS,
    RESERVED_IP_UNASSIGNED_MONTHLY,
)
from exporter.simulator.fleet import Fleet
from exporter.simulator.kinds import KINDS, resource_counts
from exporter.simulator.ledger import PRODUCTS
from tests.conftest import spec_example

from .conftest import (
    API_READ,
    DAY,
    FULL_ACCESS,
    READ_ONLY,
    START,
    ManualClock,
    alert_worthy,
    parse_time,
)

Connect = Callable[..., httpx.Client]

CREDENTIALS = SimToken(
    name="credentials",
    token="sim-secret-credentials",
    scopes=["database:read", "database:view_credentials"],
)
DATABASES_ONLY = SimToken(
    name="databases-only", token="sim-secret-databases", scopes=["database:read"]
)
SPEC = FleetSpec(
    seed=31, droplets=600, gpu_droplets=4, volumes=60, certificates=6, custom_vpcs=2
)


@pytest.fixture(scope="module")
def everything() -> Iterator[Simulator]:
    config = SimulatorConfig(
        accounts=(
            SimAccount(
                name="acme",
                tokens=(READ_ONLY, FULL_ACCESS, API_READ, CREDENTIALS, DATABASES_ONLY),
                fleet=SPEC,
            ),
        ),
        requests_per_minute=100_000,
        requests_per_hour=100_000,
    )
    simulator = Simulator(config, clock=ManualClock())
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def client(everything: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=everything.url, headers={"Authorization": f"Bearer {READ_ONLY.token}"}, timeout=10
    ) as http:
        yield http


def listing(client: httpx.Client, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every object of a paged listing, following `next` links."""
    objects: list[dict[str, Any]] = []
    response = client.get(path, params={"per_page": 200, **params})
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        objects += page[key]
        next_url = page["links"].get("pages", {}).get("next")
        if not next_url:
            return objects
        response = client.get(next_url)


def all_droplets(client: httpx.Client) -> dict[int, dict[str, Any]]:
    regular = listing(client, "/v2/droplets", "droplets")
    gpus = listing(client, "/v2/droplets", "droplets", type="gpus")
    return {d["id"]: d for d in (*regular, *gpus)}


# -- counts ------------------------------------------------------------------------------------


def test_counts_follow_the_droplets_unless_given() -> None:
    counts = resource_counts(FleetSpec(droplets=1000))
    assert (counts.snapshots, counts.reserved_ips, counts.reserved_ipv6s) == (200, 50, 10)
    assert (counts.load_balancers, counts.kubernetes_clusters) == (20, 10)
    assert (counts.databases, counts.apps) == (20, 20)
    assert (counts.domains, counts.firewalls, counts.custom_vpcs) == (5, 5, 1)
    assert (counts.cdn_endpoints, counts.certificates, counts.uptime_checks) == (3, 4, 5)
    assert (counts.projects, counts.spaces_buckets, counts.registry) == (4, 4, True)
    small = resource_counts(FleetSpec(droplets=20))
    assert (small.snapshots, small.reserved_ips, small.load_balancers) == (4, 1, 0)
    assert (small.domains, small.firewalls, small.projects, small.registry) == (1, 1, 2, True)
    nothing = resource_counts(FleetSpec(droplets=0))
    assert nothing.projects == 1
    assert not nothing.registry
    assert sum(v for k, v in nothing.items() if k not in ("projects", "registry")) == 0
    given = resource_counts(FleetSpec(droplets=1000, load_balancers=0, registry=False, projects=2))
    assert (given.load_balancers, given.registry, given.projects) == (0, False, 2)
    ensured = resource_counts(FleetSpec(droplets=10, problems=True))
    assert ensured.load_balancers >= 2
    assert ensured.kubernetes_clusters >= 2
    assert ensured.apps >= 3
    assert ensured.registry
    with pytest.raises(ValueError, match="projects must be at least 1"):
        FleetSpec(projects=0)
    with pytest.raises(ValueError, match="snapshots must not be negative"):
        FleetSpec(snapshots=-1)


def test_the_same_spec_generates_the_same_resources() -> None:
    def everything_of(fleet: Fleet) -> list[bytes]:
        r = fleet.resources
        items = (
            *(item for kind in KINDS for item in r.objects(kind.name)),
            *(i for c in r.objects("uptime_checks") for i in r.related("uptime_checks", str(c.id)) or ()),
            *(i for d in r.objects("domains") for i in r.related("domains", str(d.id)) or ()),
        )
        return [item.render(START, fleet.droplet_lookup) for item in items] + [
            d.body for d in fleet.droplets
        ]

    spec = FleetSpec(seed=5, droplets=300, volumes=20)
    assert everything_of(Fleet.generate(spec, "acme")) == everything_of(Fleet.generate(spec, "acme"))
    other = FleetSpec(seed=6, droplets=300, volumes=20)
    assert everything_of(Fleet.generate(other, "acme")) != everything_of(Fleet.generate(spec, "acme"))


def test_a_fleet_without_clusters_keeps_its_droplets_as_they_were() -> None:
    """Resources are generated from their own random streams: Droplets stay byte-identical."""
    plain = Fleet.generate(FleetSpec(seed=2, droplets=90, volumes=10, snapshots=0), "acme")
    richer = Fleet.generate(
        FleetSpec(seed=2, droplets=90, volumes=10, snapshots=0, load_balancers=4, databases=3),
        "acme",
    )
    assert [d.body for d in plain.droplets] == [d.body for d in richer.droplets]
    assert [v.body for v in plain.volumes] == [v.body for v in richer.volumes]


# -- Kubernetes --------------------------------------------------------------------------------


def test_kubernetes_nodes_are_droplets_of_the_fleet(client: httpx.Client) -> None:
    droplets = all_droplets(client)
    assert len(droplets) == SPEC.droplets + SPEC.gpu_droplets
    clusters = listing(client, "/v2/kubernetes/clusters", "kubernetes_clusters")
    assert len(clusters) == 6
    vpcs = {v["region"]: v["id"] for v in listing(client, "/v2/vpcs", "vpcs") if v["default"]}
    node_droplets: list[int] = []
    for cluster in clusters:
        assert 1 <= len(cluster["node_pools"]) <= 3
        assert f"k8s:{cluster['id']}" in cluster["tags"]
        assert cluster["vpc_uuid"] == vpcs[cluster["region"]]
        for pool in cluster["node_pools"]:
            assert pool["count"] == len(pool["nodes"])
            for node in pool["nodes"]:
                droplet = droplets[int(node["droplet_id"])]
                node_droplets.append(droplet["id"])
                assert droplet["name"] == node["name"]
                assert droplet["size_slug"] == pool["size"]
                assert droplet["region"]["slug"] == cluster["region"]
                assert droplet["vpc_uuid"] == cluster["vpc_uuid"]
                assert droplet["tags"] == pool["tags"]
                assert {"k8s", f"k8s:{cluster['id']}", "k8s:worker"} <= set(droplet["tags"])
                assert droplet["status"] == "active"
    assert len(node_droplets) == len(set(node_droplets))
    tagged = [d for d in droplets.values() if "k8s:worker" in d["tags"]]
    assert len(tagged) == len(node_droplets)
    states = Counter(c["status"]["state"] for c in clusters)
    assert states == {"running": 3, "degraded": 1, "provisioning": 1, "upgrading": 1}
    node_states = {n["status"]["state"] for c in clusters for p in c["node_pools"] for n in p["nodes"]}
    assert node_states == {"running", "provisioning", "draining"}
    degraded = next(c for c in clusters if c["status"]["state"] == "degraded")
    below = [p for p in degraded["node_pools"] if len(p["nodes"]) < p["min_nodes"]]
    assert len(below) == 1
    assert below[0]["auto_scale"]
    others = [c for c in clusters if c is not degraded]
    assert all(len(p["nodes"]) >= p["min_nodes"] for c in others for p in c["node_pools"])


def test_a_tiny_fleet_gets_dedicated_node_droplets() -> None:
    fleet = Fleet.generate(FleetSpec(seed=1, droplets=2, kubernetes_clusters=2), "tiny")
    nodes = [
        int(node["droplet_id"])
        for cluster in fleet.resources.objects("kubernetes_clusters")
        for pool in cluster.as_json()["node_pools"]
        for node in pool["nodes"]
    ]
    assert len(nodes) > 2
    assert set(nodes) <= {int(d.id) for d in fleet.droplets}
    assert fleet.account_object()["droplet_limit"] >= len(fleet.droplets)


# -- networking --------------------------------------------------------------------------------


def test_load_balancers_target_droplets_that_exist(client: httpx.Client) -> None:
    droplets = all_droplets(client)
    clusters = {c["id"]: c for c in listing(client, "/v2/kubernetes/clusters", "kubernetes_clusters")}
    certificates = {c["id"] for c in listing(client, "/v2/certificates", "certificates")}
    vpcs = {v["region"]: v["id"] for v in listing(client, "/v2/vpcs", "vpcs") if v["default"]}
    balancers = listing(client, "/v2/load_balancers", "load_balancers")
    assert len(balancers) == 12
    assert Counter(lb["status"] for lb in balancers) == {"active": 10, "errored": 1, "new": 1}
    assert balancers[-1]["status"] == "new"
    for lb in balancers:
        region = lb["region"]["slug"]
        assert lb["vpc_uuid"] == vpcs[region]
        assert lb["droplet_ids"]
        for droplet_id in lb["droplet_ids"]:
            assert droplets[droplet_id]["region"]["slug"] == region
        if lb["tag"]:
            cluster = clusters[lb["tag"].removeprefix("k8s:")]
            nodes = {int(n["droplet_id"]) for p in cluster["node_pools"] for n in p["nodes"]}
            assert set(lb["droplet_ids"]) == nodes
        for rule in lb["forwarding_rules"]:
            assert rule["certificate_id"] in certificates | {""}
    assert sum(1 for lb in balancers if lb["tag"]) == 6


def test_reserved_ips_carry_their_droplet_or_null(client: httpx.Client) -> None:
    reserved = listing(client, "/v2/reserved_ips", "reserved_ips")
    assert len(reserved) == 30
    floating = listing(client, "/v2/floating_ips", "floating_ips")
    assert floating == reserved
    unassigned = [ip for ip in reserved if ip["droplet"] is None]
    assert len(unassigned) == 7
    for ip in reserved:
        if ip["droplet"] is not None:
            current = client.get(f"/v2/droplets/{ip['droplet']['id']}").json()["droplet"]
            assert ip["droplet"] == current
            assert ip["region"] == current["region"]
    assert len({ip["ip"] for ip in reserved}) == 30
    account = client.get("/v2/account").json()["account"]
    assert account["reserved_ip_limit"] == account["floating_ip_limit"] == 30, "raised to fit"
    ipv6 = listing(client, "/v2/reserved_ipv6", "reserved_ipv6s")
    assert len(ipv6) == 6
    assert sum(1 for ip in ipv6 if ip["droplet"] is None) == 2
    for ip in ipv6:
        if ip["droplet"] is not None:
            assert ip["droplet"]["networks"]["v6"]
            assert ip["region_slug"] == ip["droplet"]["region"]["slug"]


def test_firewalls_point_at_droplets_and_tags_that_exist(client: httpx.Client) -> None:
    droplets = all_droplets(client)
    tags = {t for d in droplets.values() for t in d["tags"]}
    balancers = {lb["id"] for lb in listing(client, "/v2/load_balancers", "load_balancers")}
    firewalls = listing(client, "/v2/firewalls", "firewalls")
    assert Counter(f["status"] for f in firewalls) == {"succeeded": 3, "waiting": 1, "failed": 1}
    for firewall in firewalls:
        assert set(firewall["droplet_ids"]) <= set(droplets)
        assert set(firewall["tags"]) <= tags
        for change in firewall["pending_changes"]:
            assert change["droplet_id"] in droplets
        for rule in firewall["inbound_rules"]:
            assert set(rule["sources"].get("load_balancer_uids", [])) <= balancers
    waiting = next(f for f in firewalls if f["status"] == "waiting")
    assert waiting["pending_changes"]


def test_vpc_members_agree_with_the_fleet(client: httpx.Client) -> None:
    droplets = all_droplets(client)
    vpcs = listing(client, "/v2/vpcs", "vpcs")
    defaults = [v for v in vpcs if v["default"]]
    assert {v["region"] for v in defaults} == {d["region"]["slug"] for d in droplets.values()} | set(
        SPEC.regions
    )
    assert sum(1 for v in vpcs if not v["default"]) == 2
    members: dict[str, list[str]] = {}
    for vpc in vpcs:
        assert vpc["urn"] == f"do:vpc:{vpc['id']}"
        found = listing(client, f"/v2/vpcs/{vpc['id']}/members", "members")
        members[vpc["id"]] = [m["urn"] for m in found]
    everywhere = [urn for urns in members.values() for urn in urns]
    assert len(everywhere) == len(set(everywhere))
    for droplet in droplets.values():
        assert f"do:droplet:{droplet['id']}" in members[droplet["vpc_uuid"]]
    for lb in listing(client, "/v2/load_balancers", "load_balancers"):
        assert f"do:loadbalancer:{lb['id']}" in members[lb["vpc_uuid"]]
    for cluster in listing(client, "/v2/kubernetes/clusters", "kubernetes_clusters"):
        assert f"do:kubernetes:{cluster['id']}" in members[cluster["vpc_uuid"]]
    databases = client.get("/v2/databases").json()["databases"]
    for database in databases:
        assert f"do:dbaas:{database['id']}" in members[database["private_network_uuid"]]
    custom = [v["id"] for v in vpcs if not v["default"]]
    assert any(members[vpc] for vpc in custom), "databases use the custom VPCs of their region"
    assert client.get("/v2/vpcs/00000000-0000-4000-8000-000000000000/members").status_code == 404


# -- storage and images ------------------------------------------------------------------------


def test_snapshots_are_of_droplets_and_volumes_of_the_fleet(client: httpx.Client) -> None:
    droplets = all_droplets(client)
    volumes = {v["id"]: v for v in listing(client, "/v2/volumes", "volumes")}
    snapshots = listing(client, "/v2/snapshots", "snapshots")
    assert len(snapshots) == 120
    of_droplets = listing(client, "/v2/snapshots", "snapshots", resource_type="droplet")
    of_volumes = listing(client, "/v2/snapshots", "snapshots", resource_type="volume")
    assert len(of_volumes) == 40
    assert sorted(s["id"] for s in of_droplets + of_volumes) == sorted(s["id"] for s in snapshots)
    orphans = 0
    for snapshot in of_droplets:
        droplet = droplets.get(int(snapshot["resource_id"]))
        if droplet is None:
            orphans += 1  # its Droplet was destroyed; the snapshot is still paid for
            continue
        assert int(snapshot["id"]) in droplet["snapshot_ids"]
        assert snapshot["regions"][0] == droplet["region"]["slug"]
        assert snapshot["min_disk_size"] == droplet["disk"]
        assert 0 < snapshot["size_gigabytes"] <= droplet["disk"]
        assert "k8s:worker" not in droplet["tags"], "nobody snapshots Kubernetes nodes"
    assert orphans == 8
    referenced = {i for d in droplets.values() for i in d["snapshot_ids"]}
    assert referenced == {int(s["id"]) for s in of_droplets if int(s["resource_id"]) in droplets}
    for snapshot in of_volumes:
        volume = volumes[snapshot["resource_id"]]
        assert snapshot["regions"] == [volume["region"]["slug"]]
        assert snapshot["min_disk_size"] == volume["size_gigabytes"]
    ages = [START - parse_time(s["created_at"]) for s in snapshots]
    assert min(ages) < 30 * DAY
    assert max(ages) > 90 * DAY
    bad = client.get("/v2/snapshots", params={"resource_type": "image"})
    assert bad.status_code == 400


def test_times_relative_to_now_follow_the_clock(
    start_simulator: Callable[[SimulatorConfig], Simulator],
    connect: Connect,
    clock: ManualClock,
) -> None:
    spec = FleetSpec(seed=4, droplets=60, volumes=6, certificates=3, problems=True)
    simulator = start_simulator(
        SimulatorConfig(accounts=(SimAccount(name="acme", tokens=(READ_ONLY,), fleet=spec),))
    )
    client = connect(simulator, READ_ONLY)

    def read() -> tuple[list[float], list[float]]:
        clock.advance(1)  # stay under the burst limit
        snapshots = client.get("/v2/snapshots").json()["snapshots"]
        certificates = client.get("/v2/certificates").json()["certificates"]
        return (
            [parse_time(s["created_at"]) for s in snapshots],
            [parse_time(c["not_after"]) for c in certificates],
        )

    before = read()
    assert read() == before, "stable within the day"
    expiring = [t for t in before[1] if t - clock.now < 14 * DAY]
    assert len(expiring) == 1
    clock.advance(30 * DAY)
    after = read()
    assert [b - a for a, b in zip(before[1], after[1], strict=True)] == [30 * DAY] * 3
    moved = [b - a for a, b in zip(before[0], after[0], strict=True)]
    assert moved.count(30 * DAY) >= len(moved) // 2
    assert all(0 <= m <= 30 * DAY for m in moved), "a snapshot never predates its Droplet"
    assert [t for t in after[1] if t - clock.now < 14 * DAY] == [expiring[0] + 30 * DAY]


# -- databases ---------------------------------------------------------------------------------


def test_database_credentials_only_for_tokens_allowed_to_see_them(everything: Simulator) -> None:
    def databases(token: SimToken, **params: str) -> httpx.Response:
        return httpx.get(
            f"{everything.url}/v2/databases",
            params=params,
            headers={"Authorization": f"Bearer {token.token}"},
        )

    secret = {"connection", "private_connection", "users"}
    assert databases(API_READ).status_code == 403  # api:read is on GET /v2/volumes only
    for token in (READ_ONLY, DATABASES_ONLY):
        response = databases(token)
        assert response.status_code == 200
        assert set(response.json()) == {"databases"}, "not paged: no links, no meta"
        for database in response.json()["databases"]:
            assert not secret & set(database)
        assert "password" not in response.text
        assert "AVNS_" not in response.text
    for token in (FULL_ACCESS, CREDENTIALS):
        shown = databases(token).json()["databases"]
        assert len(shown) == 12
        for database in shown:
            assert secret <= set(database)
            connection = database["connection"]
            assert connection["password"].startswith("AVNS_")
            assert connection["password"] in connection["uri"]
            assert database["private_connection"]["host"] == f"private-{connection['host']}"
            assert database["users"][0]["role"] == "primary"
            assert database["users"][0]["password"] == connection["password"]
    plain = databases(READ_ONLY).json()["databases"]
    full = databases(FULL_ACCESS).json()["databases"]
    assert plain == [{k: v for k, v in d.items() if k not in secret} for d in full]
    statuses = Counter(d["status"] for d in plain)
    assert statuses == {"online": 9, "resizing": 1, "creating": 1, "migrating": 1}
    assert len(databases(READ_ONLY, tag_name="db").json()["databases"]) == 12
    assert databases(READ_ONLY, tag_name="nothing").json() == {"databases": None}
    assert databases(DATABASES_ONLY, tag_name="db").status_code == 403, "tag_name needs tag:read"


def test_no_databases_is_null_not_an_empty_list(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Connect
) -> None:
    spec = FleetSpec(seed=1, droplets=30, databases=0, registry=False)
    simulator = start_simulator(
        SimulatorConfig(accounts=(SimAccount(name="acme", tokens=(READ_ONLY,), fleet=spec),))
    )
    client = connect(simulator, READ_ONLY)
    response = client.get("/v2/databases")
    assert response.status_code == 200
    assert response.content == b'{"databases":null}'
    assert client.get("/v2/registries").json() == {"registries": []}
    registry = client.get("/v2/registry")
    assert registry.status_code == 404
    assert registry.json()["id"] == "not_found"
    assert client.get("/v2/registry/subscription").status_code == 404


# -- apps, domains, certificates, uptime -------------------------------------------------------


def test_apps_show_their_deployments(client: httpx.Client) -> None:
    apps = listing(client, "/v2/apps", "apps")
    assert len(apps) == 12
    assert all("project_id" not in app for app in apps)
    for app in apps:
        assert app["active_deployment"]["phase"] == "ACTIVE"
        assert app["tier_slug"] in ("basic", "professional")
        assert app["region"]["slug"] == app["spec"]["region"]
        assert app["last_deployment_created_at"] == app["pending_deployment"]["created_at"]
    latest = Counter(app["pending_deployment"]["phase"] for app in apps)
    assert latest == {"ACTIVE": 9, "ERROR": 1, "BUILDING": 1, "DEPLOYING": 1}
    failed = next(app for app in apps if app["pending_deployment"]["phase"] == "ERROR")
    assert "in_progress_deployment" not in failed
    assert failed["pending_deployment"]["progress"]["error_steps"] == 1
    in_progress = [app for app in apps if "in_progress_deployment" in app]
    assert {a["in_progress_deployment"]["phase"] for a in in_progress} == {"BUILDING", "DEPLOYING"}
    for app in in_progress:
        assert app["in_progress_deployment"] == app["pending_deployment"]
        assert app["in_progress_deployment"]["progress"]["running_steps"] == 1
    with_projects = listing(client, "/v2/apps", "apps", with_projects="true")
    projects = {p["id"] for p in listing(client, "/v2/projects", "projects")}
    assert all(app["project_id"] in projects for app in with_projects)


def test_some_apps_autoscale_as_the_spec_says(client: httpx.Client) -> None:
    services = [app["spec"]["services"][0] for app in listing(client, "/v2/apps", "apps")]
    scaled = [s for s in services if "autoscaling" in s]
    assert len(scaled) == 2  # the third and the eighth of 12
    for service in scaled:
        assert "instance_count" not in service  # "must not be set if autoscaling is used"
        assert service["instance_size_slug"] == "apps-d-2vcpu-8gb"
        assert service["autoscaling"]["min_instance_count"] == 2
        assert service["autoscaling"]["max_instance_count"] == 4
    assert all(isinstance(s["instance_count"], int) for s in services if s not in scaled)


def test_the_app_instance_size_catalogue_is_the_spec_example(client: httpx.Client) -> None:
    response = client.get("/v2/apps/tiers/instance_sizes")
    assert response.status_code == 200
    assert response.json() == spec_example("/v2/apps/tiers/instance_sizes")  # one page, no links
    refused = client.get("/v2/apps/tiers/instance_sizes",
                         headers={"Authorization": f"Bearer {DATABASES_ONLY.token}"})
    assert refused.status_code == 403


def test_domains_have_records_that_agree(client: httpx.Client) -> None:
    domains = listing(client, "/v2/domains", "domains")
    assert len(domains) == 5
    balancer_ips = {lb["ip"] for lb in listing(client, "/v2/load_balancers", "load_balancers")}
    for domain in domains:
        assert "ip_address" not in domain
        records = listing(client, f"/v2/domains/{domain['name']}/records", "domain_records")
        kinds = Counter(r["type"] for r in records)
        assert kinds["SOA"] == 1
        assert kinds["NS"] == 3
        apex = next(r for r in records if r["type"] == "A" and r["name"] == "@")
        assert apex["data"] in balancer_ips
        for record in records:
            if record["type"] != "SOA":
                assert record["data"].rstrip(".") in domain["zone_file"]
        assert len({r["id"] for r in records}) == len(records)
    first = domains[0]["name"]
    page = client.get(f"/v2/domains/{first}/records").json()
    assert page["meta"]["total"] > 40
    assert len(page["domain_records"]) == 20
    only_a = listing(client, f"/v2/domains/{first}/records", "domain_records", type="A")
    assert only_a
    assert {r["type"] for r in only_a} == {"A"}
    www = listing(client, f"/v2/domains/{first}/records", "domain_records", name=f"www.{first}")
    assert [r["name"] for r in www] == ["www"]
    missing = client.get("/v2/domains/nowhere.example/records")
    assert missing.status_code == 404
    assert missing.json()["id"] == "not_found"


def test_certificates_cdn_and_uptime(client: httpx.Client) -> None:
    certificates = listing(client, "/v2/certificates", "certificates")
    assert Counter(c["state"] for c in certificates) == {"verified": 4, "pending": 1, "error": 1}
    expiring = [c for c in certificates if parse_time(c["not_after"]) - START < 14 * DAY]
    assert [c["type"] for c in expiring] == ["custom"]
    named = listing(client, "/v2/certificates", "certificates", name=certificates[1]["name"])
    assert named == [certificates[1]]
    by_id = {c["id"]: c for c in certificates}
    for endpoint in listing(client, "/v2/cdn/endpoints", "endpoints"):
        assert endpoint["origin"].endswith(".digitaloceanspaces.com")
        if "custom_domain" in endpoint:
            certificate = by_id[endpoint["certificate_id"]]
            zone = endpoint["custom_domain"].split(".", 1)[1]
            assert {endpoint["custom_domain"], f"*.{zone}"} & set(certificate["dns_names"])
    checks = listing(client, "/v2/uptime/checks", "checks")
    assert len(checks) == 5
    assert sum(1 for c in checks if not c["enabled"]) == 1
    down = []
    for check in checks:
        state = client.get(f"/v2/uptime/checks/{check['id']}/state").json()["state"]
        assert set(state["regions"]) == set(check["regions"])
        down += [(check["id"], r) for r, s in state["regions"].items() if s["status"] == "DOWN"]
    assert len(down) == 1
    assert client.get("/v2/uptime/checks/nothing/state").status_code == 404


def test_the_registry(client: httpx.Client) -> None:
    [listed] = client.get("/v2/registries").json()["registries"]
    registry = client.get("/v2/registry").json()["registry"]
    subscription = client.get("/v2/registry/subscription").json()["subscription"]
    assert listed == registry
    assert registry["subscription"] == subscription
    assert subscription["tier"]["slug"] == "professional"
    assert registry["name"] == "acme"
    assert 0 < registry["storage_usage_bytes"] < subscription["tier"]["included_storage_bytes"]


def test_several_registries_are_listed_and_the_deprecated_routes_answer_412(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Connect
) -> None:
    tier = {"slug": "basic", "name": "Basic", "monthly_price_in_cents": 500}
    created = "2026-01-01T00:00:00Z"
    fleet = Fleet.from_objects(registries=[
        {"name": "images", "region": "fra1", "created_at": created, "subscription": {"tier": tier}},
        {"name": "builds", "region": "sfo3", "created_at": created, "subscription": {"tier": tier}},
    ])
    simulator = start_simulator(
        SimulatorConfig(accounts=(SimAccount(name="acme", tokens=(READ_ONLY,), fleet=fleet),))
    )
    client = connect(simulator, READ_ONLY)
    listed = client.get("/v2/registries").json()["registries"]
    assert [(r["name"], r["region"]) for r in listed] == [("images", "fra1"), ("builds", "sfo3")]
    for path in ("/v2/registry", "/v2/registry/subscription"):
        response = client.get(path)
        assert response.status_code == 412
        assert response.json()["id"] == "precondition_failed"
    assert [c.description for c in fleet.ledger().charges] == ["images (Basic)", "builds (Basic)"]


# -- projects and tags -------------------------------------------------------------------------


def test_every_resource_is_in_exactly_one_project(
    everything: Simulator, client: httpx.Client
) -> None:
    projects = listing(client, "/v2/projects", "projects")
    assert len(projects) == 4
    assert sum(1 for p in projects if p["is_default"]) == 1
    account = client.get("/v2/account").json()["account"]
    owner = client.get("/v1/oauth/token/info").json()["resource_owner_id"]
    assert {(p["owner_uuid"], p["owner_id"]) for p in projects} == {(account["uuid"], owner)}
    where: dict[str, str] = {}
    for project in projects:
        for resource in listing(client, f"/v2/projects/{project['id']}/resources", "resources"):
            assert resource["urn"] not in where, resource["urn"]
            where[resource["urn"]] = project["id"]
            assert resource["status"] == "ok"
            assert resource["links"]["self"].startswith(everything.url + "/v2/")
    default = next(p["id"] for p in projects if p["is_default"])
    alias = listing(client, "/v2/projects/default/resources", "resources")
    assert {r["urn"] for r in alias} == {u for u, p in where.items() if p == default}
    r = everything.fleet("acme").resources
    expected = {
        *(f"do:droplet:{d}" for d in all_droplets(client)),
        *(f"do:volume:{v['id']}" for v in listing(client, "/v2/volumes", "volumes")),
        *(f"do:loadbalancer:{i.id}" for i in r.objects("load_balancers")),
        *(f"do:kubernetes:{i.id}" for i in r.objects("kubernetes_clusters")),
        *(f"do:dbaas:{i.id}" for i in r.objects("databases")),
        *(f"do:domain:{i.id}" for i in r.objects("domains")),
        *(f"do:floatingip:{i.id}" for i in r.objects("reserved_ips")),
        *(f"do:app:{i.id}" for i in r.objects("apps")),
        *(f"do:space:{i.id}" for i in r.objects("spaces_buckets")),
    }
    assert set(where) == expected
    for lb in listing(client, "/v2/load_balancers", "load_balancers"):
        assert where[f"do:loadbalancer:{lb['id']}"] == lb["project_id"]
    for ip in listing(client, "/v2/reserved_ips", "reserved_ips"):
        assert where[f"do:floatingip:{ip['ip']}"] == ip["project_id"]
    for database in client.get("/v2/databases").json()["databases"]:
        assert where[f"do:dbaas:{database['id']}"] == database["project_id"]
    for app in listing(client, "/v2/apps", "apps", with_projects="true"):
        assert where[f"do:app:{app['id']}"] == app["project_id"]
    for cluster in listing(client, "/v2/kubernetes/clusters", "kubernetes_clusters"):
        nodes = [n for p in cluster["node_pools"] for n in p["nodes"]]
        cluster_project = where[f"do:kubernetes:{cluster['id']}"]
        assert {where[f"do:droplet:{n['droplet_id']}"] for n in nodes} == {cluster_project}
    missing = client.get("/v2/projects/00000000-0000-4000-8000-000000000000/resources")
    assert missing.status_code == 404


def test_tags_count_exactly_the_tagged_objects(client: httpx.Client) -> None:
    droplets = all_droplets(client)
    volumes = listing(client, "/v2/volumes", "volumes")
    snapshots = listing(client, "/v2/snapshots", "snapshots")
    databases = client.get("/v2/databases").json()["databases"]
    tags = {t["name"]: t["resources"] for t in listing(client, "/v2/tags", "tags")}
    expected: dict[str, Counter[str]] = {}
    for droplet in droplets.values():
        for tag in droplet["tags"]:
            expected.setdefault(tag, Counter())["droplets"] += 1
    for volume in volumes:
        for tag in volume["tags"]:
            expected.setdefault(tag, Counter())["volumes"] += 1
    for snapshot in snapshots:
        kind = "images" if snapshot["resource_type"] == "droplet" else "volume_snapshots"
        for tag in snapshot["tags"]:
            expected.setdefault(tag, Counter())[kind] += 1
    for database in databases:
        for tag in database["tags"]:
            expected.setdefault(tag, Counter())["databases"] += 1
    for image in listing(client, "/v2/images", "images", private="true"):  # custom images
        for tag in image["tags"]:
            expected.setdefault(tag, Counter())["images"] += 1
    assert set(tags) == set(expected)
    for name, counts in expected.items():
        kinds = ("droplets", "images", "volumes", "volume_snapshots", "databases")
        assert {k: tags[name][k]["count"] for k in kinds} == {k: counts[k] for k in kinds}
        assert tags[name]["count"] == sum(counts.values())
        assert tags[name]["last_tagged_uri"].startswith("http://")
    web = listing(client, "/v2/droplets", "droplets", tag_name="web")
    assert tags["web"]["droplets"]["count"] == len(web)


def test_sizes_and_regions_are_the_catalogue(client: httpx.Client) -> None:
    sizes = listing(client, "/v2/sizes", "sizes")
    regions = listing(client, "/v2/regions", "regions")
    assert [s["slug"] for s in sizes] == [*REGULAR_SIZE_SLUGS, *GPU_SIZE_SLUGS]
    by_slug = {s["slug"]: s for s in sizes}
    region_slugs = {r["slug"] for r in regions}
    for droplet in all_droplets(client).values():
        assert droplet["size"] == by_slug[droplet["size_slug"]]
        assert droplet["region"]["slug"] in region_slugs
    first = client.get("/v2/sizes", params={"per_page": 5}).json()
    assert first["meta"]["total"] == len(sizes)
    assert "next" in first["links"]["pages"]


# -- change and cost ---------------------------------------------------------------------------


def test_destroyed_droplets_leave_everything_they_were_part_of(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Connect
) -> None:
    spec = FleetSpec(seed=8, droplets=150, volumes=10, reserved_ips=20, firewalls=4)
    simulator = start_simulator(
        SimulatorConfig(
            accounts=(SimAccount(name="acme", tokens=(READ_ONLY,), fleet=spec),),
            requests_per_minute=100_000,
        )
    )
    client = connect(simulator, READ_ONLY)
    fleet = simulator.fleet("acme")
    rate_before = fleet.hourly_run_rate()
    idle_before = sum(1 for ip in listing(client, "/v2/reserved_ips", "reserved_ips") if not ip["droplet"])
    tags_before = {t["name"]: t["resources"]["count"] for t in listing(client, "/v2/tags", "tags")}
    created, destroyed = simulator.mutate_fleet("acme", create_droplets=5, destroy_droplets=100)
    gone = set(destroyed)
    alive = set(all_droplets(client))
    assert not gone & alive
    for lb in listing(client, "/v2/load_balancers", "load_balancers"):
        assert set(lb["droplet_ids"]) <= alive
    for firewall in listing(client, "/v2/firewalls", "firewalls"):
        assert set(firewall["droplet_ids"]) <= alive
    for cluster in listing(client, "/v2/kubernetes/clusters", "kubernetes_clusters"):
        for pool in cluster["node_pools"]:
            assert {int(n["droplet_id"]) for n in pool["nodes"]} <= alive
    reserved = listing(client, "/v2/reserved_ips", "reserved_ips")
    idle_after = sum(1 for ip in reserved if not ip["droplet"])
    assert idle_after > idle_before
    assert all(ip["droplet"]["id"] in alive for ip in reserved if ip["droplet"])
    urns: set[str] = set()
    for project in listing(client, "/v2/projects", "projects"):
        found = listing(client, f"/v2/projects/{project['id']}/resources", "resources")
        urns |= {r["urn"] for r in found}
        if project["is_default"]:
            assert {f"do:droplet:{i}" for i in created} <= {r["urn"] for r in found}
    assert {u for u in urns if u.startswith("do:droplet:")} == {f"do:droplet:{i}" for i in alive}
    members = set()
    for vpc in listing(client, "/v2/vpcs", "vpcs"):
        members |= {m["urn"] for m in listing(client, f"/v2/vpcs/{vpc['id']}/members", "members")}
    assert {u for u in members if u.startswith("do:droplet:")} == {f"do:droplet:{i}" for i in alive}
    tags_after = {t["name"]: t["resources"]["count"] for t in listing(client, "/v2/tags", "tags")}
    assert tags_after["env:acme"] < tags_before["env:acme"]
    unassigned_cost = Decimal(str(RESERVED_IP_UNASSIGNED_MONTHLY)) / Decimal(672)
    assert fleet.hourly_run_rate() != rate_before
    assert (idle_after - idle_before) * unassigned_cost > 0


def test_the_run_rate_counts_every_billed_resource() -> None:
    fleet = Fleet.generate(FleetSpec(seed=3, droplets=300, gpu_droplets=1, volumes=5,
                                     dedicated_inferences=1), "acme")
    r = fleet.resources
    billed = (*r.objects("snapshots"), *r.objects("databases"), *r.objects("apps"),
              *r.objects("dedicated_inferences"))
    assert all(item.hourly_cost > 0 for item in billed)
    assert r.objects("registry") != ()
    idle = sum(
        1
        for ip in r.objects("reserved_ips")
        if ip.as_json(START, fleet.droplet_lookup)["droplet"] is None
    )
    assert idle > 0
    charges = fleet.ledger().charges
    assert {charge.product for charge in charges} == set(PRODUCTS)
    assert sum(1 for charge in charges if charge.product == "Reserved IPs") == idle
    assert fleet.hourly_run_rate() == sum((charge.hourly for charge in charges), Decimal(0))


@pytest.mark.parametrize("problems", [True, False])
def test_problems_decide_the_alert_worthy_states(problems: bool) -> None:
    spec = FleetSpec(seed=12, droplets=80, volumes=8, problems=problems)
    simulator = Simulator(
        SimulatorConfig(accounts=(SimAccount(name="acme", fleet=spec),)), clock=ManualClock()
    )
    found = alert_worthy(simulator, "acme", START)
    if problems:
        assert all(found.values()), found
    else:
        assert not any(found.values()), found
