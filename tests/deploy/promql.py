"""The metric names a PromQL expression reads, found with a small tokenizer.

Enough of PromQL to tell a metric name from everything else that looks like a word: label
matchers (`{...}`), strings, range and subquery brackets (`[5m]`, `[$__rate_interval]`),
function and aggregation names, the label lists of `by`, `without`, `on`, `ignoring`,
`group_left` and `group_right`, keywords (`and`, `bool`, `offset` ...), numbers, durations,
comments and Grafana variables (`$account`). A metric named only through a `__name__`
matcher counts when the matcher is exact; a regular expression cannot be resolved to names
and is an error, as is anything the tokenizer does not understand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

AGGREGATIONS = frozenset({
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
    "topk", "quantile", "limitk", "limit_ratio",
})
LABEL_LISTS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
KEYWORDS = frozenset({"and", "or", "unless", "atan2", "bool", "offset", "inf", "nan"})

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<variable>\$\{[^}]*\}|\$\w+)
  | (?P<number>(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)\w*)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<operator>==|!=|>=|<=|=~|!~|[-+*/%^<>=@,(){}\[\]])
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str  # string, variable, number, ident or operator
    text: str


class PromQLError(ValueError):
    pass


def tokenize(expr: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(expr):
        match = _TOKEN.match(expr, position)
        if match is None:
            raise PromQLError(f"cannot read {expr[position:position + 20]!r} in {expr!r}")
        kind = match.lastgroup
        assert kind is not None
        if kind not in ("space", "comment"):
            tokens.append(Token(kind, match.group()))
        position = match.end()
    return tokens


def _closing(tokens: list[Token], start: int, expr: str) -> int:
    """The index of the bracket closing the one at `start`."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    stack = [pairs[tokens[start].text]]
    for index in range(start + 1, len(tokens)):
        text = tokens[index].text if tokens[index].kind == "operator" else ""
        if text in pairs:
            stack.append(pairs[text])
        elif text in (")", "}", "]"):
            if text != stack.pop():
                raise PromQLError(f"mismatched {text!r} in {expr!r}")
            if not stack:
                return index
    raise PromQLError(f"unclosed {tokens[start].text!r} in {expr!r}")


def _name_matchers(tokens: list[Token], expr: str) -> set[str]:
    """Metric names given by `__name__` matchers inside one `{...}`."""
    names = set()
    for index, token in enumerate(tokens):
        if token.kind == "ident" and token.text == "__name__":
            if index + 2 >= len(tokens):
                raise PromQLError(f"incomplete __name__ matcher in {expr!r}")
            operator, value = tokens[index + 1].text, tokens[index + 2]
            if operator != "=" or value.kind != "string":
                raise PromQLError(f"a __name__ matcher other than = cannot be resolved: {expr!r}")
            names.add(value.text[1:-1])
    return names


def _check_balanced(tokens: list[Token], expr: str) -> None:
    depth = 0
    for index, token in enumerate(tokens):
        if token.kind == "operator" and token.text in "({[":
            if depth == 0:
                _closing(tokens, index, expr)  # raises when it has no partner
            depth += 1
        elif token.kind == "operator" and token.text in ")}]":
            depth -= 1
            if depth < 0:
                raise PromQLError(f"unopened {token.text!r} in {expr!r}")


def metric_names(expr: str) -> set[str]:
    tokens = tokenize(expr)
    _check_balanced(tokens, expr)
    names: set[str] = set()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        following = tokens[index + 1].text if index + 1 < len(tokens) else ""
        if token.kind == "operator" and token.text == "{":
            end = _closing(tokens, index, expr)
            names |= _name_matchers(tokens[index + 1:end], expr)
            index = end + 1
            continue
        if token.kind == "operator" and token.text == "[":
            index = _closing(tokens, index, expr) + 1
            continue
        if token.kind == "ident":
            word = token.text.lower()
            if word in LABEL_LISTS:
                # `group_left` may stand alone; the others always have a list
                index = _closing(tokens, index + 1, expr) + 1 if following == "(" else index + 1
                continue
            if word not in KEYWORDS and word not in AGGREGATIONS and following != "(":
                names.add(token.text)
        index += 1
    return names


_LABEL_VALUES = re.compile(r"^\s*label_values\((?P<selector>.*),\s*(?P<label>\w+)\s*\)\s*$", re.DOTALL)


def variable_query_metric_names(query: str) -> set[str]:
    """The metrics of a Grafana Prometheus variable query: `label_values(selector, label)`."""
    match = _LABEL_VALUES.match(query)
    if match is None:
        raise PromQLError(f"not a label_values(selector, label) query: {query!r}")
    return metric_names(match.group("selector"))
