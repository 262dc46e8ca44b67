"""One account's resources: Droplets, GPU Droplets, volumes, the account object, billing, and
(`Resources`, built by the kind modules) everything else the account runs.

A fleet is generated deterministically from a `FleetSpec` (same seed, same bytes) or loaded
verbatim from JSON objects (`Fleet.from_objects`, e.g. the spec's own examples). Each object is
serialised to JSON once and kept as bytes, so serving a page of 200 Droplets out of 50,000 is a
slice and a join. Mutations (churn) swap whole tuples under a lock, so a request that is paging
never sees a half-changed fleet; the listings derived from the Droplets (project resources,
VPC members, tags) are rebuilt on first use after a change.

Droplets and volumes are `ListedObject`s (`objects.py`) whose JSON `droplet_factory.py`
makes; every other kind is an `Item` made by its kind module (`kinds/<name>.py`, see
`resources.py` for how they are kept consistent with the Droplets).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from exporter.simulator.billing import Billing, Customer, GeneratedBilling, StaticBilling
from exporter.simulator.building import BuildContext
from exporter.simulator.catalog import REGULAR_SIZE_SLUGS
from exporter.simulator.determinism import seeded_random, stable_hex, stable_int
from exporter.simulator.droplet_factory import DropletFactory
from exporter.simulator.items import DropletLookup, Item
from exporter.simulator.kinds import build_resources, forgetting, plan_resources, resource_counts
from exporter.simulator.kinds.actions import Event
from exporter.simulator.kinds.actions import record as record_actions
from exporter.simulator.kinds.projects import projects
from exporter.simulator.kinds.reserved_ips import reserved_ips
from exporter.simulator.kinds.uptime_checks import uptime_checks
from exporter.simulator.kinds.vpcs import vpcs
from exporter.simulator.ledger import Ledger, build_ledger
from exporter.simulator.objects import ListedObject, listed_droplet, listed_volume
from exporter.simulator.resources import Resources, forget_droplets
from exporter.simulator.spec import FleetSpec
from exporter.simulator.verbatim import resources_from_objects
from exporter.simulator.views import Entry, project_listing, tag_listing, vpc_listing

JsonObject = dict[str, Any]
T = TypeVar("T")

ID_STRIDE = 5
"""Droplet ids grow with creation time but are not contiguous, like real ones."""


def default_owner_id(account_name: str) -> int:
    """The numeric id of an account (token/info's `resource_owner_id`) unless one is given."""
    return 1_000_000 + stable_int("owner", account_name) % 9_000_000


def default_status_counts(spec: FleetSpec) -> tuple[int, int, int]:
    """(off, new, archive): a realistic mostly-active fleet unless the spec says otherwise."""

    def share(given: int | None, one_in: int) -> int:
        if given is not None:
            return given
        # Fleets under ten Droplets stay all active, so small test fleets are easy to reason about.
        return 0 if spec.droplets < 10 else max(1, spec.droplets // one_in)

    off = share(spec.off_droplets, 20)
    new = share(spec.new_droplets, 100)
    archive = share(spec.archive_droplets, 100)
    if off + new + archive > spec.droplets:
        raise ValueError("FleetSpec: off, new and archive Droplets exceed the Droplet count")
    return off, new, archive


class Fleet:
    """The live resources of one account. Thread-safe; reads never block on mutations."""

    def __init__(
        self,
        *,
        droplets: Iterable[ListedObject],
        gpu_droplets: Iterable[ListedObject],
        volumes: Iterable[ListedObject],
        account: JsonObject,
        factory: DropletFactory,
        spec: FleetSpec,
        billing: Billing | None = None,
        resources: Resources | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._droplets = tuple(droplets)
        self._gpu_droplets = tuple(gpu_droplets)
        self._volumes = tuple(volumes)
        self._account = account
        self._factory = factory
        self._spec = spec
        self._resources = resources or Resources()
        self._mutations = 0
        self._views: dict[str, tuple[int, Any]] = {}
        self._names_issued = len(self._droplets) + len(self._gpu_droplets)
        self._index_droplets()
        self._index_resources()
        self._generated = self._generated_billing()
        self._billing: Billing = billing or self._generated

    def _generated_billing(self) -> GeneratedBilling:
        spec = self._spec
        account = self._account
        team = account.get("team") if isinstance(account.get("team"), dict) else {}
        name = self._factory.account_name
        return GeneratedBilling(
            owner_key=f"{spec.seed}:{name}",
            ledger=self.ledger,
            customer=Customer(
                name=str(account.get("name") or name.title()),
                email=str(account.get("email") or f"ops+{name}@example.com"),
                company=str((team or {}).get("name") or name.title()),
                key=f"{spec.seed}:{name}",
            ),
            account_balance=Decimal(spec.account_balance),
            month_to_date_usage=(
                None if spec.month_to_date_usage is None else Decimal(spec.month_to_date_usage)
            ),
            invoice_months=spec.invoice_months,
            invoice_amounts=(
                None
                if spec.invoice_amounts is None
                else tuple(Decimal(amount) for amount in spec.invoice_amounts)
            ),
            credit_ratio=Decimal(spec.invoice_credit_ratio),
        )

    def _index_droplets(self) -> None:
        self._droplets_by_id = {d.id: d for d in (*self._droplets, *self._gpu_droplets)}
        ids = [d.id for d in self._droplets_by_id.values() if isinstance(d.id, int)]
        self._highest_id = max(ids, default=100_000_000)

    def _index_resources(self) -> None:
        resources = self._resources
        self._checks_by_id = {str(check.id): check for check in uptime_checks(resources)}
        self._vpcs_by_id = {str(vpc.id): vpc for vpc in vpcs(resources)}
        self._projects_by_id = {str(project.id): project for project in projects(resources)}
        listed = projects(resources)
        default = next(
            (p for p in listed if b'"is_default":true' in p.parts[0]),
            listed[0] if listed else None,
        )
        self._default_project = "" if default is None else str(default.id)

    @classmethod
    def generate(
        cls,
        spec: FleetSpec,
        account_name: str,
        *,
        team_name: str | None = None,
        email: str | None = None,
        owner_id: int | None = None,
    ) -> Fleet:
        """The deterministic fleet of `spec`: the same spec and name give the same bytes.

        `owner_id` is the account's numeric id (token/info's `resource_owner_id`), which
        projects show as `owner_id`.
        """
        factory = DropletFactory(spec, account_name)
        rng = seeded_random("fleet", spec.seed, account_name)
        base_id = 100_000_000 + (stable_int(spec.seed, account_name) % 800) * 1_000_000
        total = spec.droplets + spec.gpu_droplets
        span = spec.created_span_days * 86_400
        start = spec.created_until - span
        step = span / max(total, 1)

        off, new, archive = default_status_counts(spec)
        statuses = ["active"] * spec.droplets
        # New Droplets are the most recently created; the rest are scattered.
        for position in range(spec.droplets - new, spec.droplets):
            statuses[position] = "new"
        chosen = rng.sample(range(spec.droplets - new), off + archive)
        for position in chosen[:off]:
            statuses[position] = "off"
        for position in chosen[off:]:
            statuses[position] = "archive"

        regular: list[JsonObject] = []
        gpu: list[JsonObject] = []
        gpu_every = max(1, total // max(spec.gpu_droplets, 1))
        regular_index = gpu_index = 0
        for position in range(total):
            droplet_id = base_id + position * ID_STRIDE + rng.randrange(ID_STRIDE)
            created_at = start + position * step + rng.random() * step * 0.5
            gpus_left = spec.gpu_droplets - gpu_index
            is_gpu = gpus_left > 0 and (
                position % gpu_every == gpu_every - 1 or total - position <= gpus_left
            )
            if is_gpu:
                gpu_index += 1
                gpu.append(
                    factory.droplet(
                        rng,
                        droplet_id=droplet_id,
                        index=gpu_index,
                        created_at=created_at,
                        status="active",
                        gpu=True,
                    )
                )
            else:
                regular.append(
                    factory.droplet(
                        rng,
                        droplet_id=droplet_id,
                        index=regular_index + 1,
                        created_at=created_at,
                        status=statuses[regular_index],
                    )
                )
                regular_index += 1

        account = cls._account_object(spec, account_name, total, team_name, email)
        context = BuildContext(
            spec,
            account_name,
            factory,
            droplets=regular,
            gpu_droplets=gpu,
            start=start,
            span=span,
            owner_uuid=str(account["uuid"]),
            owner_id=default_owner_id(account_name) if owner_id is None else owner_id,
            next_droplet_id=base_id + total * ID_STRIDE + ID_STRIDE,
            counts=resource_counts(spec),
        )
        # Kubernetes nodes are Droplets of the fleet: they are chosen (and renamed, resized,
        # moved) before volumes are attached, so attachments agree with the nodes' regions.
        plan_resources(context)
        volumes = cls._generate_volumes(
            spec=spec, factory=factory, rng=rng, droplets=regular, start=start, span=span
        )
        resources = build_resources(context, volumes)
        if len(regular) + len(gpu) != total:  # dedicated node Droplets of a tiny fleet
            account = cls._account_object(spec, account_name, len(regular) + len(gpu), team_name, email)
        # An account holding more reserved IPs than the default limit had it raised.
        for limit in ("floating_ip_limit", "reserved_ip_limit"):
            account[limit] = max(account[limit], len(reserved_ips(resources)))
        return cls(
            droplets=[factory.listed(d) for d in regular],
            gpu_droplets=[factory.listed(d) for d in gpu],
            volumes=[listed_volume(v) for v in volumes],
            account=account,
            factory=factory,
            spec=spec,
            resources=resources,
        )

    @staticmethod
    def _generate_volumes(
        *,
        spec: FleetSpec,
        factory: DropletFactory,
        rng: random.Random,
        droplets: list[JsonObject],
        start: float,
        span: float,
    ) -> list[JsonObject]:
        unattached = (
            spec.unattached_volumes if spec.unattached_volumes is not None else spec.volumes // 4
        )
        unattached = min(unattached, spec.volumes)
        hosts = [d for d in droplets if d["status"] != "archive"]
        if not hosts:
            unattached = spec.volumes
        volumes: list[JsonObject] = []
        for index in range(spec.volumes):
            created_at = start + span * (index + 0.5) / max(spec.volumes, 1)
            if index < spec.volumes - unattached:
                host = hosts[rng.randrange(len(hosts))]
                volume = factory.volume(
                    rng,
                    index=index + 1,
                    region=host["region"]["slug"],
                    created_at=created_at,
                    droplet_ids=[host["id"]],
                )
                host["volume_ids"] = [*host["volume_ids"], volume["id"]]
            else:
                region = rng.choice(factory.regions).slug
                volume = factory.volume(
                    rng, index=index + 1, region=region, created_at=created_at, droplet_ids=[]
                )
            volumes.append(volume)
        return volumes

    @staticmethod
    def _account_object(
        spec: FleetSpec,
        account_name: str,
        droplet_count: int,
        team_name: str | None,
        email: str | None,
    ) -> JsonObject:
        limit = spec.droplet_limit
        if limit is None:
            limit = max(25, -(-int(droplet_count * 1.25) // 25) * 25)
        owner = stable_hex(40, "user", spec.seed, account_name)
        team = stable_hex(40, "team", spec.seed, account_name)
        return {
            "droplet_limit": limit,
            "floating_ip_limit": spec.floating_ip_limit,
            "reserved_ip_limit": spec.reserved_ip_limit,
            "volume_limit": spec.volume_limit,
            "email": email or f"ops+{account_name}@example.com",
            "name": f"{account_name.title()} Operator",
            "uuid": owner,
            "email_verified": True,
            "status": "active",
            "status_message": "",
            "team": {"uuid": team, "name": team_name or account_name.replace("-", " ").title()},
        }

    @classmethod
    def from_objects(
        cls,
        *,
        droplets: Sequence[Mapping[str, Any]] = (),
        gpu_droplets: Sequence[Mapping[str, Any]] = (),
        volumes: Sequence[Mapping[str, Any]] = (),
        account: Mapping[str, Any] | None = None,
        balance: Mapping[str, Any] | None = None,
        invoices: Sequence[Mapping[str, Any]] | None = None,
        invoice_preview: Mapping[str, Any] | None = None,
        billing_history: Sequence[Mapping[str, Any]] | None = None,
        invoice_summaries: Mapping[str, Mapping[str, Any]] | None = None,
        account_name: str = "example",
        **resources: Any,
    ) -> Fleet:
        """A fleet that serves exactly these objects, in this order.

        `resources` are the other kinds (each kind's `given_keys`, see `verbatim.py`), each a
        list of API objects unless said otherwise:
        snapshots, reserved_ips (also served as floating IPs), reserved_ipv6s, load_balancers,
        kubernetes_clusters, databases (with credentials: tokens without
        `database:view_credentials` get them removed), apps, domains, domain_records
        ({domain name: [records]}), firewalls, vpcs, vpc_members ({vpc id: [members]}),
        cdn_endpoints, certificates, registry and registry_subscription (objects; None: no
        registry), uptime_checks, uptime_states ({check id: state}), projects,
        project_resources ({project id: [resources]}), tags, sizes, regions; database_replicas,
        database_backups, database_events, kubernetes_upgrades, kubernetes_clusterlint (None: a
        404, never linted) and kubernetes_status_messages ({cluster id: answer}, served as given),
        database_options (the /v2/databases/options answer, served as given).

        Parts left out are generated as for an empty `FleetSpec` (one default project, no
        registry, the catalogue's sizes and regions); project resources, VPC members and tags
        left out are derived from the given objects; billing parts left out are computed from
        the given objects' prices. `billing_history` (entries) and `invoice_summaries` ({invoice
        uuid: summary}) are served as given; without them, given invoices get a history and
        summaries of their own amounts.
        """
        spec = FleetSpec(droplets=0)
        factory = DropletFactory(spec, account_name)
        account_object = (
            dict(account)
            if account is not None
            else cls._account_object(
                spec, account_name, len(droplets) + len(gpu_droplets), None, None
            )
        )
        try:
            given = resources_from_objects(
                resources,
                volumes=volumes,
                owner_uuid=str(account_object.get("uuid", "")),
                owner_id=default_owner_id(account_name),
                account_name=account_name,
            )
        except TypeError as error:
            raise TypeError(f"Fleet.from_objects: {error}") from None
        fleet = cls(
            droplets=[listed_droplet(d) for d in droplets],
            gpu_droplets=[listed_droplet(d) for d in gpu_droplets],
            volumes=[listed_volume(v) for v in volumes],
            account=account_object,
            factory=factory,
            spec=spec,
            resources=given,
        )
        given_billing = (balance, invoices, billing_history, invoice_summaries)
        if any(part is not None for part in given_billing):
            fleet._billing = StaticBilling(
                fallback=fleet._generated,
                balance_object=None if balance is None else dict(balance),
                invoice_objects=None if invoices is None else tuple(dict(i) for i in invoices),
                invoice_preview_object=None if invoice_preview is None else dict(invoice_preview),
                history_objects=(
                    None if billing_history is None else tuple(dict(e) for e in billing_history)
                ),
                summary_objects=(
                    None
                    if invoice_summaries is None
                    else {uuid: dict(summary) for uuid, summary in invoice_summaries.items()}
                ),
            )
        return fleet

    @property
    def droplets(self) -> tuple[ListedObject, ...]:
        """Regular Droplets: what `GET /v2/droplets` lists by default."""
        return self._droplets

    @property
    def gpu_droplets(self) -> tuple[ListedObject, ...]:
        """GPU Droplets: listed only with `?type=gpus`."""
        return self._gpu_droplets

    @property
    def volumes(self) -> tuple[ListedObject, ...]:
        return self._volumes

    @property
    def resources(self) -> Resources:
        """Everything else: snapshots, load balancers, clusters, databases, apps, ..."""
        return self._resources

    @property
    def billing(self) -> Billing:
        return self._billing

    @property
    def default_project(self) -> str:
        return self._default_project

    def account_object(self) -> JsonObject:
        return dict(self._account)

    def find_droplet(self, droplet_id: int) -> ListedObject | None:
        return self._droplets_by_id.get(droplet_id)

    def droplet_body(self, droplet_id: int) -> bytes | None:
        """A Droplet's current bytes (for the objects that embed it), None once destroyed."""
        droplet = self._droplets_by_id.get(droplet_id)
        return None if droplet is None else droplet.body

    @property
    def droplet_lookup(self) -> DropletLookup:
        return self.droplet_body

    def find_uptime_check(self, check_id: str) -> Item | None:
        return self._checks_by_id.get(check_id)

    def find_vpc(self, vpc_id: str) -> Item | None:
        return self._vpcs_by_id.get(vpc_id)

    def find_project(self, project_id: str) -> Item | None:
        if project_id == "default":
            project_id = self._default_project
        return self._projects_by_id.get(project_id)

    def ledger(self) -> Ledger:
        """Every charge of the fleet as it is now (see `ledger.py`), rebuilt after a change."""
        return self._view(
            "ledger",
            lambda: build_ledger(
                droplets=self._all_droplets(),
                volumes=self._volumes,
                resources=self._resources,
                droplet_exists=lambda droplet_id: droplet_id in self._droplets_by_id,
            ),
        )

    def hourly_run_rate(self) -> Decimal:
        """The hourly price of everything the fleet is billed for, as its ledger has it:
        Droplets not archived (nodes once, as Kubernetes) and their backups, volumes,
        snapshots, unassigned reserved IPs, load balancers, HA control planes, databases, the
        registry, apps and the Spaces subscription (no monthly cap applied)."""
        return self.ledger().hourly_rate()

    # -- listings derived from the live Droplets ---------------------------------------------

    def _view(self, name: str, build: Callable[[], T]) -> T:
        """`build()` once per fleet generation (Droplets created or destroyed start a new one).

        The generation is read before `build` reads the Droplets, and `mutate` bumps it after
        swapping them, so a view is never cached under a generation newer than its Droplets.
        """
        generation = self._mutations
        cached = self._views.get(name)
        if cached is not None and cached[0] == generation:
            value: T = cached[1]
            return value
        value = build()
        self._views[name] = (generation, value)
        return value

    def project_resources(self, project_id: str) -> tuple[Entry, ...] | None:
        """The resource entries of a project ("default" is the default one); None if unknown."""
        project = self.find_project(project_id)
        if project is None:
            return None
        listing = self._view(
            "projects",
            lambda: project_listing(self._resources, self._all_droplets(), self._default_project),
        )
        return listing.get(str(project.id), ())

    def vpc_members(self, vpc_id: str) -> tuple[Entry, ...] | None:
        if self.find_vpc(vpc_id) is None:
            return None
        listing = self._view("vpcs", lambda: vpc_listing(self._resources, self._all_droplets()))
        return listing.get(vpc_id, ())

    def tags(self) -> tuple[Item, ...]:
        if self._resources.has("tags"):
            return self._resources.objects("tags")
        return self._view(
            "tags", lambda: tag_listing(self._resources, self._all_droplets(), self._volumes)
        )

    def _all_droplets(self) -> tuple[ListedObject, ...]:
        return (*self._droplets, *self._gpu_droplets)

    # -- change ------------------------------------------------------------------------------

    def mutate(
        self,
        *,
        create: int = 0,
        destroy: int = 0,
        now: float,
        resize: int = 0,
        power_off: int = 0,
        power_on: int = 0,
        failed_resizes: int = 0,
    ) -> tuple[list[int], list[int]]:
        """Destroy `destroy` regular Droplets, then create `create`; return both lists of ids.
        Then resize `resize` active Droplets one size up, power off `power_off` active ones,
        power on `power_on` that are off, and fail `failed_resizes` resizes (the Droplet stays
        as it was); each change is recorded as an action (`kinds/actions.py`).

        Deterministic: which Droplets go and what the new ones look like depends only on the
        spec and on how many mutations came before. Volumes of a destroyed Droplet stay,
        detached; it leaves its load balancers, firewalls and node pool, and its reserved IP is
        unassigned. New Droplets are in the default project.
        """
        if min(create, destroy, resize, power_off, power_on, failed_resizes) < 0:
            raise ValueError("mutation counts must not be negative")
        with self._lock:
            seed = self._spec.seed
            rng = seeded_random("mutation", seed, self._factory.account_name, self._mutations + 1)
            droplets = list(self._droplets)
            victims = sorted(rng.sample(range(len(droplets)), min(destroy, len(droplets))))
            destroyed = [droplets[i] for i in victims]
            for position in reversed(victims):
                del droplets[position]
            volumes = self._detach(destroyed)
            created: list[int] = []
            for _ in range(create):
                self._highest_id += 1 + rng.randrange(ID_STRIDE)
                self._names_issued += 1
                droplet = self._factory.droplet(
                    rng,
                    droplet_id=self._highest_id,
                    index=self._names_issued,
                    created_at=now,
                    status="active",
                )
                droplets.append(self._factory.listed(droplet))
                created.append(self._highest_id)
            events = [Event("destroy", int(d.id), d.as_json()["region"], now) for d in destroyed]
            events += [Event("create", int(d.id), d.as_json()["region"], now)
                       for d in droplets[len(droplets) - len(created):]]
            events += self._change_droplets(
                droplets, rng, now, resize=resize, power_off=power_off, power_on=power_on,
                failed_resizes=failed_resizes, fresh=set(created),
            )
            self._resources = record_actions(forget_droplets(
                self._resources, {int(d.id) for d in destroyed}, forgetting()
            ), events)
            self._droplets = tuple(droplets)
            self._volumes = volumes
            highest = self._highest_id
            self._index_droplets()
            self._highest_id = max(self._highest_id, highest)
            # Last: a reader that sees the new generation also sees the new Droplets.
            self._mutations += 1
            return created, [int(d.id) for d in destroyed]

    def _change_droplets(
        self,
        droplets: list[ListedObject],
        rng: random.Random,
        now: float,
        *,
        resize: int,
        power_off: int,
        power_on: int,
        failed_resizes: int,
        fresh: set[int],
    ) -> list[Event]:
        """Resize, power off and on Droplets of `droplets` in place (none just created, none
        twice); the actions that record it."""
        events: list[Event] = []
        used: set[int] = set()

        def pick(count: int, status: str) -> list[int]:
            candidates = [i for i, d in enumerate(droplets)
                          if d.status == status and d.id not in fresh and i not in used]
            chosen = sorted(rng.sample(candidates, min(count, len(candidates))))
            used.update(chosen)
            return chosen

        changes = (("resize", resize, "active"), ("power_off", power_off, "active"),
                   ("power_on", power_on, "off"), ("failed_resize", failed_resizes, "active"))
        for change, count, status in changes:
            for position in pick(count, status):
                body = droplets[position].as_json()
                if change == "resize":
                    slugs = REGULAR_SIZE_SLUGS
                    at = slugs.index(body["size_slug"]) if body["size_slug"] in slugs else -1
                    bigger = slugs[at + 1] if 0 <= at < len(slugs) - 1 else slugs[0]
                    body = self._factory.resized(body, bigger)
                elif change in {"power_off", "power_on"}:
                    body["status"] = "off" if change == "power_off" else "active"
                if change != "failed_resize":
                    droplets[position] = self._factory.listed(body)
                action = "resize" if change == "failed_resize" else change
                events.append(Event(action, int(body["id"]), body["region"], now,
                                    status="errored" if change == "failed_resize" else "completed"))
        return events

    def _detach(self, destroyed: Sequence[ListedObject]) -> tuple[ListedObject, ...]:
        gone = {d.id for d in destroyed}
        if not any(d.attachments for d in destroyed):
            return self._volumes
        volumes: list[ListedObject] = []
        for volume in self._volumes:
            if gone.intersection(volume.attachments):
                body = volume.as_json()
                body["droplet_ids"] = [i for i in body.get("droplet_ids") or () if i not in gone]
                volumes.append(listed_volume(body))
            else:
                volumes.append(volume)
        return tuple(volumes)
