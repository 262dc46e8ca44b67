"""Balance, invoices, invoice summaries, billing history and Billing Insights of one account.

Money is `Decimal` and leaves as a two-decimal string, exactly like the real billing API.
Generated billing is computed from the fleet's own charges (`ledger.py`: DigitalOcean's rules,
the exporter's price table) on the injected clock, so everything agrees:

* `month_to_date_usage` (balance) and the invoice preview's `amount` are the fleet's
  month-to-date cost at `generated_at`, the clock truncated to the hour (DigitalOcean
  regenerates balances periodically; polls within an hour agree). `month_to_date_balance` is
  `account_balance` plus that usage. The preview's `updated_at` is the same moment.
* Past invoices (newest first, `invoice_months` of them) bill the current fleet's full-month
  cost of each month (a resource created later counts from its creation). Their summaries
  split that by product; `credits_and_adjustments` is `invoice_credit_ratio` of the product
  charges (none by default), shown negative, and `amount` = product charges + overages +
  taxes + credits and adjustments (overages and taxes are 0.00). With explicit
  `invoice_amounts` the products are scaled to each given amount.
* The billing history lists an Invoice entry per past invoice (the 1st of the next month), a
  Payment of the same amount, negative, a few days later (not yet listed while that moment is
  in the future), and a Credit entry when the account has a credit balance (a negative
  `account_balance`, from a referral). Oldest first: see `history_entries`.
* Billing Insights has one data point per charge per UTC day up to the clock's hour (the
  clock's own day so far), so the days of a month add up to its month-to-date cost.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from exporter.simulator.determinism import stable_fraction, stable_int, stable_uuid
from exporter.simulator.ledger import (
    DROPLETS,
    ZERO,
    Ledger,
    ProductTotal,
    apportion,
    cents,
    money,
    month_bounds,
    month_start,
)
from exporter.simulator.timefmt import iso_utc

__all__ = [
    "Billing",
    "Customer",
    "GeneratedBilling",
    "Statement",
    "StaticBilling",
    "history_entries",
    "iso_utc",
    "money",
]

JsonObject = dict[str, Any]

DAY = 86_400


def previous_months(now: datetime, count: int) -> list[tuple[int, int]]:
    """(year, month) of the `count` months before `now`'s month, newest first."""
    months: list[tuple[int, int]] = []
    year, month = now.year, now.month
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append((year, month))
    return months


