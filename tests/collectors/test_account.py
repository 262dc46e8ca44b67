"""Account: team, status and limits; the email address is never read."""

from __future__ import annotations

from exporter.collectors import account
from tests.conftest import example_reader


async def test_account_from_the_schema_examples() -> None:
    record = await account.fetch(example_reader())
    assert list(account.samples(record)) == [
        ("digitalocean_account_info", ("My Team", "active"), 1),
        ("digitalocean_account_droplet_limit", (), 25),
        ("digitalocean_account_reserved_ip_limit", (), 5),
    ]
    assert "sammy" not in repr(record)


def test_reserved_ip_limit_wins_over_the_floating_ip_name() -> None:
    record = account.parse_account({"account": {"reserved_ip_limit": 9, "floating_ip_limit": 5,
                                                "volume_limit": 100}})
    assert (record.reserved_ip_limit, record.volume_limit, record.team) == (9, 100, "")
