"""Billing against the official examples: money strings parsed exactly as Decimal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exporter.collectors import billing
from exporter.collectors.fields import ShapeError
from tests.conftest import example_reader


async def test_values_from_the_balance_and_invoices_examples() -> None:
    record = await billing.fetch(example_reader())
    assert record.account_balance == Decimal("12.23")
    assert record.month_to_date_balance == Decimal("23.44")
    assert record.month_to_date_usage == Decimal("11.21")
    assert record.preview == billing.InvoiceRecord("2020-02", Decimal("34.56"))
    assert record.invoices == (
        billing.InvoiceRecord("2019-12", Decimal("12.34")),
        billing.InvoiceRecord("2019-11", Decimal("23.45")),
    )
    assert list(billing.samples(record)) == [
        ("digitalocean_balance_account_usd", (), 12.23),
        ("digitalocean_balance_month_to_date_balance_usd", (), 23.44),
        ("digitalocean_balance_month_to_date_usage_usd", (), 11.21),
        ("digitalocean_balance_generated_timestamp_seconds", (), 1562684472.0),
        ("digitalocean_invoice_preview_amount_usd", ("2020-02",), 34.56),
        ("digitalocean_invoice_amount_usd", ("2019-12",), 12.34),
        ("digitalocean_invoice_amount_usd", ("2019-11",), 23.45),
    ]


def test_only_the_newest_12_invoices_are_kept() -> None:
    body = {"invoices": [{"invoice_period": f"2025-{m:02d}", "amount": f"{m}.10"}
                         for m in range(1, 13)] + [{"invoice_period": "2024-12", "amount": "1"}]}
    _, invoices = billing.parse_invoices(body)
    assert [i.period for i in invoices] == [f"2025-{m:02d}" for m in range(12, 0, -1)]


def test_negative_balance_is_credit() -> None:
    balance, *_ = billing.parse_balance({"account_balance": "-50.00"})
    assert balance == Decimal("-50.00")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"account_balance": "twelve"},
         "/v2/customers/my/balance.account_balance: 'twelve' is not an amount"),
        ({"account_balance": True},
         '/v2/customers/my/balance.account_balance: expected an amount such as "23.44", got a boolean'),
        ({"account_balance": "NaN"},
         "/v2/customers/my/balance.account_balance: 'NaN' is not a finite amount"),
    ],
)
def test_bad_amounts_name_the_field(body: dict[str, object], message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        billing.parse_balance(body)
    assert str(caught.value) == message
