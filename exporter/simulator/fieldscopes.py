"""Fields DigitalOcean fills only for a token that holds a second scope.

The API description marks some fields "Requires `tag:read` scope" (a Droplet's `tags`) and the
like: with a custom-scoped token that lacks it, the object comes back without the field. A route
declares such fields as `field_scopes` ((path, scope) pairs, e.g. `("droplets[].tags",
"tag:read")`); the server withholds each one the caller may not read from the body the handler
made: a list comes back empty (a Droplet's `tags` is required by the schema, so it stays, as
`[]`), any other value is left out. Tokens that hold every scope (the usual case) never pay for
the extra parse.

Not modelled: fields the description marks both required and scope-dependent that are not
lists (a Droplet's `image`, the account's `droplet_limit` and `floating_ip_limit`): what the API
sends in their place is not documented, so the simulator sends them as usual.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from exporter.simulator.objects import encode_json


def withhold_fields(body: bytes, paths: Iterable[str]) -> bytes:
    """`body` without the fields at `paths`: `key.sub` names a field of an object, `key[]` every
    item of a list (`droplets[].tags`, `account.droplet_limit`)."""
    document = json.loads(body)
    for path in paths:
        _remove(document, path.split("."))
    return encode_json(document)


def _remove(node: Any, steps: list[str]) -> None:
    step, rest = steps[0], steps[1:]
    if step.endswith("[]"):
        items = node.get(step[:-2]) if isinstance(node, dict) else None
        for item in items if isinstance(items, list) else ():
            _remove(item, rest)
    elif not rest:
        if isinstance(node, dict) and step in node:
            if isinstance(node[step], list):
                node[step] = []
            else:
                del node[step]
    elif isinstance(node, dict):
        _remove(node.get(step), rest)
