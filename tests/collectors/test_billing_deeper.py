"""Invoice summary, billing history and Billing Insights against the official examples."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from exporter.collectors import billing_history, billing_insights, invoice_summary
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.conftest import schema_example, spec_example

SUMMARY = "/v2/customers/my/invoices/{invoice_uuid}/summary"
INSIGHTS = "/v2/billing/{account_urn}/insights/{start_date}/{end_date}"


async def test_invoice_summary_of_the_newest_invoice() -> None:
    reader = FakeReader({
        "/v2/customers/my/invoices?per_page=1": spec_example("/v2/customers/my/invoices"),
        SUMMARY: spec_example(SUMMARY),
    })
    record = await invoice_summary.fetch(reader)
    assert reader.requests[-1].path == {"invoice_uuid": "22737513-0ea7-4206-8ceb-98a575af7681"}  # 2019-12
    assert list(invoice_summary.samples(record)) == [
        ("digitalocean_invoice_product_charges_usd", ("2020-01", "Database Clusters"), 2.34),
        ("digitalocean_invoice_product_charges_usd", ("2020-01", "Spaces Subscription"), 10.0),
        ("digitalocean_invoice_overages_usd", ("2020-01",), 3.45),
        ("digitalocean_invoice_taxes_usd", ("2020-01",), 4.56),
        ("digitalocean_invoice_credits_and_adjustments_usd", ("2020-01",), 6.78),
    ]
    assert "sammy" not in repr(record).lower()
    assert "Atlantis" not in repr(record)


async def test_no_invoice_yet_means_no_summary_request() -> None:
    reader = FakeReader({
        "/v2/customers/my/invoices?per_page=1": {"invoices": [], "meta": {"total": 0}},
    })
    assert await invoice_summary.fetch(reader) is None
    assert list(invoice_summary.samples(None)) == []
    assert len(reader.requests) == 1


def test_summary_items_of_the_same_product_add_up_exactly() -> None:
    record = invoice_summary.parse_summary({"billing_period": "2026-10", "product_charges": {
        "items": [{"name": "Droplets", "amount": "0.10"}, {"name": "Droplets", "amount": "0.20"}]
    }})
    assert record.products == (("Droplets", Decimal("0.30")),)
    assert (record.overages, record.taxes, record.credits) == (None, None, None)


async def test_billing_history_latest_entry_per_type() -> None:
    history = "/v2/customers/my/billing_history"
    # The example is the first of three pages (its links name pages 2 and 3, per_page=2)
    reader = FakeReader({
        history: spec_example(history),
        f"{history}?page=2&per_page=2": {"billing_history": [], "links": {"pages": {
            "next": "https://api.digitalocean.com/v2/customers/my/billing_history?page=3&per_page=2"}}},
        f"{history}?page=3&per_page=2": {"billing_history": [], "links": {}},
    })
    entries = await billing_history.fetch(reader)
    # The spec declares no parameters for this list: the first request sends none, the next
    # ones the query of the link the answer gives.
    assert [(r.method, r.route) for r in reader.requests] == [
        ("get", history), ("get", f"{history}?page=2&per_page=2"), ("get", f"{history}?page=3&per_page=2"),
    ]
    assert list(billing_history.samples(entries)) == [
        ("digitalocean_billing_history_last_amount_usd", ("Invoice",), 12.34),
        ("digitalocean_billing_history_last_timestamp_seconds", ("Invoice",), 1527842678.0),
        ("digitalocean_billing_history_last_amount_usd", ("Payment",), -12.34),
        ("digitalocean_billing_history_last_timestamp_seconds", ("Payment",), 1527929078.0),
    ]


async def test_billing_history_follows_the_next_links_with_their_own_query() -> None:
    history = "/v2/customers/my/billing_history"

    def page(amount: str, following: str | None) -> dict[str, object]:
        links = {"pages": {"next": following}} if following else {}
        return {"billing_history": [{"type": "Payment", "amount": amount,
                                     "date": f"2026-0{amount[-1]}-01T00:00:00Z"}],
                "links": links, "meta": {"total": 3}}

    reader = FakeReader({
        history: page("-1", "https://elsewhere.example/v2/customers/my/billing_history?page=2"),
        f"{history}?page=2": page("-3", "https://api.digitalocean.com/v2/customers/my/billing_history?page=3"),
        f"{history}?page=3": page("-2", None),
    })
    [latest] = await billing_history.fetch(reader)
    assert (latest.type, latest.amount) == ("Payment", Decimal("-3"))
    assert [r.route for r in reader.requests] == [history, f"{history}?page=2", f"{history}?page=3"]


async def test_billing_history_links_going_round_fail_the_poll() -> None:
    history = "/v2/customers/my/billing_history"
    looping = {"billing_history": [], "links": {"pages": {"next": f"https://x{history}?page=2"}}}
    reader = FakeReader({history: looping, f"{history}?page=2": looping})
    with pytest.raises(ShapeError) as caught:
        await billing_history.fetch(reader)
    assert str(caught.value) == f"{history} links.pages.next: paging does not advance ({{'page': '2'}})"


def test_billing_history_keeps_the_newest_whatever_the_order() -> None:
    entries = billing_history.latest_by_type([
        {"type": "Payment", "amount": "-5.00", "date": "2026-10-02T00:00:00Z"},
        {"type": "Payment", "amount": "-7.50", "date": "2026-11-02T00:00:00Z"},
        {"type": "Payment", "amount": "-1.00", "date": "2026-09-02T00:00:00Z"},
        {"type": "Credit", "amount": "-25", "date": None},
    ])
    assert [(e.type, e.amount) for e in entries] == [("Payment", Decimal("-7.50"))]


def test_billing_history_bad_amount_names_the_entry() -> None:
    with pytest.raises(ShapeError) as caught:
        billing_history.latest_by_type(
            [{"type": "Payment", "amount": "lots", "date": "2026-10-02T00:00:00Z"}]
        )
    assert str(caught.value) == (
        "/v2/customers/my/billing_history billing_history[0].amount: 'lots' is not an amount"
    )


async def test_billing_insights_for_the_last_complete_day() -> None:
    body = spec_example(INSIGHTS)
    today_partial = {**body["data_points"][0], "start_date": "2025-01-02", "total_amount": "9.99"}
    body["data_points"].append(today_partial)
    account = {"account": schema_example("account")}
    reader = FakeReader({"/v2/account": account, INSIGHTS: body},
                        now=1735779600.0)  # 2025-01-02T01:00:00Z
    record = await billing_insights.fetch(reader)
    assert reader.requests[-1].path == {"account_urn": "do:team:5df3e3004a17e242b7c20ca6c9fc25b701a47ece",
                                "start_date": "2025-01-01", "end_date": "2025-01-02"}
    assert record.day == date(2025, 1, 1)
    assert list(billing_insights.samples(record)) == [
        ("digitalocean_billing_insight_available", (), 1),
        ("digitalocean_billing_insight_day_timestamp_seconds", (), 1735689600),
        # the resource's name only: the SKU names the size, and a size or count in a label
        # would start a new series at every resize or scale
        ("digitalocean_billing_insight_cost_usd",
         ("1-DO-DROP-0109", "nyc3", "droplet name", ""), 0.86),
        # "3 nodes - 4 GB / ..." is a count and a size, no name: the group says whose nodes
        ("digitalocean_billing_insight_cost_usd",
         ("1-KS-K8SWN-00109", "nyc3", "", "kubernetes cluster name"), 2.57),
    ]


@pytest.mark.parametrize(
    ("description", "name"),
    [
        ("docs (apps-d-1vcpu-2gb x 1)", "docs"),
        ("droplet name (c-2-4GiB)", "droplet name"),
        ("web (old) (s-1vcpu-1gb)", "web (old)"),  # only the last parentheses are the variant
        ("db-main (db-s-2vcpu-4gb x 3)", "db-main"),
        ("3 nodes - 4 GB / 2 vCPU / 80 GB SSD", ""),
        ("1 node - 2 GB / 1 vCPU / 50 GB SSD", ""),
        ("web HA control plane", "web HA control plane"),
        ("Spaces Subscription", "Spaces Subscription"),
        ("", ""),
    ],
)
def test_resource_is_the_name_without_the_size_or_count(description: str, name: str) -> None:
    assert billing_insights.resource_name(description) == name


def test_a_resource_scaled_during_the_day_is_one_stable_series() -> None:
    day = date(2025, 1, 1)
    points = [
        {"start_date": "2025-01-01", "total_amount": "0.50", "region": "nyc3",
         "sku": "1-APPS-D-1", "description": "docs (apps-d-1vcpu-2gb x 1)", "group_description": ""},
        {"start_date": "2025-01-01", "total_amount": "1.25", "region": "nyc3",
         "sku": "1-APPS-D-1", "description": "docs (apps-d-1vcpu-2gb x 2)", "group_description": ""},
    ]
    record = billing_insights.summed(day, billing_insights.page_costs(points, 0, day))
    assert list(billing_insights.samples(record)) == [
        ("digitalocean_billing_insight_available", (), 1),
        ("digitalocean_billing_insight_day_timestamp_seconds", (), 1735689600),
        ("digitalocean_billing_insight_cost_usd", ("1-APPS-D-1", "nyc3", "docs", ""), 1.75),
    ]


@pytest.mark.parametrize("account", [{"status": "active"}, {"status": "active", "team": None}])
async def test_an_account_without_a_team_is_not_asked_and_says_so(account: dict[str, object]) -> None:
    # `team` is optional in the spec ("when authorized in a team context")
    reader = FakeReader({"/v2/account": {"account": account}})
    record = await billing_insights.fetch(reader)
    assert record == billing_insights.InsightRecord(None, ())
    assert [r.endpoint for r in reader.requests] == ["/v2/account"]
    assert list(billing_insights.samples(record)) == [("digitalocean_billing_insight_available", (), 0)]


@pytest.mark.parametrize(("uuid", "urn"), [
    ("5df3e300", "do:team:5df3e300"),
    ("do:teamgroup:1b2c", "do:teamgroup:1b2c"),  # an organisation's URN, used as it is
])
def test_the_account_urn_of_a_team_or_an_organisation(uuid: str, urn: str) -> None:
    assert billing_insights.account_urn({"account": {"team": {"uuid": uuid, "name": "t"}}}) == urn


@pytest.mark.parametrize(("account", "message"), [
    ({"team": "t"}, "/v2/account account.team: expected an object, got the string 't'"),
    ({"team": {"name": "t"}}, "/v2/account account.team.uuid: expected a non-empty string, got null"),
])
def test_a_malformed_team_fails_the_poll(account: dict[str, object], message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        billing_insights.account_urn({"account": account})
    assert str(caught.value) == message
