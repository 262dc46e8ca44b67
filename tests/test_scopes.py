"""The read-only verdict and the token policy decision."""

from __future__ import annotations

import pytest

from exporter.scopes import classify, decide, invalid, is_read_scope, unverifiable

NOW = 1_790_000_000.0


@pytest.mark.parametrize(
    "scope",
    ["read", "api:read", "droplet:read", "billing:read", "block_storage_snapshot:read", "nfs:list"],
)
def test_read_scopes(scope: str) -> None:
    assert is_read_scope(scope)


@pytest.mark.parametrize(
    "scope",
    ["write", "api:write", "droplet:create", "droplet:delete", "droplet:admin", "droplet:update",
     "database:view_credentials", "kubernetes:access_cluster", "spaces_key:create_credentials",
     "project:assign_resource", "genai:default", "app:access_console", "nfs:create", "*",
     "droplet:read:extra", ":read"],
)
def test_write_scopes(scope: str) -> None:
    assert not is_read_scope(scope)


def test_legacy_read_only_token() -> None:
    report = classify({"scopes": ["read"], "expires_in_seconds": None}, NOW)
    assert report.verdict == "read_only"
    assert report.read_only
    assert report.expires_at is None


def test_legacy_full_access_token() -> None:
    report = classify({"scopes": ["read", "write"]}, NOW)
    assert report.verdict == "write"
    assert report.write_scopes == ("write",)


def test_custom_scopes_name_every_write_scope() -> None:
    report = classify(
        {"scopes": ["droplet:read", "droplet:delete", "billing:read", "droplet:create"]}, NOW
    )
    assert report.write_scopes == ("droplet:create", "droplet:delete")


def test_expiry_is_now_plus_expires_in_seconds() -> None:
    report = classify({"scopes": ["read"], "expires_in_seconds": 86400}, NOW)
    assert report.expires_at == NOW + 86400


def test_space_separated_scope_string_is_accepted() -> None:
    assert classify({"scope": "read droplet:read"}, NOW).verdict == "read_only"


@pytest.mark.parametrize(
    ("info", "reason"),
    [
        ([], "token/info did not answer with a JSON object"),
        ({"resource_owner_id": 1}, "token/info did not list the token's scopes"),
        ({"scopes": "read"} | {"scopes": 5}, "token/info did not list the token's scopes"),
        ({"scopes": ["read", 3]}, "token/info did not list the token's scopes"),
        ({"scopes": []}, "token/info listed no scopes"),
    ],
)
def test_unknown_shapes_are_unverifiable(info: object, reason: str) -> None:
    report = classify(info, NOW)
    assert (report.verdict, report.reason) == ("unverifiable", reason)


def test_write_token_refused_with_account_scopes_and_howto() -> None:
    report = classify({"scopes": ["droplet:read", "droplet:delete"]}, NOW)
    decision = decide("production", "accounts[0].token_file", report, "refuse", "warn")
    assert not decision.allowed
    assert decision.message == (
        'account "production" (accounts[0].token_file): the token can change infrastructure '
        "(scopes: droplet:delete); refusing to use it. Create a read-only token in the "
        "DigitalOcean control panel (API > Tokens > Generate New Token, scope \"Read Only\", or "
        'custom scopes that all end in ":read") and update accounts[0].token_file; or set '
        "token_policy.write_scopes: warn to run with it anyway (not recommended)."
    )


def test_write_token_warned_under_warn_policy() -> None:
    report = classify({"scopes": ["read", "write"]}, NOW)
    decision = decide("staging", "accounts[1].token_env", report, "warn", "warn")
    assert decision.allowed
    assert decision.level == "warning"
    assert "(scopes: write)" in decision.message


def test_unverifiable_follows_its_policy() -> None:
    report = unverifiable("token/info timed out")
    assert decide("a", "o", report, "refuse", "warn").allowed
    refused = decide("a", "o", report, "refuse", "refuse")
    assert not refused.allowed
    assert refused.message == (
        'account "a" (o): could not verify the token\'s scopes (token/info timed out); refusing '
        "because token_policy.unverifiable is refuse."
    )


def test_invalid_token_is_always_refused() -> None:
    decision = decide("a", "o", invalid("HTTP 401 from /v1/oauth/token/info"), "warn", "warn")
    assert not decision.allowed
    assert decision.message.startswith(
        'account "a" (o): DigitalOcean rejected the token (HTTP 401 from /v1/oauth/token/info); '
        "it is invalid, expired or revoked."
    )
