"""Config loading: one invalid file per error with its exact message, and the valid shapes."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from exporter.cli import collector_defaults
from exporter.collectors import COLLECTORS
from exporter.config import ConfigError, Settings, describe_settings, load_settings
from exporter.tokens import EnvToken, FileToken, InlineToken

TESTDATA = Path(__file__).parent / "testdata" / "config"
OTHER_TOKEN = "dop_v1_" + "3" * 64
INLINE_TOKEN = "dop_v1_" + "1" * 64
ENVIRON = {"DO_TOKEN_OTHER": OTHER_TOKEN, "DO_TOKEN": OTHER_TOKEN}

INVALID = {
    "invalid-unknown-top-key.yml": [
        "acounts: unknown key (did you mean accounts?); known keys are accounts, tokens_dir, "
        "token_policy, api, collectors, pricing",
        "accounts: no accounts configured; list accounts or set tokens_dir in the config file, "
        "or set DIGITALOCEAN_TOKEN or DIGITALOCEAN_TOKEN_FILE",
    ],
    "invalid-top-level-list.yml": ["(top level): expected a mapping, got a list"],
    "invalid-accounts-not-a-list.yml": ["accounts: expected a list, got a mapping"],
    "invalid-account-missing-name.yml": ["accounts[0]: missing required key name"],
    "invalid-account-no-token.yml": ["accounts[0]: needs one of token_file, token_env or token"],
    "invalid-account-two-token-keys.yml": ["accounts[0]: give only one of token_file, token_env"],
    "invalid-account-name.yml": [
        "accounts[0].name: 'prod team' is not a valid account name (letters, digits, '_', '.', "
        "'-'; at most 63 characters; starting with a letter or digit)"
    ],
    "invalid-duplicate-account.yml": [
        "accounts[1]: account name 'production' is already used by accounts[0]"
    ],
    "invalid-token-file-missing.yml": [
        "accounts[0].token_file: token file {dir}/tokens/does-not-exist does not exist"
    ],
    "invalid-token-file-empty.yml": ["accounts[0].token_file: token file {dir}/tokens/empty is empty"],
    "invalid-token-file-refresh-token.yml": [
        "accounts[0].token_file: token file {dir}/tokens/refresh holds an OAuth refresh token "
        "(dor_v1_...), which cannot call the API; use a personal access token (dop_v1_...)"
    ],
    "invalid-token-file-two-tokens.yml": [
        "accounts[0].token_file: token file {dir}/tokens/two-tokens holds more than one word; "
        "it must hold exactly one token"
    ],
    "invalid-token-env-unset.yml": [
        "accounts[0].token_env: environment variable DO_TOKEN_STAGING_UNSET is not set"
    ],
    "invalid-token-empty-string.yml": ["accounts[0].token: must not be empty"],
    # issue 16 point 6: nothing that is not token-shaped is sent as a Bearer token
    "invalid-token-not-a-token.yml": [
        "accounts[0].token: inline token in the config file does not hold a DigitalOcean API "
        "token (dop_v1_ and 64 hex digits, from API > Tokens in the control panel); it was not "
        "sent to DigitalOcean"
    ],
    "invalid-token-file-cut-short.yml": [
        "accounts[0].token_file: token file {dir}/tokens/cut-short holds a token cut short or "
        "mangled: dop_v1_ must be followed by exactly 64 hex digits (0-9, a-f), not 32 "
        "characters; copy the token again; it was not sent to DigitalOcean"
    ],
    "invalid-tokens-dir-missing.yml": [
        "tokens_dir: tokens directory {dir}/no-such-dir does not exist"
    ],
    "invalid-bad-duration.yml": [
        "api.timeout: '10x' is not a duration; use a number with a unit, e.g. 30s, 5m, 1h"
    ],
    "invalid-duration-number.yml": [
        "collectors.droplets.interval: expected a duration such as 30s, 5m or 1h, got an integer"
    ],
    "invalid-interval-below-minimum.yml": [
        "collectors.droplets.interval: 1s is below the minimum of 5s"
    ],
    "invalid-stale-after-below-interval.yml": [
        "collectors.volumes.stale_after: 1m is shorter than the interval 5m; every series would "
        "vanish between polls"
    ],
    "invalid-unknown-collector.yml": [
        # every collector of the table, in table order
        "collectors.dropletz: unknown key (did you mean droplets?); known keys are "
        + ", ".join(c.name for c in COLLECTORS)
    ],
    "invalid-collector-enabled-type.yml": [
        "collectors.billing.enabled: expected true or false, got a string"
    ],
    "invalid-http-url.yml": [
        "api.url: 'http://api.digitalocean.com' uses plain http to a non-loopback host; the token "
        "would travel in clear text (use https)"
    ],
    "invalid-url-with-path.yml": [
        "api.auth_url: 'https://cloud.digitalocean.com/v1/oauth' must not have a path"
    ],
    "invalid-token-policy.yml": ["token_policy.write_scopes: 'allow' is not one of refuse, warn"],
    "invalid-token-policy-scopes.yml": [
        "token_policy.secret_scopes: 'allow' is not one of warn, refuse",
        "token_policy.excess_scopes: 'refuse' is not one of ignore, warn",
    ],
    "invalid-requests-per-hour.yml": [
        "api.requests_per_hour: 6000 is outside 1..5000 (DigitalOcean allows 5000 requests per "
        "hour per token)"
    ],
    "invalid-requests-per-hour-type.yml": [
        "api.requests_per_hour: expected an integer, got a string"
    ],
    "invalid-max-response-bytes.yml": ["api.max_response_bytes: 1KiB is outside 1MiB..1GiB"],
    "invalid-max-response-bytes-type.yml": [
        "api.max_response_bytes: 'lots' is not a size; use bytes or a unit, e.g. 32MiB"
    ],
    "invalid-response-deadline.yml": [
        "api.response_deadline: 5s is shorter than api.timeout 10s; every slow answer would be "
        "cut off"
    ],
    "invalid-yaml-syntax.yml": [
        "(yaml) line 4, column 1: expected ',' or ']', but got '<stream end>'"
    ],
    "invalid-duplicate-yaml-key.yml": [
        "(yaml) line 6, column 3: key 'timeout' appears twice in one mapping"
    ],
    "invalid-pricing.yml": [
        "pricing.volumes: unknown key; known keys are volume_gib_month, snapshot_gib_month, "
        "droplet_backups_ratio, reserved_ipv4_unassigned_month, reserved_ipv6_unassigned_month, "
        "load_balancer_node_month, global_load_balancer_month, droplet_transfer_overage_gib, "
        "kubernetes_ha_control_plane_month, database_storage_gib_month, "
        "droplet_backups_daily_ratio, custom_image_gib_month, nfs_gib_month, "
        "nfs_snapshot_gib_month, nat_gateway_unit_month, database_node_month, app_instance_month",
        'pricing.volume_gib_month: expected an amount in US dollars such as "5.00", got a number',
        "pricing.snapshot_gib_month: 'cheap' is not an amount such as \"5.00\"",
        "pricing.database_node_month.db-s-1vcpu-1gb: '-1' must be zero or more",
    ],
    "invalid-many-problems.yml": [
        "accounts[0].token_file: token file {dir}/tokens/does-not-exist does not exist",
        "accounts[1].token_env: environment variable DO_TOKEN_STAGING_UNSET is not set",
        "accounts[1]: account name 'production' is already used by accounts[0]",
        "api.url: 'http://10.0.0.1' uses plain http to a non-loopback host; the token would "
        "travel in clear text (use https)",
        "api.timeout: 'soon' is not a duration; use a number with a unit, e.g. 30s, 5m, 1h",
        "collectors.droplets.interval: 2s is below the minimum of 5s",
    ],
}


def load(path: Path | None, environ: dict[str, str] | None = None) -> Settings:
    return load_settings(path, ENVIRON if environ is None else environ, collector_defaults())


def test_every_invalid_file_has_a_case() -> None:
    assert sorted(p.name for p in TESTDATA.glob("invalid-*.yml")) == sorted(INVALID)


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_config_exact_message(name: str) -> None:
    path = TESTDATA / name
    with pytest.raises(ConfigError) as caught:
        load(path)
    expected = [f"invalid configuration ({path}):"] + [
        "  " + line.replace("{dir}", str(TESTDATA)) for line in INVALID[name]
    ]
    assert str(caught.value).splitlines() == expected


def test_example_config_is_valid_as_shipped() -> None:
    """config/example.yml works as it is once its two variables are set (the daemon's own
    check of it is in tests/test_readme_commands.py)."""
    example = Path(__file__).parent.parent / "config" / "example.yml"
    settings = load(example, {"DO_TOKEN_PRODUCTION": "dop_v1_" + "4" * 64,
                              "DO_TOKEN_STAGING": OTHER_TOKEN})
    assert [a.name for a in settings.accounts] == ["production", "staging"]
    assert [a.token for a in settings.accounts] == [EnvToken("DO_TOKEN_PRODUCTION"),
                                                    EnvToken("DO_TOKEN_STAGING")]
    assert settings.collectors["droplets"].interval == 60
    assert settings.collectors["billing"].interval == 3600


def test_example_config_commented_sources_are_valid(tmp_path: Path) -> None:
    """The token sources the example shows commented out work when uncommented."""
    example = Path(__file__).parent.parent / "config" / "example.yml"
    text = example.read_text()
    token = tmp_path / "sandbox"
    token.write_text("dop_v1_" + "4" * 64)
    token.chmod(0o600)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "team-b").write_text("dop_v1_" + "5" * 64)
    text = text.replace("  # - name: sandbox\n  #   token_file: /var/run/secrets/digitalocean/sandbox",
                        f"  - name: sandbox\n    token_file: {token}")
    text = text.replace("# tokens_dir: /var/run/secrets/digitalocean-accounts", f"tokens_dir: {secrets}")
    config = tmp_path / "config.yml"
    config.write_text(text)
    settings = load(config, {"DO_TOKEN_PRODUCTION": "dop_v1_" + "6" * 64, "DO_TOKEN_STAGING": OTHER_TOKEN})
    assert [a.name for a in settings.accounts] == ["production", "staging", "sandbox", "team-b"]


def test_all_token_sources_and_defaults(tmp_path: Path) -> None:
    token_file = tmp_path / "prod.token"
    token_file.write_text("  dop_v1_" + "6" * 64 + "\n")
    config = tmp_path / "config.yml"
    config.write_text(
        "accounts:\n"
        f"  - name: prod\n    token_file: {token_file.name}\n"
        "  - name: stage\n    token_env: STAGE_TOKEN\n"
        f"  - name: dev\n    token: {INLINE_TOKEN}\n"
        "collectors:\n  volumes: {interval: 30s, stale_after: 10m}\n  billing: {enabled: false}\n"
    )
    settings = load(config, {"STAGE_TOKEN": OTHER_TOKEN})
    assert [a.token for a in settings.accounts] == [
        FileToken(token_file), EnvToken("STAGE_TOKEN"), InlineToken(INLINE_TOKEN)
    ]
    assert settings.api.url == "https://api.digitalocean.com"
    assert settings.api.auth_url == "https://cloud.digitalocean.com"
    assert settings.api.timeout == 10
    assert settings.api.requests_per_hour == 4000
    assert settings.api.request_deadline == 30  # 3 x api.timeout
    assert settings.api.max_response_bytes == 32 * 2**20
    assert settings.token_policy.write_scopes == "refuse"
    assert settings.token_policy.unverifiable == "warn"
    assert settings.token_policy.secret_scopes == "warn"
    assert settings.token_policy.excess_scopes == "warn"
    assert settings.collectors["droplets"].stale_after == 180  # 3 intervals
    assert settings.collectors["volumes"].interval == 30
    assert settings.collectors["volumes"].stale_after == 600
    assert settings.collectors["billing"].enabled is False


@pytest.mark.parametrize(("api", "deadline", "max_bytes"), [
    ("{timeout: 4s}", 12, 32 * 2**20),  # the deadline follows the timeout
    ("{timeout: 4s, response_deadline: 1m, max_response_bytes: 64MiB}", 60, 64 * 2**20),
    ("{max_response_bytes: 1048576}", 30, 2**20),
    ("{max_response_bytes: 1GiB, response_deadline: 10s}", 10, 2**30),
])
def test_api_response_limits(tmp_path: Path, api: str, deadline: float, max_bytes: int) -> None:
    config = tmp_path / "config.yml"
    config.write_text(f"accounts:\n  - name: dev\n    token: {INLINE_TOKEN}\napi: {api}\n")
    settings = load(config)
    assert (settings.api.request_deadline, settings.api.max_response_bytes) == (deadline, max_bytes)


def test_token_policy_scope_keys(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        f"accounts:\n  - name: dev\n    token: {INLINE_TOKEN}\n"
        "token_policy: {secret_scopes: refuse, excess_scopes: ignore}\n"
    )
    policy = load(config).token_policy
    assert (policy.write_scopes, policy.unverifiable) == ("refuse", "warn")
    assert (policy.secret_scopes, policy.excess_scopes) == ("refuse", "ignore")
    config.write_text(
        f"accounts:\n  - name: dev\n    token: {INLINE_TOKEN}\ntoken_policy: {{secrets: refuse}}\n"
    )
    with pytest.raises(ConfigError) as raised:
        load(config)
    assert raised.value.problems == [
        "token_policy.secrets: unknown key (did you mean secret_scopes?); known keys are "
        "write_scopes, unverifiable, secret_scopes, excess_scopes"
    ]


def test_pricing_overrides(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        "accounts: [{name: a, token_env: DO_TOKEN}]\n"
        "pricing:\n  volume_gib_month: '0.12'\n  database_node_month: {db-custom: '99.50'}\n"
    )
    pricing = load(config).pricing
    assert pricing.prices == {"volume_gib_month": Decimal("0.12")}
    assert pricing.database_node_month == {"db-custom": Decimal("99.50")}


def test_environment_only_gives_default_account(tmp_path: Path) -> None:
    settings = load(None, {"DIGITALOCEAN_TOKEN": OTHER_TOKEN})
    assert [(a.name, a.token) for a in settings.accounts] == [
        ("default", EnvToken("DIGITALOCEAN_TOKEN"))
    ]
    token_file = tmp_path / "token"
    token_file.write_text(OTHER_TOKEN)
    settings = load(None, {"DIGITALOCEAN_TOKEN_FILE": str(token_file)})
    assert settings.accounts[0].token == FileToken(token_file)


def test_environment_both_token_variables_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(None, {"DIGITALOCEAN_TOKEN": OTHER_TOKEN, "DIGITALOCEAN_TOKEN_FILE": "/x"})
    assert caught.value.problems == [
        "DIGITALOCEAN_TOKEN: set only one of DIGITALOCEAN_TOKEN and DIGITALOCEAN_TOKEN_FILE"
    ]


def test_no_config_and_no_token_is_an_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load(None, {})
    assert caught.value.problems == [
        "accounts: no accounts configured; list accounts or set tokens_dir in the config file, "
        "or set DIGITALOCEAN_TOKEN or DIGITALOCEAN_TOKEN_FILE"
    ]


def test_tokens_dir_follows_kubernetes_symlinks_and_skips_dot_entries(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    data = secrets / "..2026_11_27_10_00_00.000000001"
    data.mkdir(parents=True)
    (data / "production").write_text("dop_v1_" + "7" * 64)
    (data / "staging").write_text("dop_v1_" + "8" * 64)
    (secrets / "..data").symlink_to(data.name)
    (secrets / "production").symlink_to("..data/production")
    (secrets / "staging").symlink_to("..data/staging")
    (secrets / ".hidden").write_text("dop_v1_ignored")
    (secrets / "subdir").mkdir()
    config = tmp_path / "config.yml"
    config.write_text(f"tokens_dir: {secrets}\n")
    settings = load(config, {})
    assert [(a.name, a.origin) for a in settings.accounts] == [
        ("production", "tokens_dir[production]"),
        ("staging", "tokens_dir[staging]"),
    ]
    assert settings.tokens_dir == secrets


def test_tokens_dir_skips_a_readme_and_a_note_with_one_warning_each(tmp_path: Path) -> None:
    """Issue 16 point 6: one stray file no longer stops every account, and a one-word note is
    no longer an account whose text goes to DigitalOcean as a Bearer token."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "production").write_text("dop_v1_" + "7" * 64)
    (secrets / "production").chmod(0o600)
    (secrets / "README.md").write_text("# Tokens\n\nOne file per account.\n")
    (secrets / "NOTES").write_text("rotate-monthly\n")
    config = tmp_path / "config.yml"
    config.write_text(f"tokens_dir: {secrets}\n")
    settings = load(config, {})
    assert [a.name for a in settings.accounts] == ["production"]
    assert settings.warnings == (
        f"tokens_dir: {secrets}/NOTES is skipped: it does not hold a DigitalOcean API token",
        f"tokens_dir: {secrets}/README.md is skipped: its name ends in .md, so it is not a token "
        "file (a token file is named after its account, with no extension)",
    )
    # nothing left: the problem says why each file was skipped
    (secrets / "production").unlink()
    with pytest.raises(ConfigError) as raised:
        load(config, {})
    assert raised.value.problems == [
        f"tokens_dir: {secrets} holds no token files; {secrets}/NOTES is skipped: it does not "
        f"hold a DigitalOcean API token; {secrets}/README.md is skipped: its name ends in .md, "
        "so it is not a token file (a token file is named after its account, with no extension)"
    ]


