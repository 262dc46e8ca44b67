"""`Kind`: what one DigitalOcean product is on the simulator side.

A kind module (`exporter/simulator/kinds/<name>.py`) declares one `KIND`: its name (the count
key of `FleetSpec` and of scenario files), the routes it serves with the read scope each needs
(from the spec's `security`), the list endpoint that serves it, how many of it a fleet has by
default, and where its objects are built. `exporter.simulator.kinds.KINDS` collects them; the
route table, the fleet counts and their validation are derived from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from exporter.simulator.handling import Endpoint

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
    build: Callable[..., object] | None = None
    """Where one object of the kind is made (a `DropletFactory` or `ResourceBuilder` method)."""
    in_state: bool = False
    """Reported by `Simulator.describe()` (`/_simulator/state`)."""
