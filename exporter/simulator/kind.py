"""`Kind`: what one DigitalOcean product is on the simulator side.

A kind module (`exporter/simulator/kinds/<name>.py`) declares one `KIND`: its name (the count
key of `FleetSpec` and of scenario files), the routes it serves with the read scope each needs
(from the spec's `security`), the list endpoint that serves it, how many of it a fleet has by
default, how its objects are built (`build`, reading the kinds named in `after`) and how they
are taken verbatim (`given`). `exporter.simulator.kinds.KINDS` collects them; the route table,
the fleet counts and their validation, the build order and `Fleet.from_objects` are derived
from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from exporter.simulator.building import BuildContext, GivenContext
from exporter.simulator.handling import Endpoint
from exporter.simulator.resources import Built, Forget

Derive = Callable[[int, Mapping[str, int]], int]
"""A default count from the number of Droplets and the counts of the kinds before it in KINDS."""


@dataclass(frozen=True)
class Count:
    """How many of a kind a fleet has.

    `fixed`: the FleetSpec default (a plain number, as for Droplets). Otherwise the FleetSpec
    default is None ("derive it") and `derive` gives the count; with `problems=True` it is
    raised to `problems_minimum`, so each alert-worthy state has an object to live on beside
    a healthy one. `flag`: the count is yes or no (one registry or none).
    """

    fixed: int | None = None
    derive: Derive | None = None
    problems_minimum: int = 0
    flag: bool = False

    def __post_init__(self) -> None:
        if (self.fixed is None) == (self.derive is None):
            raise ValueError("a Count is either fixed or derived")

    def resolve(self, given: int | None, droplets: int, problems: bool | None,
                earlier: Mapping[str, int]) -> int:
        """The count for a FleetSpec value (None: derived)."""
        if given is not None:
            return given
        if self.derive is None:
            return self.fixed or 0
        default = self.derive(droplets, earlier)
        value = max(default, self.problems_minimum) if problems is True else default
        return bool(value) if self.flag else value


@dataclass(frozen=True)
class Kind:
    name: str
    """The count key (`FleetSpec.<name>`, scenario `fleet.<name>`) or, for account-level
    answers with no count, just the module's name."""
    routes: tuple[Endpoint, ...] = ()
    list_endpoint: str | None = None
    """The endpoint that lists this kind (e.g. "/v2/load_balancers"), if any."""
    count: Count | None = None
    """None: not something a fleet has a number of (the account, billing, the catalogue)."""
    build: Callable[[BuildContext], Built | None] | None = None
    """Builds the kind's objects for a generated fleet (Droplets and volumes: None, they are
    made by `Fleet.generate` with `DropletFactory`; the volumes' builder only files them in
    projects)."""
    after: tuple[str, ...] = ()
    """Kinds whose objects `build` reads (`context.built(name)`): built before it, whatever
    the KINDS order."""
    plan: Callable[[BuildContext], None] | None = None
    """Runs before volumes are attached (Kubernetes turns Droplets into nodes)."""
    given: Callable[[GivenContext], Built | None] | None = None
    """Takes the kind's objects given to `Fleet.from_objects` (its `given_keys`) as they are;
    None from it: the kind is left out (derived from the fleet, like `/v2/tags`)."""
    given_keys: tuple[str, ...] | None = None
    """The `Fleet.from_objects` keywords `given` reads; None: just the kind's name."""
    forget: Forget | None = None
    """How one object lets go of destroyed Droplets (load balancers, firewalls, clusters)."""
    in_state: bool = False
    """Reported by `Simulator.describe()` (`/_simulator/state`)."""


class BuildOrderError(ValueError):
    """A kind declared `after=` an unknown kind, or kinds wait for each other."""


def build_order(kinds: Sequence[Kind]) -> tuple[Kind, ...]:
    """The kinds in the order they are built: `kinds` order, except that a kind waits for the
    kinds it declares in `after=` (a stable topological sort)."""
    names = {kind.name for kind in kinds}
    for kind in kinds:
        unknown = [name for name in kind.after if name not in names]
        if unknown:
            raise BuildOrderError(f"{kind.name} is built after unknown kinds: {unknown}")
    done: set[str] = set()
    order: list[Kind] = []
    waiting = list(kinds)
    while waiting:
        ready = next((k for k in waiting if done.issuperset(k.after)), None)
        if ready is None:
            cycle = ", ".join(f"{k.name} after {list(k.after)}" for k in waiting)
            raise BuildOrderError(f"kinds wait for each other: {cycle}")
        waiting.remove(ready)
        order.append(ready)
        done.add(ready.name)
    return tuple(order)
