"""Invoice summary: GET /v2/customers/my/invoices (newest invoice) and
GET /v2/customers/my/invoices/{invoice_uuid}/summary (scope billing:read, default every 6h, two
requests per poll).

Where the last bill came from: product charges by product, overages, taxes, and credits and
adjustments, for the most recent finished invoice. Names, addresses and emails in the summary
are never read.

    digitalocean_invoice_product_charges_usd{account="production",period="2020-01",product="Database Clusters"} 2.34
    digitalocean_invoice_taxes_usd{account="production",period="2020-01"} 4.56
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample
from exporter.collectors.fields import (
    as_object,
    money,
    objects,
    optional_money,
    optional_str,
    required_str,
)

INVOICES_ENDPOINT = "/v2/customers/my/invoices"
SUMMARY_ENDPOINT = "/v2/customers/my/invoices/{invoice_uuid}/summary"
_SOURCE = "/v2/customers/my/invoices/{uuid}/summary"

PRODUCT_CHARGES = Family(
    "digitalocean_invoice_product_charges_usd",
    f"Charges per product on the latest invoice, polled from {_SOURCE}.",
    ("period", "product"),
)
OVERAGES = Family("digitalocean_invoice_overages_usd",
                  f"Overages on the latest invoice, polled from {_SOURCE}.", ("period",))
TAXES = Family("digitalocean_invoice_taxes_usd",
               f"Taxes on the latest invoice, polled from {_SOURCE}.", ("period",))
CREDITS = Family(
    "digitalocean_invoice_credits_and_adjustments_usd",
    f"Credits and adjustments on the latest invoice (as DigitalOcean reports them), polled from "
    f"{_SOURCE}.",
    ("period",),
)


@dataclass(frozen=True, slots=True)
class InvoiceSummaryRecord:
    period: str
    products: tuple[tuple[str, Decimal], ...]  # (product, amount), sorted by product
    overages: Decimal | None
    taxes: Decimal | None
    credits: Decimal | None


def newest_invoice(body: Mapping[str, Any]) -> str | None:
    """The uuid of the newest finished invoice in an invoice list page, if any."""
    newest: tuple[str, str] | None = None
    for path, invoice in objects(body.get("invoices") or [], f"{INVOICES_ENDPOINT} invoices"):
        period = optional_str(invoice, "invoice_period")
        if newest is None or period > newest[0]:
            newest = (period, required_str(invoice, "invoice_uuid", path))
    return None if newest is None else newest[1]


def parse_summary(body: Mapping[str, Any]) -> InvoiceSummaryRecord:
    where = _SOURCE
    charges = body.get("product_charges")
    products: dict[str, Decimal] = {}
    if charges is not None:
        charges = as_object(charges, f"{where} product_charges")
        for path, item in objects(charges.get("items") or [], f"{where} product_charges.items"):
            name = optional_str(item, "name") or "unknown"
            products[name] = products.get(name, Decimal(0)) + money(item, "amount", path)

    def section(key: str) -> Decimal | None:
        value = body.get(key)
        return None if value is None else optional_money(as_object(value, f"{where} {key}"),
                                                         "amount", f"{where} {key}")

    return InvoiceSummaryRecord(
        period=optional_str(body, "billing_period"),
        products=tuple(sorted(products.items())),
        overages=section("overages"),
        taxes=section("taxes"),
        credits=section("credits_and_adjustments"),
    )


async def fetch(reader: ResourceReader) -> InvoiceSummaryRecord | None:
    # The first page is newest first; one invoice is enough to find the latest.
    uuid = newest_invoice(await reader.get(INVOICES_ENDPOINT, params={"per_page": "1"}))
    if uuid is None:
        return None  # a new account has no invoice yet
    return parse_summary(await reader.get(SUMMARY_ENDPOINT, path={"invoice_uuid": uuid}))


def samples(record: InvoiceSummaryRecord | None) -> Iterator[Sample]:
    if record is None:
        return
    period = (record.period,)
    for product, amount in record.products:
        yield PRODUCT_CHARGES.name, (*period, product), float(amount)
    for family, value in ((OVERAGES, record.overages), (TAXES, record.taxes),
                          (CREDITS, record.credits)):
        if value is not None:
            yield family.name, period, float(value)


COLLECTOR: Collector[InvoiceSummaryRecord | None] = Collector(
    name="invoice_summary",
    summary="the latest invoice by product, with overages, taxes and credits",
    endpoints=(INVOICES_ENDPOINT, SUMMARY_ENDPOINT),
    id_label="",
    scope="billing:read",
    interval=6 * 3600.0,
    families=(PRODUCT_CHARGES, OVERAGES, TAXES, CREDITS),
    fetch=fetch,
    samples=samples,
)
