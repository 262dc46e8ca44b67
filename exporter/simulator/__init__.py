"""A faithful fake of the DigitalOcean API, for `--demo`, end-to-end tests and benchmarks.

One standard-library HTTP server serves both the API (`/v2/...`) and the token introspection
endpoint (`/v1/oauth/token/info`), so its `url` is both `api.url` and `auth_url`. It pages,
rate-limits, checks scopes and fails exactly like DigitalOcean, on an injected clock:

    from exporter.simulator import Simulator, demo_config

    sim = Simulator(demo_config(seed=1))
    sim.start(host="127.0.0.1", port=0)
    ...  # point the exporter at sim.url
    sim.requests.count(endpoint="/v2/droplets", token_name="production-read-only")
    sim.stop()

Scenario files (YAML, `load_scenario`) describe accounts, fleets, tokens, rate limits and
faults; the format is documented in `exporter/simulator/README.md`, with examples in
`exporter/simulator/scenarios/`. `python -m exporter.simulator --scenario FILE --port N` runs
one standalone.

Billing agrees with the fleet: usage, the invoice preview, past invoices and their summaries,
the billing history and Billing Insights are all computed from what the fleet's resources
cost (`ledger.py`), so an estimate made from the served resources can be checked exactly.

Each product is one module of `exporter/simulator/kinds/` (its routes, scopes, count and
builder), collected in `kinds.KINDS`; the route table, the fleet counts, the build order and
`Fleet.from_objects` are derived from it (README.md: "Adding a kind").

Besides Droplets, volumes, the account and billing, every other resource an account runs is
served (snapshots, reserved IPs, load balancers, Kubernetes, databases, apps, domains and
records, firewalls, VPCs and members, CDN, certificates, registry, uptime, projects, tags,
sizes, regions), generated to agree with the Droplets: see the README's endpoint table.

Module map: config (frozen descriptions), catalog (regions, sizes, images, prices), fleet
(Droplets, volumes and their cached JSON; the live `Fleet`), resources (every other kind's
objects by kind name), building (what a kind's builder works with), items (serialised
objects whose bytes depend on the clock or other objects), views (project resources, VPC
members and tags, derived from the live fleet), verbatim (objects given to
`Fleet.from_objects`), ledger (what each resource costs, by DigitalOcean's rules and the
exporter's price table), billing (balance, invoices, summaries, history and
insights from the ledger), timefmt, paging, ratelimit, faults, endpoints (one
handler per GET endpoint), server (the `Simulator` and the order requests are judged in),
transport (HTTP), control (`/_simulator/` API), scenario (YAML), demo (`demo_config`).
"""

from exporter.simulator.config import (
    FULL_ACCESS_SCOPES,
    READ_ONLY_SCOPES,
    Fault,
    SimAccount,
    SimToken,
    SimulatorConfig,
    generated_token,
)
from exporter.simulator.demo import demo_config
from exporter.simulator.endpoints import ENDPOINTS, NOT_IN_SPEC
from exporter.simulator.fleet import Fleet
from exporter.simulator.handling import Endpoint
from exporter.simulator.requestlog import RequestLog, RequestRecord
from exporter.simulator.scenario import ScenarioError, load_scenario, parse_scenario
from exporter.simulator.server import Simulator
from exporter.simulator.spec import FleetSpec

__all__ = [
    "ENDPOINTS",
    "FULL_ACCESS_SCOPES",
    "NOT_IN_SPEC",
    "READ_ONLY_SCOPES",
    "Endpoint",
    "Fault",
    "Fleet",
    "FleetSpec",
    "RequestLog",
    "RequestRecord",
    "ScenarioError",
    "SimAccount",
    "SimToken",
    "Simulator",
    "SimulatorConfig",
    "demo_config",
    "generated_token",
    "load_scenario",
    "parse_scenario",
]
