"""Billing: GET /v2/customers/my/balance and GET /v2/customers/my/invoices (scope billing:read,
default every 1h, two requests per poll).

Money arrives as strings ("23.44") and is parsed as Decimal; it becomes a float only as a sample.
The invoice list gives the preview of the month in progress and the last 12 invoices.

    digitalocean_balance_month_to_date_usage_usd{account="production"} 11.21
    digitalocean_invoice_amount_usd{account="production",period="2019-12"} 12.34
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
    timestamp,
)
from exporter.tasks import all_or_nothing

BALANCE_ENDPOINT = "/v2/customers/my/balance"
INVOICES_ENDPOINT = "/v2/customers/my/invoices"
INVOICES_KEPT = 12

ACCOUNT_BALANCE = Family(
    "digitalocean_balance_account_usd",
    "Balance of the most recent billing activity, without this month's usage (negative is "
    "credit), polled from /v2/customers/my/balance.",
)
MTD_BALANCE = Family(
    "digitalocean_balance_month_to_date_balance_usd",
    "Account balance plus month-to-date usage, polled from /v2/customers/my/balance.",
)
MTD_USAGE = Family(
    "digitalocean_balance_month_to_date_usage_usd",
    "Usage charged so far this billing period, polled from /v2/customers/my/balance.",
)
GENERATED = Family(
    "digitalocean_balance_generated_timestamp_seconds",
    "When DigitalOcean last computed the balance, polled from /v2/customers/my/balance.",
)
PREVIEW = Family(
    "digitalocean_invoice_preview_amount_usd",
    "Invoice preview for the billing period in progress, polled from /v2/customers/my/invoices.",
    ("period",),
)
INVOICE = Family(
    "digitalocean_invoice_amount_usd",
    "Amount of each of the last 12 invoices, polled from /v2/customers/my/invoices.",
    ("period",),
)


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    period: str  # YYYY-MM
    amount: Decimal


@dataclass(frozen=True, slots=True)
class BillingRecord:
    account_balance: Decimal | None
    month_to_date_balance: Decimal | None
    month_to_date_usage: Decimal | None
    generated_at: float | None
    preview: InvoiceRecord | None
    invoices: tuple[InvoiceRecord, ...]  # newest first, at most 12


BalanceFields = tuple[Decimal | None, Decimal | None, Decimal | None, float | None]


def parse_balance(body: Mapping[str, Any]) -> BalanceFields:
    where = BALANCE_ENDPOINT
    return (
        optional_money(body, "account_balance", where),
        optional_money(body, "month_to_date_balance", where),
        optional_money(body, "month_to_date_usage", where),
        timestamp(body, "generated_at"),
    )


def parse_invoices(body: Mapping[str, Any]) -> tuple[InvoiceRecord | None, tuple[InvoiceRecord, ...]]:
    where = INVOICES_ENDPOINT
    preview = None
    if body.get("invoice_preview") is not None:
        raw = as_object(body["invoice_preview"], f"{where} invoice_preview")
        preview = InvoiceRecord(
            period=optional_str(raw, "invoice_period"),
            amount=money(raw, "amount", f"{where} invoice_preview"),
        )
    by_period: dict[str, InvoiceRecord] = {}
    for path, raw in objects(body.get("invoices", []), f"{where} invoices"):
        period = optional_str(raw, "invoice_period")
        if period and period not in by_period:
            by_period[period] = InvoiceRecord(period, money(raw, "amount", path))
    newest = sorted(by_period.values(), key=lambda i: i.period, reverse=True)[:INVOICES_KEPT]
    return preview, tuple(newest)


async def fetch(reader: ResourceReader) -> BillingRecord:
    balance_body, invoices_body = await all_or_nothing([
        reader.get(BALANCE_ENDPOINT),
        # The first page is newest first and carries the preview; 12 invoices fit in it.
        reader.get(INVOICES_ENDPOINT, params={"per_page": str(INVOICES_KEPT)}),
    ])
    balance, mtd_balance, mtd_usage, generated = parse_balance(balance_body)
    preview, invoices = parse_invoices(invoices_body)
    return BillingRecord(balance, mtd_balance, mtd_usage, generated, preview, invoices)


def samples(record: BillingRecord) -> Iterator[Sample]:
    for family, amount in (
        (ACCOUNT_BALANCE, record.account_balance),
        (MTD_BALANCE, record.month_to_date_balance),
        (MTD_USAGE, record.month_to_date_usage),
    ):
        if amount is not None:
            yield family.name, (), float(amount)
    if record.generated_at is not None:
        yield GENERATED.name, (), record.generated_at
    if record.preview is not None:
        yield PREVIEW.name, (record.preview.period,), float(record.preview.amount)
    for invoice in record.invoices:
        yield INVOICE.name, (invoice.period,), float(invoice.amount)


COLLECTOR: Collector[BillingRecord] = Collector(
    name="billing",
    summary="balance, month-to-date usage, invoice preview and the last 12 invoices",
    endpoints=(BALANCE_ENDPOINT, INVOICES_ENDPOINT),
    id_label="",
    scope="billing:read",
    interval=3600.0,
    families=(ACCOUNT_BALANCE, MTD_BALANCE, MTD_USAGE, GENERATED, PREVIEW, INVOICE),
    fetch=fetch,
    samples=samples,
)
