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
"""

from __future__ import annotations

from exporter.simulator.config import (
    READ_ONLY_SCOPES,
    SimAccount,
    SimToken,
    SimulatorConfig,
    generated_token,
)
from exporter.simulator.spec import FleetSpec

PRODUCTION_CREDIT_RATIO = "0.04"
"""The promotional credit on production's past invoices: their amounts are this share below
the fleet's full-month cost, so the forecast of the month in progress is above the last one."""


def demo_config(seed: int = 0) -> SimulatorConfig:
    """The `--demo` simulator configuration; deterministic for a given seed."""
    production = SimAccount(
        name="production",
        team_name="Production",
        tokens=(
            SimToken(
                name="production-read-only",
                token=generated_token(seed, "production", "production-read-only"),
                scopes=READ_ONLY_SCOPES,
            ),
        ),
        fleet=FleetSpec(
            seed=seed,
            droplets=36,
            gpu_droplets=2,
            volumes=10,
            unattached_volumes=1,
            off_droplets=1,
            new_droplets=1,
            archive_droplets=1,
            regions=("nyc3", "fra1", "sfo3", "tor1"),
            tags=("web", "api", "worker", "db"),
            # Past invoices 4 % below the fleet's full-month cost: the forecast of the month in
            # progress is above the last invoice, so the cost alert fires in the demo.
            invoice_credit_ratio=PRODUCTION_CREDIT_RATIO,
            reserved_ips=3,
            reserved_ipv6s=2,
            load_balancers=3,
            kubernetes_clusters=2,
            databases=3,
            apps=3,
            domains=2,
            firewalls=2,
            custom_vpcs=1,
            cdn_endpoints=1,
            certificates=3,
            uptime_checks=3,
            projects=3,
            registry=True,
            problems=True,
        ),
    )
    staging = SimAccount(
        name="staging",
        team_name="Staging",
        tokens=(
            SimToken(
                name="staging-read-only",
                token=generated_token(seed, "staging", "staging-read-only"),
                scopes=READ_ONLY_SCOPES,
            ),
        ),
        fleet=FleetSpec(
            seed=seed + 1,
            droplets=14,
            gpu_droplets=1,
            volumes=4,
            unattached_volumes=1,
            off_droplets=1,
            new_droplets=1,
            archive_droplets=1,
            regions=("nyc3", "ams3"),
            tags=("web", "worker"),
            account_balance="-25.00",
            reserved_ips=1,
            load_balancers=1,
            kubernetes_clusters=1,
            databases=1,
            apps=1,
            domains=1,
            firewalls=1,
            certificates=1,
            uptime_checks=1,
            projects=2,
            registry=False,
            problems=False,
        ),
    )
    return SimulatorConfig(accounts=(production, staging), seed=seed)
