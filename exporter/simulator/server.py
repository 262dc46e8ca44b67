"""The `Simulator`: live state of a fake DigitalOcean and the order in which a request is judged.

For every API request, in this order (the real API's order as far as it can be observed):
  1. the credential is looked up and its request is counted by the rate limiter;
  2. unknown, revoked or expired credential: 401;
  3. over the hourly or burst limit: 429;
  4. unknown path: 404; a method other than GET: 405;
  5. the token lacks the endpoint's read scope: 403;
  6. configured faults fire (see faults.py);
  7. the endpoint's handler answers.
Every answer carries `ratelimit-*` and `x-request-id` headers and is recorded in the request
log (with the token's name, never its secret). All time comes from the injected clock, except
the real waiting that latency and hang faults do.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from exporter.simulator.config import Fault, SimAccount, SimToken, SimulatorConfig
from exporter.simulator.control import control_answer
from exporter.simulator.determinism import stable_hex
from exporter.simulator.endpoints import endpoint_router
from exporter.simulator.faults import FaultPlan, RequestFacts
from exporter.simulator.fieldscopes import withhold_fields
from exporter.simulator.fleet import Fleet, default_owner_id
from exporter.simulator.handling import (
    ERROR_TEXT,
    ApiError,
    ApiRequest,
    Caller,
    Endpoint,
    error_body,
)
from exporter.simulator.kinds import KINDS
from exporter.simulator.paging import PagingError, parse_paging
from exporter.simulator.ratelimit import RateDecision, RateLimiter
from exporter.simulator.requestlog import RequestLog, RequestRecord
from exporter.simulator.transport import (
    Answer,
    SimulatorHTTPServer,
    SimulatorIPv6HTTPServer,
)

DESCRIBED_RESOURCES = tuple(
    kind.name for kind in KINDS if kind.in_state and kind.count is not None
)
"""The resource counts `describe()` (and `/_simulator/state`) report besides Droplets."""

PROXY_ERROR_PAGE = (
    "<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>{status} Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass
class TokenState:
    """A token as the simulator currently sees it (revocation happens at runtime)."""

    token: SimToken
    account: str
    resource_owner_id: int
    created_at: int
    expires_at: float | None
    revoked: bool

    def usable(self, now: float) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)

    def caller(self, now: float) -> Caller:
        expires_in = None if self.expires_at is None else max(0, int(self.expires_at - now))
        return Caller(
            account=self.account,
            token_name=self.token.name,
            scopes=tuple(self.token.scopes),
            resource_owner_id=self.resource_owner_id,
            expires_in_seconds=expires_in,
            created_at=self.created_at,
            application_uid=stable_hex(64, "application", self.token.name),
        )


@dataclass
class Judgement:
    """What is known about a request while it is being judged."""

    method: str
    path: str
    target: str
    endpoint: str
    token: TokenState | None
    rate: RateDecision
    request_id: str
    now: float
    side_faults: list[str] = field(default_factory=list)
    """Faults that changed the request without answering it (latency, churn)."""
    user_agent: str | None = None


class Simulator:
    """A fake DigitalOcean API (and token/info endpoint) on a background HTTP server."""

    def __init__(self, config: SimulatorConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        self._log = logging.getLogger("exporter.simulator")
        self._router = endpoint_router()
        self._limiter = RateLimiter(
            per_hour=config.requests_per_hour, per_minute=config.requests_per_minute
        )
        self._faults = FaultPlan(config.faults, seed=config.seed)
        self.requests = RequestLog(config.request_log_limit)
        self._tokens_lock = threading.Lock()
        self._tokens_by_secret: dict[str, TokenState] = {}
        self._tokens_by_name: dict[str, TokenState] = {}
        self._accounts: dict[str, SimAccount] = {}
        self._fleets: dict[str, Fleet] = {}
        for account in config.accounts:
            self._accounts[account.name] = account
            self._fleets[account.name] = (
                account.fleet
                if isinstance(account.fleet, Fleet)
                else Fleet.generate(
                    account.fleet,
                    account.name,
                    team_name=account.team_name,
                    email=account.email,
                    owner_id=account.resource_owner_id or default_owner_id(account.name),
                )
            )
            for token in account.tokens:
                self.add_token(account.name, token)
        self._server: SimulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve in a background thread; returns once the socket is listening."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        server_class = SimulatorIPv6HTTPServer if ":" in host else SimulatorHTTPServer
        self._stopping.clear()
        self._server = server_class((host, port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.5},
            name="digitalocean-simulator",
            daemon=True,
        )
        self._thread.start()
        self._log.info("simulator listening on %s", self.url)

    def stop(self) -> None:
        """Stop serving, release held (hanging) requests and close open connections."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        stopper = threading.Thread(target=server.shutdown, name="digitalocean-simulator-stop")
        stopper.start()
        # serve_forever notices shutdown only when its select() returns: a connection wakes it
        # now instead of at the end of the poll interval.
        while stopper.is_alive():
            server.wake()
            stopper.join(timeout=0.02)
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Simulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL for both `api.url` and `auth_url`, e.g. "http://127.0.0.1:40123"."""
        if self._server is None:
            raise RuntimeError("simulator not started")
        address = self._server.server_address
        host, port = str(address[0]), int(address[1])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    # -- runtime changes -------------------------------------------------------------------

    def set_faults(self, faults: Iterable[Fault]) -> None:
        """Replace the active faults; their counters and random sequence start over."""
        self._faults.replace(faults)

    def clear_faults(self) -> None:
        self._faults.replace(())

    @property
    def faults(self) -> tuple[Fault, ...]:
        return self._faults.faults()

    @property
    def faults_fired(self) -> tuple[int, ...]:
        """How often each of `faults` has fired since it was set."""
        return tuple(self._faults.fired_counts())

    def add_token(self, account_name: str, token: SimToken) -> None:
        if account_name not in self._accounts:
            raise KeyError(f"unknown account {account_name!r}")
        now = self._clock()
        account = self._accounts[account_name]
        owner = account.resource_owner_id or default_owner_id(account_name)
        state = TokenState(
            token=token,
            account=account_name,
            resource_owner_id=owner,
            created_at=int(now) if token.created_at is None else token.created_at,
            expires_at=None if token.expires_in_seconds is None else now + token.expires_in_seconds,
            revoked=token.revoked,
        )
        with self._tokens_lock:
            if token.name in self._tokens_by_name:
                raise ValueError(f"token name {token.name!r} already exists")
            if token.token in self._tokens_by_secret:
                raise ValueError(f"token {token.name!r} reuses another token's secret")
            self._tokens_by_name[token.name] = state
            self._tokens_by_secret[token.token] = state

    def revoke_token(self, token_name: str) -> None:
        """From now on the token answers 401 everywhere."""
        with self._tokens_lock:
            state = self._tokens_by_name.get(token_name)
            if state is None:
                raise KeyError(f"unknown token {token_name!r}")
            state.revoked = True

    def token_names(self) -> dict[str, list[str]]:
        """Token names per account (never the secrets)."""
        with self._tokens_lock:
            names: dict[str, list[str]] = {name: [] for name in self._accounts}
            for state in self._tokens_by_name.values():
                names[state.account].append(state.token.name)
            return names

    def fleet(self, account_name: str) -> Fleet:
        return self._fleets[account_name]

    def mutate_fleet(
        self, account_name: str, create_droplets: int = 0, destroy_droplets: int = 0,
        **changes: int,
    ) -> tuple[list[int], list[int]]:
        """Create and destroy regular Droplets, deterministically, and make the other `changes`
        `Fleet.mutate` knows (resize, power_off, power_on, failed_resizes), each recorded as an
        action; returns (created, destroyed)."""
        return self._fleets[account_name].mutate(
            create=create_droplets, destroy=destroy_droplets, now=self._clock(), **changes
        )

    # -- HTTP entry points (called by transport.py) ----------------------------------------

    def control(self, method: str, target: str, body: bytes) -> Answer:
        return control_answer(self, method, target, body)

    def answer(self, method: str, target: str, headers: Mapping[str, str]) -> Answer:
        now = self._clock()
        split = urlsplit(target)
        route = self._router.match(split.path)
        token = self._authenticate(headers)
        judgement = Judgement(
            method=method,
            path=split.path,
            target=target,
            endpoint=route[0].template if route else split.path,
            token=token,
            rate=self._limiter.admit(self._rate_key(headers, token), now),
            request_id=str(uuid.uuid4()),
            now=now,
            user_agent=header(headers, "user-agent"),
        )
        if token is None or not token.usable(now):
            return self._error(judgement, 401)
        if not judgement.rate.allowed:
            return self._error(judgement, 429)
        if route is None:
            return self._error(judgement, 404)
        if method != "GET":
            return self._error(judgement, 405, extra={"allow": "GET"})
        endpoint, params = route
        caller = token.caller(now)
        if endpoint.scope is not None and not caller.may_read(endpoint.scope):
            return self._error(judgement, 403)
        query = parse_qs(split.query, keep_blank_values=True)
        request = ApiRequest(
            path=split.path,
            query=query,
            base_url=f"http://{header(headers, 'host') or self._host_port()}",
            path_params=params,
            now=now,
        )
        return self._serve(judgement, endpoint, request, caller)

    # -- the steps -------------------------------------------------------------------------

    def _host_port(self) -> str:
        return self.url.removeprefix("http://") if self._server is not None else "localhost"

    def _authenticate(self, headers: Mapping[str, str]) -> TokenState | None:
        secret = bearer_secret(headers)
        if secret is None:
            return None
        with self._tokens_lock:
            return self._tokens_by_secret.get(secret)

    def _rate_key(self, headers: Mapping[str, str], token: TokenState | None) -> str:
        if token is not None:
            return f"token:{token.token.name}"
        # Unknown credentials get their own windows, keyed by a digest so no secret is kept.
        secret = bearer_secret(headers) or ""
        return "unknown:" + hashlib.sha256(secret.encode()).hexdigest()[:16]

    def _headers(self, judgement: Judgement, *, retry_after: bool) -> dict[str, str]:
        headers = judgement.rate.headers()
        if not retry_after:
            headers.pop("retry-after", None)
        headers["x-request-id"] = judgement.request_id
        return headers

    def _record(self, judgement: Judgement, status: int | None, fault: str | None = None) -> None:
        token = judgement.token
        self.requests.append(
            RequestRecord(
                method=judgement.method,
                endpoint=judgement.endpoint,
                path=judgement.target,
                account=token.account if token else None,
                token_name=token.token.name if token else None,
                status=status,
                time=judgement.now,
                request_id=judgement.request_id,
                fault=fault or ",".join(judgement.side_faults) or None,
                user_agent=judgement.user_agent,
            )
        )

    def _error(
        self,
        judgement: Judgement,
        status: int,
        *,
        message: str | None = None,
        extra: Mapping[str, str] | None = None,
        fault: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        error_id, default_message = ERROR_TEXT.get(status, ("error", "Unexpected error"))
        all_headers = dict(headers or self._headers(judgement, retry_after=status == 429))
        all_headers.update(extra or {})
        self._record(judgement, status, fault)
        return Answer(
            status,
            error_body(error_id, message or default_message, judgement.request_id),
            all_headers,
        )

    def _page_of(self, endpoint: Endpoint, request: ApiRequest) -> int | None:
        if not endpoint.paged:
            return None
        try:
            return parse_paging(request.query).page
        except PagingError:
            return None

    def _serve(
        self, judgement: Judgement, endpoint: Endpoint, request: ApiRequest, caller: Caller
    ) -> Answer:
        fleet = self._fleets[caller.account]
        facts = RequestFacts(
            endpoint=endpoint.template,
            page=self._page_of(endpoint, request),
            account=caller.account,
            token=caller.token_name,
        )
        answered, malformed = self._apply_faults(judgement, facts, fleet)
        if answered is not None:
            return answered
        try:
            body = endpoint.handler(request, fleet, caller)
            hidden = [path for path, scope in endpoint.field_scopes if not caller.may_read(scope)]
            if hidden:
                body = withhold_fields(body, hidden)
            status = 200
        except ApiError as error:
            if malformed is None:
                return self._error(judgement, error.status, message=error.message)
            status = error.status
            body = error_body(error.error_id, error.message, judgement.request_id)
        if malformed is not None:
            return self._malformed(judgement, malformed, status, body)
        self._record(judgement, 200)
        return Answer(200, body, self._headers(judgement, retry_after=False))

    def _apply_faults(
        self, judgement: Judgement, facts: RequestFacts, fleet: Fleet
    ) -> tuple[Answer | None, Fault | None]:
        """Run the faults that fire: (an answer that replaces the real one, a body to mangle)."""
        malformed: Fault | None = None
        for fault in self._faults.triggered(facts):
            if fault.kind == "churn":
                fleet.mutate(create=fault.create, destroy=fault.destroy, now=judgement.now)
                judgement.side_faults.append("churn")
            elif fault.kind == "latency":
                self._stopping.wait(fault.seconds)
                judgement.side_faults.append("latency")
            elif fault.kind == "hang":
                self._stopping.wait(fault.seconds)
                self._record(judgement, None, "hang")
                return Answer(None), None
            elif fault.kind == "revoke_token" and facts.token is not None:
                self.revoke_token(facts.token)
                return self._error(judgement, 401, fault="revoke_token"), None
            elif fault.kind == "error":
                return self._error(judgement, fault.status or 500, fault="error"), None
            elif fault.kind == "rate_limit":
                return self._rate_limit_storm(judgement, fault), None
            elif fault.kind == "malformed":
                malformed = fault
        return None, malformed

    def _rate_limit_storm(self, judgement: Judgement, fault: Fault) -> Answer:
        headers = self._headers(judgement, retry_after=False)
        if fault.retry_after is not None:
            headers["retry-after"] = str(fault.retry_after)
        else:
            headers["ratelimit-remaining"] = "0"
            headers["ratelimit-reset"] = str(math.ceil(judgement.now + fault.reset_in))
        return self._error(judgement, 429, fault="rate_limit", headers=headers)

    def _malformed(self, judgement: Judgement, fault: Fault, status: int, body: bytes) -> Answer:
        if fault.style == "html":
            code = fault.status or 502
            self._record(judgement, code, "malformed")
            # A proxy in front of the API answers: no rate-limit headers, no request id.
            page = PROXY_ERROR_PAGE.format(status=code).encode()
            return Answer(code, page, {}, content_type="text/html")
        headers = self._headers(judgement, retry_after=False)
        if fault.style == "disconnect":
            self._record(judgement, status, "malformed")
            return Answer(status, body, headers, cut_at=len(body) // 2)
        self._record(judgement, status, "malformed")
        return Answer(status, body[: len(body) // 2], headers)

    def describe(self) -> dict[str, object]:
        """Accounts, token names and fleet sizes, for the control endpoint and the CLI."""
        names = self.token_names()
        return {
            "accounts": [
                {
                    "name": name,
                    "tokens": names[name],
                    "droplets": len(fleet.droplets),
                    "gpu_droplets": len(fleet.gpu_droplets),
                    "volumes": len(fleet.volumes),
                    **{
                        kind: len(fleet.resources.objects(kind))
                        for kind in DESCRIBED_RESOURCES
                    },
                    "registry": bool(fleet.resources.objects("registry")),
                }
                for name, fleet in self._fleets.items()
            ],
            "faults": len(self.faults),
            "requests": len(self.requests),
        }


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A request header by case-insensitive name."""
    return next((value for key, value in headers.items() if key.lower() == name), None)


def bearer_secret(headers: Mapping[str, str]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    value = header(headers, "authorization")
    if value is None:
        return None
    scheme, _, secret = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()
