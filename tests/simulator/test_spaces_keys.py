"""The Spaces keys kind: grants on the account's own buckets, and never a secret key."""

from __future__ import annotations

from .network_products import get, simulator


def test_keys_grant_existing_buckets_and_carry_no_secret() -> None:
    with simulator(spaces_keys=3, spaces_buckets=2) as sim:
        answer = get(sim, "/v2/spaces/keys")
        buckets = {item.name for item in sim.fleet("acme").resources.objects("spaces_buckets")}
        keys = answer.json()["keys"]
        [named] = get(sim, f"/v2/spaces/keys?name={keys[1]['name']}").json()["keys"]
    assert named == keys[1]
    assert len(buckets) == 2
    assert [k["grants"][0]["permission"] for k in keys] == ["read", "readwrite", "fullaccess"]
    assert {g["bucket"] for k in keys for g in k["grants"]} == buckets
    assert all(k["access_key"].startswith("DO") and len(k["access_key"]) == 20 for k in keys)
    assert "secret" not in answer.text
