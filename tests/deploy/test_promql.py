"""The PromQL metric-name extractor the dashboard and alert tests rely on."""

from __future__ import annotations

import pytest

from tests.deploy.promql import PromQLError, metric_names, tokenize, variable_query_metric_names


@pytest.mark.parametrize(("expr", "names"), [
    ("up", {"up"}),
    ('up{job="digitalocean"} == 0', {"up"}),
    # label matchers, Grafana variables and range brackets are not metrics
    ('sum by (account, code) (rate(digitalocean_api_requests_total{account=~"$account"}'
     "[$__rate_interval]))", {"digitalocean_api_requests_total"}),
    # aggregation modifiers after the argument list
    ("sum(x) by (le)", {"x"}),
    ("histogram_quantile(0.95, sum by (le, endpoint) (rate(h_bucket[5m])))", {"h_bucket"}),
    # matching and grouping lists hold label names
    ("a * on (account, droplet_id) group_left (name, region) b", {"a", "b"}),
    ("a * ignoring (code) group_right c", {"a", "c"}),
    ("a / on (account) group_left max by (account) (b > 0)", {"a", "b"}),
    ("count without (instance) (a)", {"a"}),
    # strings never name metrics, whatever they hold
    ('label_replace(m, "dst", "$1", "src", "(.*)")', {"m"}),
    ('m{a="}{\\"(", b=~`[x]`, c!~\'q\'}', {"m"}),
    ('count_values without () ("yyyymm", year(vector(time() - 86400 * scalar(day_of_month()))))',
     set()),
    # keywords, numbers, durations and set operators
    ("a > bool 1e3 and on (k) b unless c or d", {"a", "b", "c", "d"}),
    ("x offset 1h30m + y @ start() + z atan2 0x1F", {"x", "y", "z"}),
    ("a > Inf or b < -NaN", {"a", "b"}),
    ("time() - m > 30 * 86400", {"m"}),
    # recording rules, subqueries and comments
    ('digitalocean:month_to_date_cost_usd:sum_by_product{account=~"$account"}',
     {"digitalocean:month_to_date_cost_usd:sum_by_product"}),
    ("max_over_time(rate(c_total[1m])[1h:5m])", {"c_total"}),
    ("a # b + not_a_metric\n + c", {"a", "c"}),
    # a metric named by an exact __name__ matcher
    ('{__name__="foo", job="x"} + bar', {"foo", "bar"}),
    ("${datasource_free} + sum(x)", {"x"}),
])
def test_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


@pytest.mark.parametrize("expr", [
    '{__name__=~"digitalocean_.+"}',  # cannot tell which metrics
    "sum(rate(x[5m])",  # unclosed
    "a{b=\"c\"]",  # mismatched
    "a ? b",  # not PromQL
])
def test_what_cannot_be_resolved_is_an_error(expr: str) -> None:
    with pytest.raises(PromQLError):
        metric_names(expr)


def test_tokens_keep_strings_whole() -> None:
    assert [t.text for t in tokenize('f(m{a="x y"}, "$1")')] == [
        "f", "(", "m", "{", "a", "=", '"x y"', "}", ",", '"$1"', ")",
    ]


def test_variable_queries() -> None:
    assert variable_query_metric_names("label_values(digitalocean_token_valid, account)") == {
        "digitalocean_token_valid"
    }
    assert variable_query_metric_names(
        'label_values(digitalocean_droplet_info{account=~"$account"}, region)'
    ) == {"digitalocean_droplet_info"}
    with pytest.raises(PromQLError):
        variable_query_metric_names("query_result(up)")
