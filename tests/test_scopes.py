"""The read-only verdict and the token policy decision."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from exporter.collectors import COLLECTORS, collector_table
from exporter.collectors.base import FieldScope
from exporter.scopes import (
    classify,
    decide,
    invalid,
    is_needed,
    is_read_scope,
    missing_field_scopes,
    missing_scopes,
    needed_scopes,
    scope_table,
    scope_warnings,
    unverifiable,
)

NOW = 1_790_000_000.0


@pytest.mark.parametrize(
    "scope",
    ["read", "api:read", "droplet:read", "billing:read", "block_storage_snapshot:read", "nfs:list",
     "genai:read", "app:read"],
)
def test_read_scopes(scope: str) -> None:
    assert is_read_scope(scope)


@pytest.mark.parametrize(
    "scope",
    ["write", "api:write", "droplet:create", "droplet:delete", "droplet:admin", "droplet:update",
     "database:view_credentials", "kubernetes:access_cluster", "spaces_key:create_credentials",
     "project:assign_resource", "genai:default", "app:access_console", "nfs:create", "*",
     "droplet:read:extra", ":read", "partner_network_connect:read", "nosuchthing:read"],
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


HOWTO = (
    "Create a read-only token in the DigitalOcean control panel (API > Tokens > Generate New Token, "
    'custom scopes that all end in ":read", except partner_network_connect:read, which can change '
    "infrastructure)"
)


def test_write_token_refused_with_account_scopes_reason_and_howto() -> None:
    report = classify({"scopes": ["droplet:read", "droplet:delete"]}, NOW)
    decision = decide("production", "accounts[0].token_file", report, "refuse", "warn")
    assert not decision.allowed
    assert decision.message == (
        'account "production" (accounts[0].token_file): the token can change infrastructure '  # noqa: S608
        "(scopes: droplet:delete); refusing to use it. Why: droplet:delete appears on DELETE "
        "/v2/droplets, DELETE /v2/droplets/autoscale/{autoscale_pool_id} and 5 more writes. "
        f"{HOWTO} and update accounts[0].token_file; or set token_policy.write_scopes: warn to run "
        "with it anyway (not recommended)."
    )


def test_partner_network_connect_read_is_refused_naming_its_writes() -> None:
    report = classify({"scopes": ["droplet:read", "partner_network_connect:read"]}, NOW)
    assert (report.verdict, report.write_scopes) == ("write", ("partner_network_connect:read",))
    decision = decide("production", "accounts[0].token_file", report, "refuse", "warn")
    assert not decision.allowed
    assert decision.message == (
        'account "production" (accounts[0].token_file): the token can change infrastructure '  # noqa: S608
        "(scopes: partner_network_connect:read); refusing to use it. Why: "
        "partner_network_connect:read appears on PATCH /v2/partner_network_connect/attachments/"
        "{pa_id} and DELETE /v2/partner_network_connect/attachments/{pa_id}. "
        f"{HOWTO} and update accounts[0].token_file; or set token_policy.write_scopes: warn to run "
        "with it anyway (not recommended)."
    )


def test_unknown_and_credential_scopes_are_explained() -> None:
    report = classify({"scopes": ["droplet:admin", "kubernetes:access_cluster"]}, NOW)
    decision = decide("a", "o", report, "warn", "warn")
    assert decision.allowed
    assert decision.message == (
        'account "a" (o): the token can change infrastructure (scopes: droplet:admin, '
        "kubernetes:access_cluster); running anyway because token_policy.write_scopes is warn. "
        "Why: droplet:admin is unknown to the API description, so it cannot be proven read-only; "
        "kubernetes:access_cluster returns a kubeconfig with credentials that administer the "
        f"cluster. {HOWTO}."
    )


def test_a_long_list_of_write_scopes_is_cut_short() -> None:
    scopes = [f"x{i}:create" for i in range(7)]
    message = decide("a", "o", classify({"scopes": scopes}, NOW), "refuse", "warn").message
    assert "x4:create is unknown to the API description, so it cannot be proven read-only; " \
        "and 2 more scopes." in message
    assert "x5:create is" not in message


GENAI_SECRET = (
    "returns agent and model API keys' secret_key, agents' Anthropic and OpenAI API keys and "
    "custom models' Hugging Face token"
)


def test_secret_scope_is_warned_about_naming_the_secret() -> None:
    report = classify({"scopes": ["droplet:read", "genai:read"]}, NOW)
    assert (report.verdict, report.secret_scopes) == ("read_only", ("genai:read",))
    decision = decide("a", "o", report, "refuse", "warn")
    assert (decision.allowed, decision.level) == (True, "warning")
    assert decision.message == (
        f'account "a" (o): token verified read-only, but it can read secrets: genai:read '
        f"({GENAI_SECRET}). Running anyway because token_policy.secret_scopes is warn; a token "
        "without these scopes is safer."
    )


def test_secret_scope_is_refused_under_refuse_naming_the_collector_that_needs_it() -> None:
    report = classify({"scopes": ["app:read", "genai:read"]}, NOW)
    decision = decide("a", "o", report, "refuse", "warn", secret_policy="refuse",
                      needed={"app:read": ("apps",), "droplet:read": ("droplets",)})
    assert (decision.allowed, decision.level) == (False, "error")
    assert decision.message == (
        'account "a" (o): the token can read secrets: app:read (app specs carry log destinations\' '  # noqa: S608
        "API keys, tokens and passwords: Datadog api_key, Logtail token, OpenSearch basic_auth "
        f"password; needed by the collector apps); genai:read ({GENAI_SECRET}); refusing to use it "
        "because token_policy.secret_scopes is refuse. Create a token with custom scopes that "
        "leave these out (and disable the collectors that need them) and update o; or set "
        "token_policy.secret_scopes: warn."
    )


def test_secret_refusal_applies_to_a_write_token_allowed_by_write_policy() -> None:
    report = classify({"scopes": ["monitoring:read", "droplet:create"]}, NOW)
    assert not decide("a", "o", report, "warn", "warn", secret_policy="refuse").allowed
    warned = decide("a", "o", report, "warn", "warn", secret_policy="warn")
    assert warned.allowed
    assert warned.message.endswith(
        " It can also read secrets: monitoring:read (/v2/monitoring/sinks returns the sinks' "
        "destination credentials)."
    )


def test_legacy_read_token_reveals_every_secret() -> None:
    report = classify({"scopes": ["read"]}, NOW)
    assert (report.verdict, report.secret_scopes) == ("read_only", ("read",))
    assert "read (grants every read scope, the secret-revealing ones too: app:read, genai:read, " \
        "monitoring:read, registry:read)" in decide("a", "o", report, "refuse", "warn").message


def test_needed_missing_and_excess_scopes() -> None:
    droplets = Scoped("droplets", "droplet:read")
    sizes = Scoped("sizes", "sizes:read regions:read")
    needed = needed_scopes([droplets, sizes, Scoped("tags", "tag:read droplet:read")])
    assert needed == {"droplet:read": ("droplets", "tags"), "regions:read": ("sizes",),
                      "sizes:read": ("sizes",), "tag:read": ("tags",)}
    assert missing_scopes(["droplet:read", "sizes:read"], [droplets, sizes]) == {
        "sizes": ("regions:read",)}
    assert missing_scopes(["read"], [droplets, sizes]) == {}
    assert missing_scopes(["api:read"], [droplets]) == {"droplets": ("droplet:read",)}
    assert is_needed("read", needed)
    assert is_needed("droplet:read", needed)
    assert not is_needed("genai:read", needed)
    assert not is_needed("read", {})


@dataclass(frozen=True)
class Scoped:
    name: str
    scope: str
    field_scopes: tuple[FieldScope, ...] = ()


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


def test_startup_warnings_name_each_collector_missing_a_scope_and_the_excess() -> None:
    collectors = [Scoped("droplets", "droplet:read"), Scoped("sizes", "sizes:read regions:read"),
                  Scoped("tags", "tag:read")]
    report = classify({"scopes": ["droplet:read", "sizes:read", "genai:read", "vpc:read"]}, NOW)
    assert scope_warnings(report, collectors, "warn") == [
        ("collector sizes: the token lacks the regions:read scope (from token/info), so its series "
         "will be missing; it still runs, and is disabled for this account if the API answers 403. "
         "Add the scope to the token, or disable the collector",
         {"collector": "sizes", "scope": "regions:read"}),
        ("collector tags: the token lacks the tag:read scope (from token/info), so its series will "
         "be missing; it still runs, and is disabled for this account if the API answers 403. Add "
         "the scope to the token, or disable the collector",
         {"collector": "tags", "scope": "tag:read"}),
        ("the token holds scopes no enabled collector needs: genai:read, vpc:read; a token without "
         "them is safer (set token_policy.excess_scopes: ignore to silence this)",
         {"scope": "genai:read vpc:read"}),
    ]
    assert [fields for _, fields in scope_warnings(report, collectors, "ignore")] == [
        {"collector": "sizes", "scope": "regions:read"}, {"collector": "tags", "scope": "tag:read"}]


def test_no_startup_warnings_for_a_legacy_read_token_or_unlisted_scopes() -> None:
    collectors = [Scoped("droplets", "droplet:read"), Scoped("sizes", "sizes:read regions:read")]
    assert scope_warnings(classify({"scopes": ["read"]}, NOW), collectors, "warn") == []
    assert scope_warnings(unverifiable("token/info timed out"), collectors, "warn") == []


def test_every_scope_a_collector_needs_is_a_read_only_scope_of_the_api_description() -> None:
    table = scope_table()
    for collector in COLLECTORS:
        for scope in collector.scope.split():
            assert table.is_read_only(scope), f"{collector.name}: {scope}"


def test_every_field_scope_is_in_the_scope_table_and_names_the_collector_s_own_series() -> None:
    table = scope_table()
    declared = 0
    for collector in COLLECTORS:
        families = {f.name: f.labels for f in collector.families}
        for field_scope in collector.field_scopes:
            declared += 1
            for scope in field_scope.scopes:
                assert scope in table.scopes, f"{collector.name} {field_scope.field}: {scope}"
            assert field_scope.empty, f"{collector.name} {field_scope.field}"
            for item in field_scope.empty:
                family, _, label = item.partition("{")
                assert family in families, f"{collector.name}: {item}"
                label = label.rstrip("}").partition("=")[0]
                assert not label or label in families[family], f"{collector.name}: {item}"
    assert declared >= 10


FIELDS_IN_THE_ISSUE = {  # issue 13: the fields the API description marks with a second scope
    ("droplets", "tags"): ("tag:read",),
    ("droplets", "vpc_uuid"): ("vpc:read",),
    ("account", "droplet_limit"): ("droplet:read",),
    ("account", "floating_ip_limit"): ("reserved_ip:read",),
    ("reserved_ips", "droplet"): ("droplet:read",),
    ("firewalls", "droplet_ids"): ("droplet:read",),
    ("reserved_ips", "project_id"): ("project:read",),
    ("databases", "project_id"): ("project:read",),
    ("firewalls", "tags"): ("tag:create", "tag:read"),
}


def test_the_fields_the_issue_lists_are_declared() -> None:
    collectors = collector_table()
    declared = {(c.name, f.field): f.scopes for c in COLLECTORS for f in c.field_scopes}
    for key, scopes in FIELDS_IN_THE_ISSUE.items():
        assert declared.get(key) == scopes, key
        assert collectors[key[0]].scope not in scopes


def test_a_custom_token_without_tag_read_is_warned_about_the_droplet_tag_label() -> None:
    droplets = collector_table()["droplets"]
    report = classify({"scopes": ["droplet:read", "vpc:read", "image:read"]}, NOW)
    assert missing_scopes(report.scopes, [droplets]) == {}  # the collector runs
    assert scope_warnings(report, [droplets], "warn") == [(
        "collector droplets: the token lacks the tag:read scope (from token/info) that the API "
        "asks for its tags field, so the tag label of digitalocean_droplet_tag_info will be "
        "missing; the collector still runs. Add the scope to the token to get it",
        {"collector": "droplets", "scope": "tag:read", "field": "tags"},
    )]
    # held scopes that only fields need are needed, not excess
    assert not [w for w, _ in scope_warnings(report, [droplets], "warn") if "no enabled" in w]


def test_field_scopes_are_wanted_not_required() -> None:
    firewalls = collector_table()["firewalls"]
    needed = needed_scopes([firewalls])
    assert needed == {"droplet:read": ("firewalls",), "firewall:read": ("firewalls",),
                      "tag:create": ("firewalls",), "tag:read": ("firewalls",)}
    assert needed_scopes([firewalls], fields=False) == {"firewall:read": ("firewalls",)}
    assert missing_scopes(["firewall:read"], [firewalls]) == {}
    lacking = [(c, f.field, s) for c, f, s in missing_field_scopes(["firewall:read"], [firewalls])]
    assert lacking == [("firewalls", "droplet_ids", ("droplet:read",)),
                       ("firewalls", "tags", ("tag:create", "tag:read"))]
    # a collector that cannot run at all is reported once, not field by field
    assert missing_field_scopes(["tag:read"], [firewalls]) == []
    assert missing_field_scopes(["read"], [firewalls])[0][2] == ("tag:create",)
    # the write scope a field asks for is never warned about: a read-only token never has it
    warnings = scope_warnings(classify({"scopes": ["firewall:read", "droplet:read"]}, NOW),
                              [firewalls], "warn")
    assert warnings == []
