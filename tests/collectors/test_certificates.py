"""Certificates against the official list example: expiry, state set, DNS names."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.collectors import certificates
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.conftest import spec, spec_example

CUSTOM = "892071a0-bb95-49bc-8021-3afd67a210bf"
LETS_ENCRYPT = "ba9b9c18-6c59-46c2-99df-70da170a42ba"


def example() -> Any:
    return spec_example("/v2/certificates", "AllCertificates")


async def test_values_from_the_official_example() -> None:
    reader = FakeReader({"/v2/certificates": example()})
    records = await certificates.fetch(reader)
    assert [(r.method, r.endpoint, r.key) for r in reader.requests] == [
        ("list_all", "/v2/certificates", "certificates")
    ]
    assert list(certificates.samples(records)) == [
        ("digitalocean_certificate_info", (CUSTOM, "web-cert-01", "custom"), 1),
        ("digitalocean_certificate_status", (CUSTOM, "pending"), 0),
        ("digitalocean_certificate_status", (CUSTOM, "verified"), 1),
        ("digitalocean_certificate_status", (CUSTOM, "error"), 0),
        ("digitalocean_certificate_expiry_timestamp_seconds", (CUSTOM,), 1487722980.0),
        ("digitalocean_certificate_created_timestamp_seconds", (CUSTOM,), 1486569757.0),
        # the example lists one empty name for the custom certificate: not a DNS name
        ("digitalocean_certificate_dns_names", (CUSTOM,), 0),
        ("digitalocean_certificate_info", (LETS_ENCRYPT, "web-cert-02", "lets_encrypt"), 1),
        ("digitalocean_certificate_status", (LETS_ENCRYPT, "pending"), 0),
        ("digitalocean_certificate_status", (LETS_ENCRYPT, "verified"), 1),
        ("digitalocean_certificate_status", (LETS_ENCRYPT, "error"), 0),
        ("digitalocean_certificate_expiry_timestamp_seconds", (LETS_ENCRYPT,), 1528393452.0),
        ("digitalocean_certificate_created_timestamp_seconds", (LETS_ENCRYPT,), 1520621051.0),
        ("digitalocean_certificate_dns_names", (LETS_ENCRYPT,), 2),
    ]


def test_fingerprint_is_not_kept() -> None:
    records = certificates.parse_certificates(example()["certificates"])
    assert "dfcc9f57d86bf58e321c2c6c31c7a971be244ac7" not in repr(records)


def test_unknown_and_missing_states_are_visible_in_the_state_set() -> None:
    records = certificates.parse_certificates([{"id": "b", "state": "revoked"}, {"id": "a"}])
    status = {(lab[0], lab[1]): v for n, lab, v in certificates.samples(records)
              if n == "digitalocean_certificate_status"}
    assert status == {
        ("a", "pending"): 0, ("a", "verified"): 0, ("a", "error"): 0, ("a", "unknown"): 1,
        ("b", "pending"): 0, ("b", "verified"): 0, ("b", "error"): 0, ("b", "revoked"): 1,
    }


def test_missing_times_and_names_leave_their_series_out() -> None:
    [record] = certificates.parse_certificates([
        {"id": "a", "name": None, "type": None, "state": "error", "not_after": None,
         "created_at": "2017-02-08", "dns_names": None},
    ])
    assert record == certificates.CertificateRecord("a", "", "", "error", None, None, None)
    names = {n for n, _, _ in certificates.samples((record,))}
    assert names == {"digitalocean_certificate_info", "digitalocean_certificate_status"}


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"name": "web"}], "/v2/certificates certificates[0].id: expected a non-empty string, got null"),
        ([{"id": 12}], "/v2/certificates certificates[0].id: expected a non-empty string, got the number 12"),
        ("x", "/v2/certificates certificates: expected a list, got the string 'x'"),
    ],
)
def test_shape_errors_name_the_place(items: Any, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        certificates.parse_certificates(items)
    assert str(caught.value) == message


def test_collector_contract() -> None:
    c = certificates.COLLECTOR
    assert (c.name, c.scope, c.interval) == ("certificates", "certificate:read", 3600.0)
    spec_states = spec()["components"]["schemas"]["certificate"]["properties"]["state"]["enum"]
    assert tuple(spec_states) == certificates.STATES
    assert spec()["paths"]["/v2/certificates"]["get"]["security"] == [{"bearer_auth": [c.scope]}]
    for family in c.families:
        assert family.name.startswith("digitalocean_certificate_")
        assert family.help.endswith(", polled from /v2/certificates."), family.help
        assert '"' not in family.help
        assert "\\" not in family.help
    labels = {f.name: len(f.labels) for f in c.families}
    emitted = list(certificates.samples(certificates.parse_certificates(example()["certificates"])))
    assert {name for name, _, _ in emitted} == set(labels)
    assert all(len(values) == labels[name] for name, values, _ in emitted)
