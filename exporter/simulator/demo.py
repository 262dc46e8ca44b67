"""The fleet behind `digitalocean-exporter --demo`: two accounts with something worth alerting on.

`production` is heading for a bigger bill than last month's, and has a Droplet that is off and
an unattached volume, and among its other resources one of each thing worth an alert
(`problems=True`): an unassigned reserved IP, a snapshot older than 90 days, an errored load
balancer, a degraded Kubernetes cluster with a node pool below its minimum, a database that
is not online, an app whose latest deployment failed (and one deploying), a certificate that
expires within 14 days of the clock, an uptime check down in one region, and a container
registry that is almost full. `staging` is smaller: it has an off Droplet and an unattached
volume too, but all its other resources are healthy (`problems=False`) and it has no registry,
so tests can tell that those alerts fire for production only. Tokens are read-only and derived
from the seed at runtime, so no secret is written down.

Billing is the fleets' own (see `billing.py`): nothing is fixed. "Spend above last month" holds
by consistency: production's past invoices carry a 4 % promotional credit
(`invoice_credit_ratio`), so its last invoice is 4 % below the fleet's full-month cost, and the
month-end forecast (month-to-date usage extrapolated over the month) is at least that full
cost on any day of any month (from the first hour on). `staging` has a $25 referral credit on
its balance, a Credit entry in its billing history.

The fleet is written down once, in `scenarios/demo.yml` (seed 0, with comments saying why
each number is what it is); `demo_config(seed)` is that file with its seeds moved by `seed`.
"""

from __future__ import annotations

from dataclasses import replace

from exporter.simulator.config import SimAccount, SimulatorConfig, generated_token
from exporter.simulator.scenario import bundled_scenario
from exporter.simulator.spec import FleetSpec


def demo_config(seed: int = 0) -> SimulatorConfig:
    """The `--demo` simulator configuration: `scenarios/demo.yml` with every seed moved by
    `seed` (each account's fleet seed, and the tokens derived from it); deterministic."""
    shipped = bundled_scenario("demo")
    return replace(shipped, seed=seed, accounts=tuple(reseeded(a, seed) for a in shipped.accounts))


def reseeded(account: SimAccount, seed: int) -> SimAccount:
    fleet = account.fleet
    if isinstance(fleet, FleetSpec):
        fleet = replace(fleet, seed=fleet.seed + seed)
    tokens = tuple(
        replace(token, token=generated_token(seed, account.name, token.name))
        for token in account.tokens
    )
    return replace(account, fleet=fleet, tokens=tokens)
