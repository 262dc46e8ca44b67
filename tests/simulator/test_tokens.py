"""Tokens and scopes: token/info, read-only and full access, custom scopes, 401 and 403."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from exporter.simulator import SimToken, Simulator

from .conftest import (
    API_READ,
    BILLING_ONLY,
    DROPLETS_ONLY,
    EXPIRED,
    EXPIRING,
    FULL_ACCESS,
    OTHER_ACCOUNT,
    READ_ONLY,
    REVOKED,
    START,
    ManualClock,
)

ENDPOINTS = (
    "/v2/account",
    "/v2/droplets",
    "/v2/droplets?type=gpus",
    "/v2/volumes",
    "/v2/customers/my/balance",
    "/v2/customers/my/invoices",
    "/v1/oauth/token/info",
)
UNAUTHORIZED = {"id": "unauthorized", "message": "Unable to authenticate you."}
FORBIDDEN = {"id": "forbidden", "message": "You are not authorized to perform this operation."}


def error_of(response: httpx.Response) -> dict[str, str]:
    body: dict[str, str] = response.json()
    assert body.pop("request_id") == response.headers["x-request-id"]
    return body


def test_token_info_of_a_read_only_token(
    acme: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    response = connect(acme, READ_ONLY).get("/v1/oauth/token/info")
    assert response.status_code == 200
    info = response.json()
    # expires_in_seconds is an integer or absent (a token that does not expire), never null
    assert set(info) == {"resource_owner_id", "scopes", "application", "created_at"}
    assert info["scopes"] == ["read"]
    assert info["created_at"] == int(START)
    assert isinstance(info["resource_owner_id"], int)
    assert len(info["application"]["uid"]) == 64


def test_tokens_of_one_account_share_the_resource_owner(
    acme: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    owners = {
        token.name: connect(acme, token).get("/v1/oauth/token/info").json()["resource_owner_id"]
        for token in (READ_ONLY, FULL_ACCESS, BILLING_ONLY)
    }
    assert len(set(owners.values())) == 1
    other = connect(acme, OTHER_ACCOUNT).get("/v1/oauth/token/info").json()["resource_owner_id"]
    assert other not in owners.values()


@pytest.mark.parametrize(
    ("token", "scopes"),
    [
        (FULL_ACCESS, ["read", "write"]),
        (DROPLETS_ONLY, ["droplet:read", "droplet:create"]),
        (BILLING_ONLY, ["billing:read"]),
    ],
)
def test_token_info_reports_the_scopes(
    acme: Simulator, connect: Callable[..., httpx.Client], token: SimToken, scopes: list[str]
) -> None:
    assert connect(acme, token).get("/v1/oauth/token/info").json()["scopes"] == scopes


def test_an_expiring_token_counts_down_then_answers_401(
    acme: Simulator, connect: Callable[..., httpx.Client], clock: ManualClock
) -> None:
    client = connect(acme, EXPIRING)
    info = client.get("/v1/oauth/token/info").json()
    assert (info["expires_in_seconds"], info["created_at"]) == (3600, 1_790_000_000)
    clock.advance(600)
    assert client.get("/v1/oauth/token/info").json()["expires_in_seconds"] == 3000
    clock.advance(3000)
    for path in ENDPOINTS:
        response = client.get(path)
        assert response.status_code == 401, path
        assert error_of(response) == UNAUTHORIZED


@pytest.mark.parametrize("token", [EXPIRED, REVOKED, "sim-secret-unknown"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_expired_revoked_and_unknown_tokens_answer_401_everywhere(
    acme: Simulator, connect: Callable[..., httpx.Client], token: object, path: str
) -> None:
    response = connect(acme, token).get(path)
    assert response.status_code == 401
    assert error_of(response) == UNAUTHORIZED


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Token sim-secret-read-only", "Basic c2ltOnNpbQ=="]
)
def test_missing_or_malformed_authorization_answers_401(
    acme: Simulator, connect: Callable[..., httpx.Client], authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = connect(acme, headers=headers).get("/v2/account")
    assert response.status_code == 401
    assert error_of(response) == UNAUTHORIZED


def test_bearer_scheme_is_case_insensitive(
    acme: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    headers = {"authorization": "bearer sim-secret-read-only"}
    assert connect(acme, headers=headers).get("/v2/account").status_code == 200


@pytest.mark.parametrize("token", [READ_ONLY, FULL_ACCESS])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_read_only_and_full_access_may_read_everything(
    acme: Simulator, connect: Callable[..., httpx.Client], token: SimToken, path: str
) -> None:
    assert connect(acme, token).get(path).status_code == 200


@pytest.mark.parametrize("path", ENDPOINTS)
def test_api_read_grants_only_what_the_spec_lists_it_on(
    acme: Simulator, connect: Callable[..., httpx.Client], path: str
) -> None:
    # in the full spec, `api:read` is on GET /v2/volumes only
    allowed = path in ("/v2/volumes", "/v1/oauth/token/info")
    assert connect(acme, API_READ).get(path).status_code == (200 if allowed else 403)


@pytest.mark.parametrize(("scopes", "status"), [
    (["sizes:read"], 403), (["regions:read"], 403), (["sizes:read", "regions:read"], 200),
    (["read"], 200), (["api:read"], 403),
])
def test_sizes_need_both_of_the_scopes_the_spec_lists(
    acme: Simulator, connect: Callable[..., httpx.Client], scopes: list[str], status: int
) -> None:
    token = SimToken(name="sizes", token="sim-secret-sizes-" + "-".join(scopes), scopes=scopes)
    acme.add_token("acme", token)
    assert connect(acme, token).get("/v2/sizes").status_code == status


@pytest.mark.parametrize(
    ("token", "allowed"),
    [
        (
            BILLING_ONLY,
            {"/v2/customers/my/balance", "/v2/customers/my/invoices", "/v1/oauth/token/info"},
        ),
        (DROPLETS_ONLY, {"/v2/droplets", "/v2/droplets?type=gpus", "/v1/oauth/token/info"}),
    ],
)
def test_custom_scopes_allow_their_resources_and_403_the_rest(
    acme: Simulator, connect: Callable[..., httpx.Client], token: SimToken, allowed: set[str]
) -> None:
    client = connect(acme, token)
    for path in ENDPOINTS:
        response = client.get(path)
        if path in allowed:
            assert response.status_code == 200, path
        else:
            assert response.status_code == 403, path
            assert error_of(response) == FORBIDDEN


def test_volumes_need_block_storage_read(
    acme: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    acme.add_token(
        "acme", SimToken(name="storage", token="sim-secret-storage", scopes=["block_storage:read"])
    )
    client = connect(acme, "sim-secret-storage")
    assert client.get("/v2/volumes").status_code == 200
    assert client.get("/v2/droplets").status_code == 403


def test_revoking_at_runtime(acme: Simulator, connect: Callable[..., httpx.Client]) -> None:
    client = connect(acme, READ_ONLY)
    assert client.get("/v2/account").status_code == 200
    acme.revoke_token("read-only")
    assert client.get("/v2/account").status_code == 401
    assert client.get("/v1/oauth/token/info").status_code == 401
    assert connect(acme, FULL_ACCESS).get("/v2/account").status_code == 200


def test_adding_a_token_at_runtime(
    acme: Simulator, connect: Callable[..., httpx.Client], clock: ManualClock
) -> None:
    clock.advance(100)
    acme.add_token("other", SimToken(name="late", token="sim-secret-late", scopes=["account:read"]))
    client = connect(acme, "sim-secret-late")
    assert client.get("/v1/oauth/token/info").json()["created_at"] == int(START + 100)
    assert client.get("/v2/account").json()["account"]["team"]["name"] == "Other"
    with pytest.raises(ValueError, match="already exists"):
        acme.add_token("acme", SimToken(name="late", token="sim-secret-another"))
    with pytest.raises(KeyError):
        acme.add_token("nobody", SimToken(name="x", token="sim-secret-x"))


def test_non_get_methods_answer_405(acme: Simulator, connect: Callable[..., httpx.Client]) -> None:
    client = connect(acme, FULL_ACCESS)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = client.request(method, "/v2/droplets", json={"name": "x"})
        assert response.status_code == 405
        assert response.headers["allow"] == "GET"
        assert error_of(response)["id"] == "method_not_allowed"
    head = client.head("/v2/droplets")
    assert head.status_code == 405
    assert head.content == b""


def test_unknown_paths_answer_404(acme: Simulator, connect: Callable[..., httpx.Client]) -> None:
    response = connect(acme, READ_ONLY).get("/v2/no/such/thing")
    assert response.status_code == 404
    assert error_of(response) == {
        "id": "not_found",
        "message": "The resource you were accessing could not be found.",
    }


def test_secrets_never_appear_in_reprs_or_the_request_log(
    acme: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    connect(acme, READ_ONLY).get("/v2/account")
    connect(acme, "sim-secret-unknown").get("/v2/account")
    assert "sim-secret" not in repr(READ_ONLY)
    assert "sim-secret" not in repr(acme.config)
    assert "sim-secret" not in repr(acme.requests.entries())
