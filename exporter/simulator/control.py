"""The control API under `/_simulator/`: change a running simulator from another process.

Only loopback clients reach it (checked in transport.py). It is how an end-to-end test drives
a simulator started with `python -m exporter.simulator`:

  GET    /_simulator/state                    accounts, token names, fleet sizes
  GET    /_simulator/requests[?endpoint=&account=&token_name=&status=]
                                              {"count": n, "requests": [...]}
  DELETE /_simulator/requests                 clear the request log
  GET    /_simulator/faults                   the active faults
  POST   /_simulator/faults                   replace them: {"faults": [...]} or a list
  DELETE /_simulator/faults                   remove all faults
  POST   /_simulator/tokens/<name>/revoke     revoke a token
  POST   /_simulator/fleet/<account>          {"create_droplets": n, "destroy_droplets": m,
                                               "resize_droplets": r, "power_off_droplets": o,
                                               "power_on_droplets": p, "failed_resizes": f}
                                              (each optional; every change is an action)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from exporter.simulator.config import Fault
from exporter.simulator.requestlog import RequestLog
from exporter.simulator.scenario import ScenarioError, parse_faults
from exporter.simulator.transport import Answer


class Simulator(Protocol):
    """What the control API changes: `exporter.simulator.server.Simulator` (which calls us, so
    this module names only the part it uses)."""

    @property
    def requests(self) -> RequestLog: ...

    @property
    def faults(self) -> tuple[Fault, ...]: ...

    def describe(self) -> dict[str, object]: ...

    def set_faults(self, faults: Iterable[Fault]) -> None: ...

    def clear_faults(self) -> None: ...

    def revoke_token(self, token_name: str) -> None: ...

    def mutate_fleet(
        self, account_name: str, create_droplets: int = 0, destroy_droplets: int = 0,
        **changes: int,
    ) -> tuple[list[int], list[int]]: ...


def reply(status: int, value: object) -> Answer:
    return Answer(status, json.dumps(value, separators=(",", ":")).encode())


def problem(status: int, message: str) -> Answer:
    return reply(
        status, {"id": "bad_request" if status == 400 else "not_found", "message": message}
    )


def read_json(body: bytes) -> Any:
    if not body.strip():
        return {}
    return json.loads(body)


def request_log(simulator: Simulator, query: dict[str, list[str]]) -> Answer:
    status = query.get("status", [None])[-1]
    filters: dict[str, Any] = {
        "endpoint": query.get("endpoint", [None])[-1],
        "account": query.get("account", [None])[-1],
        "token_name": query.get("token_name", [None])[-1],
        "status": int(status) if status and status.isdigit() else None,
    }
    entries = [
        entry.as_json()
        for entry in simulator.requests.entries()
        if all(wanted is None or getattr(entry, name) == wanted for name, wanted in filters.items())
    ]
    return reply(200, {"count": len(entries), "requests": entries})


def control_answer(simulator: Simulator, method: str, target: str, body: bytes) -> Answer:
    split = urlsplit(target)
    parts = [unquote(part) for part in split.path.split("/")[2:] if part]
    if method == "GET":
        answer = control_read(simulator, parts, parse_qs(split.query))
    elif method == "DELETE":
        answer = control_delete(simulator, parts)
    elif method == "POST":
        try:
            payload = read_json(body)
        except json.JSONDecodeError as error:
            return problem(400, f"body is not JSON: {error}")
        answer = control_change(simulator, parts, payload)
    else:
        answer = None
    return answer or problem(404, f"no control action {method} {split.path}")


def control_read(
    simulator: Simulator, parts: list[str], query: dict[str, list[str]]
) -> Answer | None:
    match parts:
        case ["state"]:
            return reply(200, simulator.describe())
        case ["requests"]:
            return request_log(simulator, query)
        case ["faults"]:
            return reply(200, {"faults": [dataclasses.asdict(f) for f in simulator.faults]})
    return None


def control_delete(simulator: Simulator, parts: list[str]) -> Answer | None:
    match parts:
        case ["requests"]:
            simulator.requests.clear()
            return reply(200, {"cleared": True})
        case ["faults"]:
            simulator.clear_faults()
            return reply(200, {"faults": 0})
    return None


def control_change(simulator: Simulator, parts: list[str], payload: Any) -> Answer | None:
    match parts:
        case ["faults"]:
            raw = payload.get("faults", []) if isinstance(payload, dict) else payload
            try:
                faults = parse_faults(raw)
            except ScenarioError as error:
                return problem(400, str(error))
            simulator.set_faults(faults)
            return reply(200, {"faults": len(faults)})
        case ["tokens", name, "revoke"]:
            try:
                simulator.revoke_token(name)
            except KeyError:
                return problem(404, f"unknown token {name!r}")
            return reply(200, {"revoked": name})
        case ["fleet", account]:
            return change_fleet(simulator, account, payload)
    return None


FLEET_CHANGES = {
    "resize_droplets": "resize",
    "power_off_droplets": "power_off",
    "power_on_droplets": "power_on",
    "failed_resizes": "failed_resizes",
}
"""Control API keys of the fleet changes besides create and destroy -> `Fleet.mutate` names."""


def change_fleet(simulator: Simulator, account: str, payload: Any) -> Answer:
    if not isinstance(payload, dict):
        return problem(400, "expected a JSON object")
    unknown = sorted(set(payload) - {"create_droplets", "destroy_droplets", *FLEET_CHANGES})
    if unknown:
        return problem(400, f"unknown fleet changes: {', '.join(unknown)}")
    create = payload.get("create_droplets", 0)
    destroy = payload.get("destroy_droplets", 0)
    changes = {name: payload.get(key, 0) for key, name in FLEET_CHANGES.items()}
    counts_ok = all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0
        for n in (create, destroy, *changes.values())
    )
    if not counts_ok:
        return problem(400, "create_droplets, destroy_droplets and the other changes are counts")
    try:
        created, destroyed = simulator.mutate_fleet(account, create, destroy, **changes)
    except KeyError:
        return problem(404, f"unknown account {account!r}")
    return reply(200, {"created": created, "destroyed": destroyed})
