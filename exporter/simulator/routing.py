"""Path templates to routes, where table order cannot shadow a route.

A template is `/`-separated segments, each a literal (`droplets`) or a whole-segment parameter
(`{droplet_id}`). Matching walks the segments left to right and, at every segment, tries the
literal before the parameter (backtracking if the literal leads nowhere), so
`/v2/droplets/{droplet_id}` can never hide a `/v2/droplets/gpus` declared after it, in whatever
order the table lists them. Two templates that differ only in their parameters' names would
match exactly the same paths: the table refuses them when it is built.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

PARAMETER = re.compile(r"^\{(\w+)\}$")


class Routed(Protocol):
    @property
    def template(self) -> str: ...


R = TypeVar("R", bound=Routed)


class RouteTableError(ValueError):
    """A template that cannot be routed, or two that would match the same paths."""


def template_shape(template: str) -> tuple[tuple[str | None, ...], tuple[str, ...]]:
    """(segments with None for each parameter, the parameters' names in order)."""
    if not template.startswith("/"):
        raise RouteTableError(f"route template {template!r} must start with '/'")
    segments: list[str | None] = []
    names: list[str] = []
    for segment in template[1:].split("/"):
        found = PARAMETER.match(segment)
        if found:
            segments.append(None)
            names.append(found.group(1))
        elif "{" in segment or "}" in segment:
            raise RouteTableError(
                f"route template {template!r}: a parameter must be a whole segment, not {segment!r}"
            )
        else:
            segments.append(segment)
    if len(set(names)) != len(names):
        raise RouteTableError(f"route template {template!r} repeats a parameter name")
    return tuple(segments), tuple(names)


@dataclass
class _Node(Generic[R]):
    literals: dict[str, _Node[R]] = field(default_factory=dict)
    parameter: _Node[R] | None = None
    route: R | None = None
    names: tuple[str, ...] = ()


class Router(Generic[R]):
    """Finds the route for a path: literal segments win over parameters, whatever the order."""

    def __init__(self, routes: Iterable[R]) -> None:
        self._root: _Node[R] = _Node()
        self.routes: tuple[R, ...] = tuple(routes)
        seen: dict[tuple[str | None, ...], str] = {}
        for route in self.routes:
            segments, names = template_shape(route.template)
            if segments in seen:
                raise RouteTableError(
                    f"route templates {seen[segments]!r} and {route.template!r} match the same paths"
                )
            seen[segments] = route.template
            node = self._root
            for segment in segments:
                if segment is None:
                    node.parameter = node.parameter or _Node()
                    node = node.parameter
                else:
                    node = node.literals.setdefault(segment, _Node())
            node.route, node.names = route, names

    def match(self, path: str) -> tuple[R, dict[str, str]] | None:
        """The route for `path` and its parameters (raw, still percent-encoded), or None."""
        if not path.startswith("/"):
            return None
        found = _walk(self._root, path[1:].split("/"), [])
        if found is None:
            return None
        node, values = found
        assert node.route is not None  # _walk only answers nodes that hold a route
        return node.route, dict(zip(node.names, values, strict=True))


def _walk(
    node: _Node[R], segments: Sequence[str], values: list[str]
) -> tuple[_Node[R], list[str]] | None:
    if not segments:
        return (node, values) if node.route is not None else None
    head, rest = segments[0], segments[1:]
    literal = node.literals.get(head)
    if literal is not None:
        found = _walk(literal, rest, values)
        if found is not None:
            return found
    if node.parameter is not None and head:
        return _walk(node.parameter, rest, [*values, head])
    return None