def test_tokens_dir_name_clash_with_listed_account(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "production").write_text("dop_v1_" + "7" * 64)
    config = tmp_path / "config.yml"
    config.write_text(
        f"tokens_dir: {secrets}\naccounts:\n  - name: production\n    token_env: DO_TOKEN\n"
    )
    with pytest.raises(ConfigError) as caught:
        load(config)
    assert caught.value.problems == [
        "tokens_dir[production]: account name 'production' is already used by accounts[0]"
    ]


def test_loopback_http_is_allowed(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        "accounts: [{name: a, token_env: DO_TOKEN}]\n"
        "api: {url: 'http://127.0.0.1:8080/', auth_url: 'http://localhost:8080'}\n"
    )
    settings = load(config)
    assert settings.api.url == "http://127.0.0.1:8080"
    assert settings.api.auth_url == "http://localhost:8080"


def test_readable_token_file_and_inline_token_warn(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(OTHER_TOKEN)
    os.chmod(token_file, 0o644)
    config = tmp_path / "config.yml"
    config.write_text(
        f"accounts:\n  - name: a\n    token_file: {token_file}\n  - name: b\n    token: {INLINE_TOKEN}\n"
    )
    os.chmod(config, 0o644)
    settings = load(config)
    assert settings.warnings == (
        f"accounts[0].token_file: token file {token_file} is readable by other users; chmod 600 it",
        f"accounts[1].token: the config file {config} holds a token and is readable by other "
        "users; chmod 600 it or use token_file",
    )
    os.chmod(token_file, 0o600)
    os.chmod(config, 0o600)
    assert load(config).warnings == ()


def test_summary_never_shows_a_token(tmp_path: Path) -> None:
    secret = "dop_v1_" + "9" * 64
    config = tmp_path / "config.yml"
    config.write_text(f"accounts:\n  - name: a\n    token: {secret}\n")
    summary = describe_settings(load(config))
    assert secret not in summary
    assert "a  inline token in the config file" in summary
    assert repr(InlineToken(secret)) == "InlineToken()"


@pytest.mark.parametrize(("value", "message"), [
    ("0", "api.replicas: 0 is outside 1..10; give the number of exporter processes that poll the "
     "same accounts with the same tokens (1 without a high-availability pair; each process plans "
     "with 1/api.replicas of api.requests_per_hour)"),
    ("11", "api.replicas: 11 is outside 1..10; give the number of exporter processes that poll "
     "the same accounts with the same tokens (1 without a high-availability pair; each process "
     "plans with 1/api.replicas of api.requests_per_hour)"),
    ("two", "api.replicas: expected an integer, got a string"),
])
def test_api_replicas_is_checked(tmp_path: Path, value: str, message: str) -> None:
    path = tmp_path / "config.yml"
    path.write_text(f"api:\n  replicas: {value}\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, {"DIGITALOCEAN_TOKEN": "dop_v1_" + "0" * 64}, collector_defaults())
    assert error.value.problems == [message]


def test_api_replicas_defaults_to_1_and_is_described(tmp_path: Path) -> None:
    env = {"DIGITALOCEAN_TOKEN": "dop_v1_" + "0" * 64}
    path = tmp_path / "config.yml"
    path.write_text("api:\n  requests_per_hour: 3001\n")
    assert load_settings(path, env, collector_defaults()).api.replicas == 1
    path.write_text("api:\n  requests_per_hour: 3001\n  replicas: 2\n")
    settings = load_settings(path, env, collector_defaults())
    assert settings.api.replicas == 2
    assert settings.api.requests_per_hour == 3001  # the token's budget, as configured
    assert ("budget 3001 requests/hour per token, shared by 2 replicas (api.replicas: each polls "
            "every account with the same tokens): 1500 requests/hour per token for this process"
            ) in describe_settings(settings)