def period_of(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def parse_period(period: str) -> tuple[int, int] | None:
    try:
        year, month = (int(part) for part in period.split("-"))
    except ValueError:
        return None
    return (year, month) if 1 <= month <= 12 else None


def decimal_or_zero(value: object) -> Decimal:
    """A money string as given verbatim; anything unreadable counts as zero."""
    try:
        return Decimal(str(value)) if value is not None else ZERO
    except ArithmeticError:
        return ZERO


def hour_of(now: float) -> int:
    """`now` truncated to the hour: when DigitalOcean last generated the balance."""
    return int(now) // 3600 * 3600


class Billing(Protocol):
    def balance(self, now: float) -> JsonObject: ...

    def invoices(self, now: float) -> tuple[list[JsonObject], JsonObject | None]: ...

    def invoice_summary(self, invoice_uuid: str, now: float) -> JsonObject | None:
        """None: no invoice (past or preview) has that uuid."""
        ...

    def history(self, now: float) -> list[JsonObject]: ...

    def insights(self, team_urn: str, first: date, last: date, now: float) -> list[JsonObject]:
        """Billing Insights data points of the days `first` to `last` (inclusive)."""
        ...


@dataclass(frozen=True)
class Customer:
    """Who is invoiced: fake personal data the summaries carry (the exporter never reads it)."""

    name: str = "Sammy Shark"
    email: str = "sammy@example.com"
    company: str = "Example"
    key: str = "example"

    def address(self) -> JsonObject:
        number = 100 + stable_int("address", self.key) % 800
        return {
            "address_line1": f"{number} Example Row",
            "address_line2": "",
            "city": "Springfield",
            "region": "OR",
            "postal_code": f"97{stable_int('postal', self.key) % 1000:03d}",
            "country_iso2_code": "US",
            "created_at": "2019-09-03T16:34:46.000+00:00",
            "updated_at": "2019-09-03T16:34:46.000+00:00",
        }


@dataclass(frozen=True)
class Statement:
    """One invoice (or the preview): its product charges, rounded so they add up, and credits."""

    period: str
    uuid: str
    invoice_id: str
    products: tuple[tuple[str, Decimal, int], ...]
    """(product, amount, count of charges), amounts in cents."""
    credits: Decimal = ZERO
    """Given back on this invoice (positive; shown negative)."""

    @property
    def charges(self) -> Decimal:
        return sum((amount for _, amount, _ in self.products), ZERO)

    @property
    def amount(self) -> Decimal:
        return self.charges - self.credits

    def listed(self) -> JsonObject:
        return {
            "invoice_uuid": self.uuid,
            "invoice_id": self.invoice_id,
            "amount": money(self.amount),
            "invoice_period": self.period,
        }

    def summary(self, customer: Customer) -> JsonObject:
        return {
            "invoice_uuid": self.uuid,
            "invoice_id": self.invoice_id,
            "billing_period": self.period,
            "amount": money(self.amount),
            "user_name": customer.name,
            "user_billing_address": customer.address(),
            "user_company": customer.company,
            "user_email": customer.email,
            "product_charges": {
                "name": "Product usage charges",
                "amount": money(self.charges),
                "items": [
                    {"amount": money(amount), "name": name, "count": str(count)}
                    for name, amount, count in self.products
                ],
            },
            "overages": {"name": "Overages", "amount": "0.00"},
            "taxes": {"name": "Taxes", "amount": "0.00"},
            "credits_and_adjustments": {
                "name": "Credits & adjustments",
                "amount": money(ZERO - self.credits),
            },
        }


def rounded_products(
    breakdown: Sequence[ProductTotal], target: Decimal | None = None
) -> tuple[tuple[str, Decimal, int], ...]:
    """Product amounts in cents that add up to the rounded total (or to `target`, scaled)."""
    if target is not None and (target <= 0 or not breakdown):
        return ((DROPLETS, cents(target), 1),) if target != 0 else ()
    amounts = apportion([p.amount for p in breakdown], target)
    return tuple((p.product, amount, p.count) for p, amount in zip(breakdown, amounts, strict=True))


def invoice_ids(owner_key: str, period: str) -> tuple[str, str]:
    """(uuid, number) of an account's invoice for a period: the preview keeps them."""
    number = 10_000_000 + int(stable_fraction(owner_key, "invoice-id", period) * 9e7)
    return stable_uuid(owner_key, "invoice", period), str(number)


def history_entries(
    invoices: Sequence[Mapping[str, Any]],
    *,
    account_balance: Decimal,
    owner_key: str,
    now: float,
) -> list[JsonObject]:
    """The billing history of these invoice list entries, oldest first.

    Order: the real API's is undocumented; the spec's example (an invoice of 2018-06-01, then
    its payment of 2018-06-02, with `next`/`last` links on the first page) is oldest first,
    so the simulator is too. Per invoice: an Invoice entry on the 1st of the month after its
    period, in the first hour (never after the clock), and, for a positive amount, a Payment
    of the same amount, negative, 2 to 5 days later, listed once the clock has reached it.
    A negative `account_balance` is a credit from a referral: one Credit entry of that amount,
    dated in the month before the clock's, so the history adds up to the balance once the
    newest invoice is paid.
    """
    last4 = f"{stable_int('card', owner_key) % 10_000:04d}"
    dated: list[tuple[int, int, JsonObject]] = []
    for invoice in invoices:
        parsed = parse_period(str(invoice.get("invoice_period", "")))
        if parsed is None:
            continue
        year, month = parsed
        _, issued_month = month_bounds(year, month)
        period = period_of(year, month)
        issued = min(issued_month + stable_int(owner_key, "issued", period) % 3600, int(now))
        amount = decimal_or_zero(invoice.get("amount"))
        label = f"{calendar.month_name[month]} {year}"
        dated.append(
            (
                issued,
                0,
                {
                    "description": f"Invoice for {label}",
                    "amount": money(amount),
                    "invoice_id": str(invoice.get("invoice_id", "")),
                    "invoice_uuid": str(invoice.get("invoice_uuid", "")),
                    "date": iso_utc(issued),
                    "type": "Invoice",
                },
            )
        )
        paid = issued_month + (2 + stable_int(owner_key, "paid", period) % 4) * DAY
        paid += stable_int(owner_key, "paid-at", period) % DAY
        if amount > 0 and paid <= now:
            dated.append(
                (
                    paid,
                    1,
                    {
                        "description": f"Payment (Visa {last4})",
                        "amount": money(ZERO - amount),
                        "date": iso_utc(paid),
                        "type": "Payment",
                    },
                )
            )
    if account_balance < 0:
        this_month = month_start(now)
        credited = month_start(this_month - 1) + 10 * DAY + 10 * 3600
        credited += stable_int(owner_key, "credit") % 3600
        dated.append(
            (
                credited,
                2,
                {
                    "description": "Credit: referral program",
                    "amount": money(account_balance),
                    "date": iso_utc(credited),
                    "type": "Credit",
                },
            )
        )
    dated.sort(key=lambda entry: (entry[0], entry[1]))
    return [entry for _, _, entry in dated]


@dataclass(frozen=True)
class GeneratedBilling:
    """Billing computed from the fleet's charges and the clock.

    `ledger` is called on every request, so Droplets created or destroyed at runtime show up
    in month-to-date usage (and, as the current fleet, in past months).
    """

    owner_key: str
    ledger: Callable[[], Ledger]
    customer: Customer = field(default_factory=Customer)
    account_balance: Decimal = ZERO
    month_to_date_usage: Decimal | None = None
    """A fixed usage instead of the fleet's (tests); the preview shows it too."""
    invoice_months: int = 14
    invoice_amounts: tuple[Decimal, ...] | None = None
    credit_ratio: Decimal = ZERO
    """Share of each past invoice's product charges given back as credits."""

    def usage(self, at: float) -> Decimal:
        """Month-to-date usage in cents on a clock reading `at`."""
        if self.month_to_date_usage is not None:
            return self.month_to_date_usage
        return cents(self.ledger().month_to_date(at))

    def balance(self, now: float) -> JsonObject:
        at = hour_of(now)
        usage = self.usage(at)
        return {
            "month_to_date_balance": money(self.account_balance + usage),
            "account_balance": money(self.account_balance),
            "month_to_date_usage": money(usage),
            "generated_at": iso_utc(at),
        }

    def preview(self, at: int) -> Statement:
        moment = datetime.fromtimestamp(at, UTC)
        period = period_of(moment.year, moment.month)
        uuid, number = invoice_ids(self.owner_key, period)
        breakdown = self.ledger().breakdown(month_start(at), at, at)
        return Statement(period, uuid, number, rounded_products(breakdown, self.month_to_date_usage))

    def statements(self, at: int) -> list[Statement]:
        """The past invoices on a clock reading `at`, newest first."""
        count = self.invoice_months
        if self.invoice_amounts is not None:
            count = len(self.invoice_amounts)
        months = previous_months(datetime.fromtimestamp(at, UTC), count)
        ledger = self.ledger()
        out: list[Statement] = []
        for index, (year, month) in enumerate(months):
            period = period_of(year, month)
            uuid, number = invoice_ids(self.owner_key, period)
            start, end = month_bounds(year, month)
            breakdown = ledger.breakdown(start, end, at)
            if self.invoice_amounts is not None:
                products = rounded_products(breakdown, self.invoice_amounts[index])
                out.append(Statement(period, uuid, number, products))
                continue
            products = rounded_products(breakdown)
            charges = sum((amount for _, amount, _ in products), ZERO)
            credits = cents(charges * self.credit_ratio) if charges > 0 else ZERO
            out.append(Statement(period, uuid, number, products, credits))
        return out

    def invoices(self, now: float) -> tuple[list[JsonObject], JsonObject | None]:
        at = hour_of(now)
        preview = self.preview(at).listed()
        preview["updated_at"] = iso_utc(at)
        return [statement.listed() for statement in self.statements(at)], preview

    def invoice_summary(self, invoice_uuid: str, now: float) -> JsonObject | None:
        at = hour_of(now)
        for statement in (self.preview(at), *self.statements(at)):
            if statement.uuid == invoice_uuid:
                return statement.summary(self.customer)
        return None

    def summary_of(self, invoice: Mapping[str, Any], now: float) -> JsonObject | None:
        """A summary for an invoice given verbatim: the fleet's products of its period, scaled
        to its amount."""
        parsed = parse_period(str(invoice.get("invoice_period", "")))
        if parsed is None:
            return None
        start, end = month_bounds(*parsed)
        at = hour_of(now)
        breakdown = self.ledger().breakdown(start, min(end, at), at) if start < at else ()
        target = decimal_or_zero(invoice.get("amount"))
        statement = Statement(
            period_of(*parsed),
            str(invoice.get("invoice_uuid", "")),
            str(invoice.get("invoice_id", "")),
            rounded_products(breakdown, target),
        )
        return statement.summary(self.customer)

    def history(self, now: float) -> list[JsonObject]:
        invoices = [s.listed() for s in self.statements(hour_of(now))]
        return history_entries(
            invoices, account_balance=self.account_balance, owner_key=self.owner_key, now=now
        )

    def insights(self, team_urn: str, first: date, last: date, now: float) -> list[JsonObject]:
        """Computed on the clock's hour, like the balance (today's point grows hourly), and
        kept for the pages that follow."""
        at = hour_of(now)
        ledger = self.ledger()
        points: list[JsonObject] = ledger.remember(
            ("insights", team_urn, first, last, at),
            lambda: self._insights(ledger, team_urn, first, last, at),
        )
        return points

    @staticmethod
    def _insights(
        ledger: Ledger, team_urn: str, first: date, last: date, now: float
    ) -> list[JsonObject]:
        points: list[JsonObject] = []
        day = first
        while day <= last:
            costs = ledger.day(day, now)
            amounts = apportion([cost for _, cost in costs])
            text = day.isoformat()
            for (charge, _), amount in zip(costs, amounts, strict=True):
                points.append(
                    {
                        "usage_team_urn": team_urn,
                        "start_date": text,
                        "total_amount": money(amount),
                        "region": charge.region,
                        "sku": charge.sku,
                        "description": charge.description,
                        "group_description": charge.group,
                    }
                )
            day += timedelta(days=1)
        return points


@dataclass(frozen=True)
class StaticBilling:
    """Billing objects served verbatim, e.g. the spec's own examples. None parts fall back
    (a given invoice list brings its own history, and summaries scaled to its amounts)."""

    fallback: GeneratedBilling
    balance_object: JsonObject | None = None
    invoice_objects: tuple[JsonObject, ...] | None = None
    invoice_preview_object: JsonObject | None = None
    history_objects: tuple[JsonObject, ...] | None = None
    summary_objects: Mapping[str, JsonObject] | None = None

    def balance(self, now: float) -> JsonObject:
        if self.balance_object is None:
            return self.fallback.balance(now)
        return dict(self.balance_object)

    def invoices(self, now: float) -> tuple[list[JsonObject], JsonObject | None]:
        if self.invoice_objects is None:
            return self.fallback.invoices(now)
        return [dict(invoice) for invoice in self.invoice_objects], self.invoice_preview_object

    def invoice_summary(self, invoice_uuid: str, now: float) -> JsonObject | None:
        if self.summary_objects is not None and invoice_uuid in self.summary_objects:
            return dict(self.summary_objects[invoice_uuid])
        if self.invoice_objects is None:
            return self.fallback.invoice_summary(invoice_uuid, now)
        given = [*self.invoice_objects, *filter(None, (self.invoice_preview_object,))]
        for invoice in given:
            if invoice.get("invoice_uuid") == invoice_uuid:
                return self.fallback.summary_of(invoice, now)
        return None

    def history(self, now: float) -> list[JsonObject]:
        if self.history_objects is not None:
            return [dict(entry) for entry in self.history_objects]
        if self.invoice_objects is None:
            return self.fallback.history(now)
        return history_entries(
            self.invoice_objects,
            account_balance=decimal_or_zero(self.balance(now).get("account_balance")),
            owner_key=self.fallback.owner_key,
            now=now,
        )

    def insights(self, team_urn: str, first: date, last: date, now: float) -> list[JsonObject]:
        return self.fallback.insights(team_urn, first, last, now)

