"""Balance and invoices of one simulated account, as `/v2/customers/my/*` reports them.

Money is `Decimal` and leaves as a two-decimal string, exactly like the real billing API.
Generated billing follows the clock: the invoice preview is the current month, past invoices
are the months before it, and month-to-date usage grows with the fleet's hourly run rate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from exporter.simulator.determinism import stable_fraction, stable_uuid

JsonObject = dict[str, Any]

CENT = Decimal("0.01")


def money(amount: Decimal) -> str:
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def iso_utc(timestamp: float) -> str:
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


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


class Billing(Protocol):
    def balance(self, now: float) -> JsonObject: ...

    def invoices(self, now: float) -> tuple[list[JsonObject], JsonObject | None]: ...


@dataclass(frozen=True)
class GeneratedBilling:
    """Billing computed from the fleet's current run rate and the clock.

    `hourly_run_rate` is read on every request, so droplets created or destroyed at runtime
    show up in month-to-date usage.
    """

    owner_key: str
    hourly_run_rate: Callable[[], Decimal]
    account_balance: Decimal = Decimal("0.00")
    month_to_date_usage: Decimal | None = None
    invoice_months: int = 14
    invoice_amounts: tuple[Decimal, ...] | None = None

    def _generated_at(self, now: float) -> datetime:
        # DigitalOcean regenerates balances periodically, not per request: hourly here, so
        # two polls within the hour agree.
        moment = datetime.fromtimestamp(int(now), UTC)
        return moment.replace(minute=0, second=0, microsecond=0)

    def _usage(self, generated_at: datetime) -> Decimal:
        if self.month_to_date_usage is not None:
            return self.month_to_date_usage
        started = month_start(generated_at.year, generated_at.month)
        hours = Decimal(int((generated_at - started).total_seconds()) // 3600)
        rate = self.hourly_run_rate()
        return min(rate * hours, rate * 672).quantize(CENT, rounding=ROUND_HALF_UP)

    def balance(self, now: float) -> JsonObject:
        generated_at = self._generated_at(now)
        usage = self._usage(generated_at)
        return {
            "month_to_date_balance": money(self.account_balance + usage),
            "account_balance": money(self.account_balance),
            "month_to_date_usage": money(usage),
            "generated_at": generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def _invoice(self, year: int, month: int, amount: Decimal) -> JsonObject:
        period = f"{year:04d}-{month:02d}"
        number = 10_000_000 + int(stable_fraction(self.owner_key, "invoice-id", period) * 9e7)
        return {
            "invoice_uuid": stable_uuid(self.owner_key, "invoice", period),
            "invoice_id": str(number),
            "amount": money(amount),
            "invoice_period": period,
        }

    def _past_amounts(self, months: Sequence[tuple[int, int]]) -> list[Decimal]:
        if self.invoice_amounts is not None:
            return list(self.invoice_amounts[: len(months)])
        monthly = self.hourly_run_rate() * 672
        # Spend drifts a little month to month; deterministic per period.
        return [
            monthly * Decimal(str(round(0.85 + 0.17 * stable_fraction(self.owner_key, y, m), 4)))
            for y, m in months
        ]

    def invoices(self, now: float) -> tuple[list[JsonObject], JsonObject | None]:
        generated_at = self._generated_at(now)
        count = self.invoice_months
        if self.invoice_amounts is not None:
            count = len(self.invoice_amounts)
        months = previous_months(generated_at, count)
        amounts = self._past_amounts(months)
        invoices = [
            self._invoice(year, month, amount)
            for (year, month), amount in zip(months, amounts, strict=True)
        ]
        preview = self._invoice(generated_at.year, generated_at.month, self._usage(generated_at))
        preview["updated_at"] = generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return invoices, preview


@dataclass(frozen=True)
class StaticBilling:
    """Billing objects served verbatim, e.g. the spec's own examples. None parts fall back."""

    fallback: Billing
    balance_object: JsonObject | None = None
    invoice_objects: tuple[JsonObject, ...] | None = None
    invoice_preview_object: JsonObject | None = None

    def balance(self, now: float) -> JsonObject:
        if self.balance_object is None:
            return self.fallback.balance(now)
        return dict(self.balance_object)

    def invoices(self, now: float) -> tuple[list[JsonObject], JsonObject | None]:
        if self.invoice_objects is None:
            return self.fallback.invoices(now)
        return [dict(invoice) for invoice in self.invoice_objects], self.invoice_preview_object
