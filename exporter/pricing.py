"""List prices the API does not give, for the cost estimates: a dated table shipped with the
package (`exporter/data/prices.yml`, every figure with its source), overridable in the config.

Droplet and Kubernetes node prices are not here: the API returns them (a Droplet's `size`, and
`/v2/sizes`). Amounts are Decimal from strings, never floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

DATABASE_KEY = "database_node_month"


@dataclass(frozen=True)
class PriceTable:
    as_of: str
    hours_per_month: int
    prices: Mapping[str, Decimal]  # key -> amount; see prices.yml for the keys
    sources: Mapping[str, str]  # key -> the page the amount comes from
    database_node_month: Mapping[str, Decimal]  # size slug -> monthly price per node

    def amount(self, key: str) -> Decimal:
        return self.prices[key]

    def hourly(self, monthly: Decimal) -> Decimal:
        """The hourly price of a monthly one: DigitalOcean caps a month at 672 hours."""
        return monthly / self.hours_per_month

    def with_overrides(
        self, prices: Mapping[str, Decimal], database_sizes: Mapping[str, Decimal]
    ) -> PriceTable:
        """The table with the config's `pricing:` section applied (keys already validated)."""
        if not prices and not database_sizes:
            return self
        sources = {**self.sources, **dict.fromkeys(prices, "config file (pricing:)")}
        return replace(
            self,
            prices=MappingProxyType({**self.prices, **prices}),
            sources=MappingProxyType(sources),
            database_node_month=MappingProxyType({**self.database_node_month, **database_sizes}),
        )


def load_price_table() -> PriceTable:
    """The table shipped with the package."""
    text = resources.files("exporter").joinpath("data/prices.yml").read_text(encoding="utf-8")
    return parse_price_table(yaml.safe_load(text))


def parse_price_table(doc: Any) -> PriceTable:
    prices = {key: Decimal(str(entry["amount"])) for key, entry in doc["prices"].items()}
    sources = {key: str(entry["source"]) for key, entry in doc["prices"].items()}
    database = doc[DATABASE_KEY]
    sources[DATABASE_KEY] = str(database["source"])
    return PriceTable(
        as_of=str(doc["as_of"]),
        hours_per_month=int(doc["hours_per_month"]),
        prices=MappingProxyType(prices),
        sources=MappingProxyType(sources),
        database_node_month=MappingProxyType(
            {slug: Decimal(str(amount)) for slug, amount in database["sizes"].items()}
        ),
    )
