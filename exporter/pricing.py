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
APP_KEY = "app_instance_month"
SIZE_TABLES = (DATABASE_KEY, APP_KEY)  # prices by size slug


@dataclass(frozen=True)
class PriceTable:
    as_of: str
    hours_per_month: int
    prices: Mapping[str, Decimal]  # key -> amount; see prices.yml for the keys
    sources: Mapping[str, str]  # key -> the page the amount comes from
    size_tables: Mapping[str, Mapping[str, Decimal]]  # table -> size slug -> monthly price

    def amount(self, key: str) -> Decimal:
        return self.prices[key]

    @property
    def database_node_month(self) -> Mapping[str, Decimal]:
        """Managed database price per node, by size slug."""
        return self.size_tables[DATABASE_KEY]

    @property
    def app_instance_month(self) -> Mapping[str, Decimal]:
        """App Platform price per instance, by size slug."""
        return self.size_tables[APP_KEY]

    def hourly(self, monthly: Decimal) -> Decimal:
        """The hourly price of a monthly one: DigitalOcean caps a month at 672 hours."""
        return monthly / self.hours_per_month

    def with_overrides(
        self, prices: Mapping[str, Decimal], tables: Mapping[str, Mapping[str, Decimal]]
    ) -> PriceTable:
        """The table with the config's `pricing:` section applied (keys already validated)."""
        if not prices and not tables:
            return self
        sources = {**self.sources, **dict.fromkeys(prices, "config file (pricing:)")}
        return replace(
            self,
            prices=MappingProxyType({**self.prices, **prices}),
            sources=MappingProxyType(sources),
            size_tables=MappingProxyType({
                name: MappingProxyType({**table, **tables.get(name, {})})
                for name, table in self.size_tables.items()
            }),
        )


def load_price_table() -> PriceTable:
    """The table shipped with the package."""
    text = resources.files("exporter").joinpath("data/prices.yml").read_text(encoding="utf-8")
    return parse_price_table(yaml.safe_load(text))


def parse_price_table(doc: Any) -> PriceTable:
    prices = {key: Decimal(str(entry["amount"])) for key, entry in doc["prices"].items()}
    sources = {key: str(entry["source"]) for key, entry in doc["prices"].items()}
    tables = {}
    for name in SIZE_TABLES:
        sources[name] = str(doc[name]["source"])
        tables[name] = MappingProxyType(
            {slug: Decimal(str(amount)) for slug, amount in doc[name]["sizes"].items()}
        )
    return PriceTable(
        as_of=str(doc["as_of"]),
        hours_per_month=int(doc["hours_per_month"]),
        prices=MappingProxyType(prices),
        sources=MappingProxyType(sources),
        size_tables=MappingProxyType(tables),
    )
