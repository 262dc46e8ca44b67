"""Writes deploy/prometheus/alerts.yml and docs/alerts.md (the alert list and the runbooks
every `runbook_url` points at) from the alert definitions below and thresholds.json.

    python deploy/prometheus/generate.py            # rewrite alerts.yml and docs/alerts.md

Thresholds live in thresholds.json only; an expression or a text names one as `[[name]]`
(its value as written), `[[name:seconds]]` (a duration in seconds, for PromQL, which has no
duration literals), `[[name:human]]` ("7 days") or `[[name:percent]]` ("80%"). The `for:` of
most alerts is a debounce against a poll that sees a resource mid-change, not a threshold, so
it is written with the alert. tests/deploy/test_alerts.py fails when alerts.yml or
docs/alerts.md is out of date.

Standard library only, so the generator runs anywhere Python does.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

HERE = Path(__file__).resolve().parent
THRESHOLDS_PATH = HERE / "thresholds.json"
ALERTS_PATH = HERE / "alerts.yml"
DOC_PATH = HERE.parent.parent / "docs" / "alerts.md"
RUNBOOK_BASE = "https://github.com/digitalocean-exporter/digitalocean-exporter/blob/main/docs/alerts.md"

Severity = Literal["critical", "warning", "info"]
ThresholdValue = str | int | float


@dataclass(frozen=True)
class Threshold:
    name: str
    value: ThresholdValue
    description: str


@dataclass(frozen=True)
class Alert:
    """One alerting rule. `summary` and `description` are Prometheus templates; `runbook` is the
    text under the alert's heading in docs/alerts.md (what it means, what to do)."""

    name: str
    severity: Severity
    when: str  # in words, for the table in docs/alerts.md
    expr: str
    for_: str
    summary: str
    description: str
    runbook: str

    @property
    def anchor(self) -> str:
        # GitHub's anchor for a heading that is just the alert name.
        return self.name.lower()


@dataclass(frozen=True)
class Recording:
    record: str
    expr: str
    comment: str


@dataclass(frozen=True)
class Group:
    name: str
    rules: tuple[Alert | Recording, ...]


def load_thresholds(path: Path = THRESHOLDS_PATH) -> dict[str, Threshold]:
    raw = json.loads(path.read_text())["thresholds"]
    return {name: Threshold(name, spec["value"], spec["description"]) for name, spec in raw.items()}


_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_UNIT_WORDS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week"}


def duration_seconds(value: ThresholdValue) -> int:
    match = _DURATION.match(str(value))
    if match is None:
        raise ValueError(f"{value!r} is not a duration in one unit, such as 15m or 7d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def duration_words(value: ThresholdValue) -> str:
    match = _DURATION.match(str(value))
    if match is None:
        raise ValueError(f"{value!r} is not a duration in one unit, such as 15m or 7d")
    count, unit = int(match.group(1)), _UNIT_WORDS[match.group(2)]
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def percent(value: ThresholdValue) -> str:
    return f"{float(value) * 100:g}%"


_PLACEHOLDER = re.compile(r"\[\[(\w+)(?::(\w+))?\]\]")
_FORMATS: dict[str, Callable[[ThresholdValue], str]] = {
    "": str,
    "seconds": lambda v: str(duration_seconds(v)),
    "human": duration_words,
    "percent": percent,
}


def render(text: str, thresholds: Mapping[str, Threshold]) -> str:
    """`text` with every `[[name]]` / `[[name:format]]` replaced; an unknown name is an error."""

    def one(match: re.Match[str]) -> str:
        name, form = match.group(1), match.group(2) or ""
        if name not in thresholds:
            raise KeyError(f"unknown threshold {name!r} in {text!r}")
        return _FORMATS[form](thresholds[name].value)

    return _PLACEHOLDER.sub(one, text)


def placeholders(text: str) -> set[str]:
    return {match.group(1) for match in _PLACEHOLDER.finditer(text)}


# --- the rules ------------------------------------------------------------------------------

# The invoice of the previous calendar month. Invoices carry their month only as a label
# (period="2026-10"), and PromQL cannot turn a label into a number, so the month is turned
# into a label instead: count_values() makes a series {yyyymm="202610"} from the number
# year*100+month of a moment in the previous month (now minus today's day of month in days),
# and the invoices join it on the same label.
LAST_MONTH_INVOICE = Recording(
    record="digitalocean:invoice_amount_usd:last_month",
    comment="The invoice of the previous calendar month (absent until DigitalOcean issues it).",
    expr="""\
max by (account) (
  label_replace(digitalocean_invoice_amount_usd, "yyyymm", "$1$2", "period", "([0-9]{4})-([0-9]{2})")
    * on (yyyymm) group_left ()
  count_values without () ("yyyymm",
      year(vector(time() - 86400 * scalar(day_of_month()))) * 100
    + month(vector(time() - 86400 * scalar(day_of_month())))
  )
)""",
)

EXPORTER = (
    Alert(
        name="DigitalOceanExporterDown",
        severity="critical",
        when="Prometheus cannot scrape the exporter (`up` is 0 for job `[[exporter_job]]`)",
        expr='up{job="[[exporter_job]]"} == 0',
        for_="5m",
        summary="The DigitalOcean exporter {{ $labels.instance }} is down",
        description=(
            "Prometheus could not scrape {{ $labels.instance }} (job {{ $labels.job }}) for 5 "
            "minutes: no DigitalOcean metric is collected, and no other DigitalOcean alert can fire."
        ),
        runbook=(
            "Prometheus cannot scrape the exporter. Check that the process or pod runs "
            "(`/healthz` answers 200 while it lives) and read its log: an invalid configuration "
            "or a refused token makes it exit with code 2 at startup. Check the scrape target "
            "and port in the Prometheus configuration (`:9212` by default)."
        ),
    ),
    Alert(
        name="DigitalOceanExporterAbsent",
        severity="critical",
        when="Prometheus has no target of job `[[exporter_job]]` at all (no `up` series)",
        expr='absent(up{job="[[exporter_job]]"})',
        for_="10m",
        summary="Prometheus scrapes no DigitalOcean exporter (job [[exporter_job]])",
        description=(
            "Prometheus has had no target of job [[exporter_job]] for 10 minutes: the exporter "
            "is not scraped at all, so no DigitalOcean metric is collected and no other "
            "DigitalOcean alert can fire. DigitalOceanExporterDown cannot see this: it needs "
            "a target that fails."
        ),
        runbook=(
            "Prometheus loads these alerts but has no scrape target in job `[[exporter_job]]`. "
            "With the Prometheus Operator (kube-prometheus-stack), a ServiceMonitor is only "
            "selected when it carries the labels of the Prometheus' `serviceMonitorSelector`, "
            "usually `release: <your release>`: add it to `deploy/kubernetes/base/standalone/"
            "servicemonitor.yaml` (or with a kustomize patch), and check that the Service has "
            "endpoints (`kubectl get endpoints`). Otherwise check that the Prometheus "
            "configuration has the scrape job and that the job is named `[[exporter_job]]`, or "
            "set `exporter_job` in `deploy/prometheus/thresholds.json` to the job name you use "
            "and regenerate the alerts. Status > Targets in the Prometheus UI lists the jobs."
        ),
    ),
    Alert(
        name="DigitalOceanCollectorFailing",
        severity="warning",
        when="an enabled collector's polls fail (`digitalocean_collector_success` is 0)",
        expr="""\
digitalocean_collector_success == 0
  and on (account, collector) digitalocean_collector_enabled == 1""",
        for_="15m",
        summary="Collector {{ $labels.collector }} fails for account {{ $labels.account }}",
        description=(
            "Every poll of the {{ $labels.collector }} collector for account {{ $labels.account }} "
            "has failed for 15 minutes. Its last good data is served until it is stale, then its "
            "series disappear. The exporter's log says why."
        ),
        runbook=(
            "The collector's polls fail (API errors, timeouts, or answers the exporter cannot "
            "read); the last good data stays until `stale_after`. The exporter logs each new "
            "error once (`poll failed; keeping the last good data`, with the account, the "
            "collector and the error): look for 5xx answers or timeouts (DigitalOcean trouble, see "
            "<https://status.digitalocean.com>), 429s (see DigitalOceanApiRateLimitLow) or an "
            "answer of an unexpected shape (report it with the log line). A collector that lacks "
            "its read scope does not fire this alert but DigitalOceanCollectorDisabled."
        ),
    ),
    Alert(
        name="DigitalOceanCollectorDisabled",
        severity="info",
        when=(
            "a collector is disabled because the token lacks its read scope "
            "(`digitalocean_collector_enabled` is 0)"
        ),
        expr="digitalocean_collector_enabled == 0",
        for_="0m",
        summary=(
            "Collector {{ $labels.collector }} is disabled for account {{ $labels.account }}: "
            "the token lacks its read scope"
        ),
        description=(
            "DigitalOcean answered 403 to the {{ $labels.collector }} collector of account "
            "{{ $labels.account }}, so it stopped polling; the other collectors keep running."
        ),
        runbook=(
            "The token has no read scope for this collector (the exporter's log names the scope). "
            "Either add the scope to the token (custom scopes, "
            "all ending in `:read`) and replace the token, after which the collector resumes, or "
            "turn the collector off for good with `collectors.<name>.enabled: false` (or "
            "`--no-collector.<name>`), which also ends this alert."
        ),
    ),
    Alert(
        name="DigitalOceanDataStale",
        severity="warning",
        when=(
            "a collector's last successful poll is older than [[data_stale_intervals]] of "
            "its poll intervals"
        ),
        expr="""\
time() - digitalocean_collector_last_success_timestamp_seconds
  > [[data_stale_intervals]] * digitalocean_collector_interval_seconds
and on (account, collector) digitalocean_collector_enabled == 1""",
        # Longer than DigitalOceanCollectorFailing's 15m: a failing collector's data turns stale
        # one interval after its first failed poll, so with 20m CollectorFailing always fires
        # first (by at least one interval plus 5 minutes) and Alertmanager inhibits this one.
        for_="20m",
        summary="Data of collector {{ $labels.collector }} for account {{ $labels.account }} is stale",
        description=(
            "The last successful poll of {{ $labels.collector }} for account {{ $labels.account }} "
            "was {{ $value | humanizeDuration }} ago, more than [[data_stale_intervals]] poll "
            "intervals: dashboards show old data, and it disappears at stale_after."
        ),
        runbook=(
            "A collector has not completed a poll for longer than [[data_stale_intervals]] of "
            "its intervals. Usually DigitalOceanCollectorFailing fires too and says why; if it "
            "does not, polls are not happening at all: the account's token was rejected (see "
            "DigitalOceanTokenInvalid), or requests wait for the budget (see "
            "DigitalOceanApiBudgetNearlySpent). `digitalocean_collector_interval_seconds` shows "
            "the interval in effect, which the exporter stretches when the budget is too small. "
            "It waits 20 minutes, longer than DigitalOceanCollectorFailing, so that for a failing "
            "collector that alert fires first and the example Alertmanager configuration "
            "inhibits this one."
        ),
    ),
    Alert(
        name="DigitalOceanTokenInvalid",
        severity="warning",
        when="DigitalOcean rejected the token with a 401 (`digitalocean_token_valid` is 0)",
        expr="digitalocean_token_valid == 0",
        for_="0m",
        summary="DigitalOcean rejects the token of account {{ $labels.account }}",
        description=(
            "DigitalOcean answered 401 to the token of account {{ $labels.account }}: it was "
            "revoked, deleted or has expired, and polling of the account stopped."
        ),
        runbook=(
            "A warning, not a page: nothing in the account broke, only its monitoring is blind "
            "(it inhibits DigitalOceanCollectorFailing and DigitalOceanDataStale of the account "
            "in the example Alertmanager configuration). "
            "Create a new read-only token (API > Tokens > Generate New Token, scope Read Only) "
            "and put it where the account's token comes from. A token file is re-read within "
            "seconds and polling resumes; for a token in an environment variable or inline in "
            "the config, restart the exporter or send it SIGHUP after updating the config."
        ),
    ),
    Alert(
        name="DigitalOceanTokenNotReadOnly",
        severity="warning",
        when="the token is not verified read-only (`digitalocean_token_read_only` is 0)",
        expr="digitalocean_token_read_only == 0",
        for_="0m",
        summary="The token of account {{ $labels.account }} is not verified read-only",
        description=(
            "The token of account {{ $labels.account }} has scopes that can change infrastructure, "
            "or DigitalOcean's token/info could not be asked; the exporter runs with it only "
            "because token_policy allows it."
        ),
        runbook=(
            "The exporter only reads, so it should hold a token that can only read. Replace the "
            "token with a read-only one (custom scopes that all end in `:read`, except "
            "`partner_network_connect:read`, which DigitalOcean's API accepts on PATCH and "
            "DELETE; the startup log names each offending scope and why). If token/info was "
            "unreachable at startup, this clears once a token change or restart verifies the "
            "token. Setting `token_policy.write_scopes: refuse` (the "
            "default) makes the exporter refuse such tokens outright."
        ),
    ),
    Alert(
        name="DigitalOceanTokenCanReadSecrets",
        severity="info",
        when=(
            "the token holds read scopes that reveal secrets "
            "(`digitalocean_token_secret_scopes` above 0)"
        ),
        expr="digitalocean_token_secret_scopes > 0",
        for_="0m",
        summary="The token of account {{ $labels.account }} can read secrets",
        description=(
            "The token of account {{ $labels.account }} holds {{ $value }} read scope(s) that "
            "reveal secrets (API keys, passwords, registry credentials); anyone who gets the "
            "token can read them."
        ),
        runbook=(
            "The exporter's startup log names each such scope and the secret it reveals: "
            "`genai:read` (agent and model API keys), `app:read` (log destinations' keys and "
            "passwords in app specs), `monitoring:read` (alert sinks' credentials), "
            "`registry:read` (docker credentials), or the legacy `read` scope, which grants them "
            "all. Replace the token with one whose custom scopes leave them out; the `apps`, "
            "`registry`, `genai_agents` and `genai_knowledge_bases` collectors need `app:read`, "
            "`registry:read` and `genai:read`, so disable them if their metrics are not worth "
            "that. `digitalocean_token_scopes{needed=\"false\"}` lists the "
            "scopes no enabled collector needs. `token_policy.secret_scopes: refuse` makes the "
            "exporter refuse such tokens."
        ),
    ),
    Alert(
        name="DigitalOceanTokenExpiringSoon",
        severity="warning",
        when="the token expires within [[token_expiry_warning:human]]",
        expr="digitalocean_token_expiry_timestamp_seconds - time() < [[token_expiry_warning:seconds]]",
        for_="0m",
        summary="The token of account {{ $labels.account }} expires in {{ $value | humanizeDuration }}",
        description=(
            "The DigitalOcean token of account {{ $labels.account }} expires in "
            "{{ $value | humanizeDuration }}; after that, polling of the account stops."
        ),
        runbook=(
            "Create a new read-only token before the old one expires and replace it (a token "
            "file is picked up within seconds, without a restart). Tokens can be created without "
            "an expiry date."
        ),
    ),
    Alert(
        name="DigitalOceanApiRateLimitLow",
        severity="warning",
        when=(
            "less than [[api_rate_limit_remaining_ratio:percent]] of the token's hourly API "
            "rate limit is left"
        ),
        expr="""\
digitalocean_api_rate_limit_remaining / digitalocean_api_rate_limit_limit
  < [[api_rate_limit_remaining_ratio]]""",
        for_="5m",
        summary="Little of the DigitalOcean API rate limit is left for account {{ $labels.account }}",
        description=(
            "Only {{ $value | humanizePercentage }} of the hourly API rate limit of the token of "
            "account {{ $labels.account }} is left. Everything using the token shares the limit; "
            "when it runs out, DigitalOcean answers 429 and polls wait."
        ),
        runbook=(
            "DigitalOcean allows 5,000 requests per hour per token, shared by every program "
            "using it. The exporter keeps to its own budget (`api.requests_per_hour`, 4,000 by "
            "default), so if little is left, something else uses the same token (doctl, "
            "Terraform, a second exporter or Prometheus replica with its own exporter). Give the "
            "exporter a token of its own, or lower `api.requests_per_hour`."
        ),
    ),
    Alert(
        name="DigitalOceanApiBudgetNearlySpent",
        severity="warning",
        when="the exporter used more than [[api_budget_used_ratio:percent]] of its own hourly request budget",
        expr="""\
digitalocean_api_budget_used_requests / digitalocean_api_budget_requests_per_hour
  > [[api_budget_used_ratio]]""",
        for_="15m",
        summary="The exporter has nearly spent its API budget for account {{ $labels.account }}",
        description=(
            "The exporter made {{ $value | humanizePercentage }} of its hourly request budget "
            "(api.requests_per_hour) for account {{ $labels.account }} in the last hour. Requests "
            "wait rather than exceed it, so collector intervals stretch and data gets older."
        ),
        runbook=(
            "The configured intervals need more requests than the budget allows; "
            "`digitalocean_api_planned_requests_per_hour` shows how many. Raise "
            "`api.requests_per_hour` (at most 5,000, and only if nothing else uses the token), "
            "lengthen the intervals of the collectors that cost most (those with many pages or "
            "a request per object: domains, VPCs, uptime, projects), or turn off collectors you "
            "do not need."
        ),
    ),
)

BILLING = (
    Alert(
        name="DigitalOceanForecastOverBudget",
        severity="warning",
        when="the month-end forecast is above the account's budget in `budgets.yml`",
        expr="""\
digitalocean_month_forecast_usd
  > on (account) group_left () digitalocean:month_budget_usd""",
        for_="1h",
        summary="Account {{ $labels.account }} is heading over its monthly budget",
        description=(
            "The month-end forecast of account {{ $labels.account }} is "
            "${{ $value | printf \"%.2f\" }}, above the budget set in budgets.yml "
            "(digitalocean:month_budget_usd)."
        ),
        runbook=(
            "The month-to-date usage, extrapolated over the month, is above the budget you set "
            "for the account in `deploy/prometheus/budgets.yml`. The Cost dashboard shows what "
            "grew, by product, region, project and tag, and its Waste row what is billed but "
            "unused. Early in the month the extrapolation moves a lot; the alert waits an hour. "
            "Without a budget for the account this alert never fires."
        ),
    ),
    Alert(
        name="DigitalOceanSpendAboveLastInvoice",
        severity="info",
        when="usage so far this month is above last month's invoice",
        expr="""\
digitalocean_balance_month_to_date_usage_usd
  > on (account) group_left () digitalocean:invoice_amount_usd:last_month""",
        for_="1h",
        summary="Account {{ $labels.account }} has already spent more this month than last month",
        description=(
            "Usage of account {{ $labels.account }} so far this month is "
            "${{ $value | printf \"%.2f\" }}, more than last month's invoice."
        ),
        runbook=(
            "The month is not over and it already costs more than the whole of last month. "
            "If that is not planned growth, the Cost dashboard shows where the money goes "
            "(by product, region, project and tag, the top Droplets, and waste). Last month's "
            "invoice is `digitalocean:invoice_amount_usd:last_month`; until DigitalOcean issues "
            "it (on the first days of the month) the alert cannot fire."
        ),
    ),
    Alert(
        name="DigitalOceanBalanceOwed",
        severity="warning",
        when="the account balance is above $[[balance_owed_usd]] (money owed)",
        expr="digitalocean_balance_account_usd > [[balance_owed_usd]]",
        for_="[[balance_owed_for]]",
        summary="Account {{ $labels.account }} owes ${{ $value | printf \"%.2f\" }}",
        description=(
            "The balance of account {{ $labels.account }} has shown "
            "${{ $value | printf \"%.2f\" }} owed for [[balance_owed_for:human]]: an invoice "
            "may be unpaid."
        ),
        runbook=(
            "A positive account balance is money owed (a negative one is credit). DigitalOcean "
            "charges the payment method when it issues the invoice, so a balance that stays "
            "owed usually means a failed payment. Check Billing in the control panel and update "
            "the payment method: unpaid accounts are eventually suspended."
        ),
    ),
)

WASTE = (
    Alert(
        name="DigitalOceanDropletOff",
        severity="info",
        when="a Droplet without the tag `[[waste_ignore_tag]]` is powered off (and still billed)",
        expr="""\
(
    (digitalocean_droplet_status{status="off"} == 1)
  unless on (account, droplet_id) digitalocean_droplet_tag_info{tag="[[waste_ignore_tag]]"}
)
  * on (account, droplet_id) group_left (name, region, size) digitalocean_droplet_info""",
        for_="[[droplet_off_for]]",
        summary="Droplet {{ $labels.name }} of account {{ $labels.account }} is off but still billed",
        description=(
            "Droplet {{ $labels.name }} (id {{ $labels.droplet_id }}, {{ $labels.size }} in "
            "{{ $labels.region }}) of account {{ $labels.account }} has been powered off for "
            "[[droplet_off_for:human]]. DigitalOcean bills a Droplet that is off at its full price."
        ),
        runbook=(
            "A powered-off Droplet still reserves its disk, memory and IP, and is billed in "
            "full. If it is not needed, take a snapshot (billed by the GiB, far cheaper) and "
            "destroy it; otherwise power it on. The Cost dashboard's Waste row lists these "
            "Droplets with their monthly price. A Droplet kept off on purpose (a standby, a "
            "seasonal job) is left out once it carries the DigitalOcean tag "
            "`[[waste_ignore_tag]]` (set `waste_ignore_tag` in thresholds.json to use another "
            "tag); the tag needs the token's `tag:read` scope to be seen."
        ),
    ),
    Alert(
        name="DigitalOceanVolumeUnattached",
        severity="info",
        when="a volume older than [[volume_unattached_min_age:human]] is attached to no Droplet",
        expr="""\
(digitalocean_volume_info unless on (account, volume_id) digitalocean_volume_attached_droplet_info)
  and on (account, volume_id)
(time() - digitalocean_volume_created_timestamp_seconds > [[volume_unattached_min_age:seconds]])""",
        for_="1h",
        summary="Volume {{ $labels.name }} of account {{ $labels.account }} is attached to no Droplet",
        description=(
            "Volume {{ $labels.name }} (id {{ $labels.volume_id }}, in {{ $labels.region }}) of "
            "account {{ $labels.account }} is older than [[volume_unattached_min_age:human]] and "
            "attached to no Droplet, and is billed for its full size."
        ),
        runbook=(
            "A volume is billed for its size whether or not a Droplet uses it. The API does not "
            "say when a volume was detached, so the alert reports volumes older than "
            "[[volume_unattached_min_age:human]] that have been attached to nothing for an hour "
            "(the hour skips a volume being moved between Droplets). Attach it, or snapshot and "
            "delete it."
        ),
    ),
    Alert(
        name="DigitalOceanReservedIPUnassigned",
        severity="info",
        when="a reserved IPv4 address is assigned to no Droplet",
        expr="""\
digitalocean_reserved_ip_info
  and on (account, reserved_ip) (digitalocean_reserved_ip_assigned == 0)""",
        for_="1h",
        summary="Reserved IP {{ $labels.reserved_ip }} of account {{ $labels.account }} is unassigned",
        description=(
            "Reserved IPv4 address {{ $labels.reserved_ip }} in {{ $labels.region }} of account "
            "{{ $labels.account }} is assigned to no Droplet; DigitalOcean bills reserved IPv4 "
            "addresses while they are unassigned."
        ),
        runbook=(
            "Assign the address to a Droplet or release it. Reserved IPv6 addresses are not "
            "billed, so only IPv4 addresses are reported."
        ),
    ),
    Alert(
        name="DigitalOceanSnapshotOld",
        severity="info",
        when=(
            "an account has snapshots older than [[snapshot_max_age:human]] (one alert per "
            "account; names matching `[[snapshot_keep_name]]` left out)"
        ),
        expr="""\
count by (account) (
    (time() - digitalocean_snapshot_created_timestamp_seconds > [[snapshot_max_age:seconds]])
  unless on (account, snapshot_id) digitalocean_snapshot_info{name=~"[[snapshot_keep_name]]"}
)""",
        for_="0m",
        summary=(
            "Account {{ $labels.account }} has {{ $value }} snapshot(s) older than "
            "[[snapshot_max_age:human]]"
        ),
        description=(
            "{{ $value }} snapshot(s) of account {{ $labels.account }} were taken more than "
            "[[snapshot_max_age:human]] ago. Snapshots are billed by the GiB every month; the "
            "Cost dashboard's Waste row lists them with their age and price."
        ),
        runbook=(
            "Old snapshots are often forgotten backups, or outlive the Droplet they were taken "
            "of. Delete the ones nobody will restore. The Cost dashboard's Waste row lists old "
            "snapshots with their age and monthly price. The alert counts them per account, so "
            "a dozen forgotten snapshots are one alert, not twelve. A snapshot kept on purpose "
            "(a golden image, a yearly archive) is left out when its name matches the regular "
            "expression `[[snapshot_keep_name]]` (`snapshot_keep_name` in thresholds.json): "
            "rename it in the control panel, for example to `base-image-keep`."
        ),
    ),
)

RESOURCES = (
    Alert(
        name="DigitalOceanLoadBalancerErrored",
        severity="critical",
        when="a load balancer's status is `errored`",
        expr="""\
(digitalocean_load_balancer_status{status="errored"} == 1)
  * on (account, load_balancer_id) group_left (name, region) digitalocean_load_balancer_info""",
        for_="5m",
        summary="Load balancer {{ $labels.name }} of account {{ $labels.account }} is errored",
        description=(
            "Load balancer {{ $labels.name }} (id {{ $labels.load_balancer_id }}, in "
            "{{ $labels.region }}) of account {{ $labels.account }} reports the status errored."
        ),
        runbook=(
            "DigitalOcean could not create or update the load balancer. Check it in the "
            "control panel (its forwarding rules, certificates and region capacity) and open a "
            "support ticket if it stays errored; traffic through it may be failing."
        ),
    ),
    Alert(
        name="DigitalOceanNatGatewayUnhealthy",
        severity="critical",
        when="a VPC NAT gateway's state is `error` or `invalid`",
        expr="""\
(digitalocean_nat_gateway_status{status=~"error|invalid"} == 1)
  * on (account, nat_gateway_id) group_left (name, region) digitalocean_nat_gateway_info""",
        for_="5m",
        summary="NAT gateway {{ $labels.name }} of account {{ $labels.account }} is {{ $labels.status }}",
        description=(
            "VPC NAT gateway {{ $labels.name }} (id {{ $labels.nat_gateway_id }}, in "
            "{{ $labels.region }}) of account {{ $labels.account }} reports the state "
            "{{ $labels.status }}."
        ),
        runbook=(
            "Resources in the VPC networks this gateway serves reach the internet through it: "
            "their outbound traffic may be failing. Check the gateway in the control panel "
            "(`digitalocean_nat_gateway_vpc_info` names its VPCs, "
            "`digitalocean_nat_gateway_egress_ips` its public addresses) and open a support "
            "ticket if it stays so; it is billed whatever its state."
        ),
    ),
    Alert(
        name="DigitalOceanByoipPrefixNotAdvertised",
        severity="warning",
        when="an `active` BYOIP prefix is not advertised",
        expr="""\
(
    (digitalocean_byoip_prefix_advertised == 0)
  and on (account, byoip_prefix_id) (digitalocean_byoip_prefix_status{status="active"} == 1)
)
  * on (account, byoip_prefix_id) group_left (prefix, region) digitalocean_byoip_prefix_info""",
        for_="15m",
        summary=(
            "BYOIP prefix {{ $labels.prefix }} of account {{ $labels.account }} is not advertised"
        ),
        description=(
            "BYOIP prefix {{ $labels.prefix }} (id {{ $labels.byoip_prefix_id }}, in "
            "{{ $labels.region }}) of account {{ $labels.account }} is active but has not been "
            "advertised for 15 minutes: traffic to its addresses does not reach DigitalOcean."
        ),
        runbook=(
            "A prefix that finished its validation is advertised from DigitalOcean's network "
            "once it is turned on. If advertising was turned off on purpose, ignore this; "
            "otherwise turn it on again in the control panel (Networking, BYOIP) and check the "
            "prefix's route origin authorisation with your regional internet registry. A prefix "
            "still `in_progress` is left out."
        ),
    ),
    Alert(
        name="DigitalOceanKubernetesClusterUnhealthy",
        severity="warning",
        when="a Kubernetes cluster is `degraded` or in `error`",
        expr="""\
(digitalocean_kubernetes_cluster_status{status=~"degraded|error"} == 1)
  * on (account, kubernetes_cluster_id) group_left (name, region, version)
    digitalocean_kubernetes_cluster_info""",
        for_="15m",
        summary=(
            "Kubernetes cluster {{ $labels.name }} of account {{ $labels.account }} is "
            "{{ $labels.status }}"
        ),
        description=(
            "Kubernetes cluster {{ $labels.name }} (id {{ $labels.kubernetes_cluster_id }}, "
            "{{ $labels.version }} in {{ $labels.region }}) of account {{ $labels.account }} has "
            "been {{ $labels.status }} for 15 minutes."
        ),
        runbook=(
            "DigitalOcean reports the cluster degraded (some control plane or node components "
            "are unhealthy) or in error. Look at the cluster's page in the control panel and at "
            "`kubectl get nodes` and the kube-system pods; the Inventory dashboard shows its "
            "node pools and node states."
        ),
    ),
    Alert(
        name="DigitalOceanKubernetesNodePoolBelowMinimum",
        severity="warning",
        when="an auto-scaled node pool is set to fewer nodes than its `min_nodes`",
        expr="""\
(digitalocean_kubernetes_node_pool_nodes < digitalocean_kubernetes_node_pool_min_nodes)
  * on (account, kubernetes_cluster_id, node_pool_id) group_left (name, size)
    digitalocean_kubernetes_node_pool_info""",
        for_="15m",
        summary=(
            "Node pool {{ $labels.name }} of account {{ $labels.account }} runs fewer nodes "
            "than its minimum"
        ),
        description=(
            "Auto-scaled node pool {{ $labels.name }} ({{ $labels.size }}) of Kubernetes cluster "
            "{{ $labels.kubernetes_cluster_id }} in account {{ $labels.account }} is set to "
            "{{ $value }} nodes, fewer than its min_nodes."
        ),
        runbook=(
            "The autoscaler keeps a pool between its minimum and maximum; below the minimum "
            "usually means nodes could not be created (Droplet limit reached, see "
            "DigitalOceanAccountLimitNearlyReached, or no capacity for the size in the region). "
            "Check the cluster's events in the control panel."
        ),
    ),
    Alert(
        name="DigitalOceanKubernetesClusterLintErrors",
        severity="info",
        when="the latest clusterlint run of a Kubernetes cluster found errors",
        expr="""\
(digitalocean_kubernetes_cluster_lint_diagnostics{severity="error"} > 0)
  * on (account, kubernetes_cluster_id) group_left (name, region, version)
    digitalocean_kubernetes_cluster_info""",
        for_="15m",
        summary=(
            "Kubernetes cluster {{ $labels.name }} of account {{ $labels.account }} has "
            "clusterlint errors"
        ),
        description=(
            "The latest clusterlint run of Kubernetes cluster {{ $labels.name }} (id "
            "{{ $labels.kubernetes_cluster_id }}, {{ $labels.version }} in {{ $labels.region }}) "
            "of account {{ $labels.account }} found {{ $value }} error(s)."
        ),
        runbook=(
            "clusterlint checks a cluster's workloads for problems that break upgrades and "
            "DigitalOcean features (webhooks that block the control plane, pods without an "
            "owner on volumes, ...). Run it again from the cluster's Insights tab or with "
            "`doctl kubernetes cluster lint`, fix what it names (see its check documentation) "
            "before the next upgrade; the exporter reads the latest run every hour."
        ),
    ),
    Alert(
        name="DigitalOceanAutoscalePoolMemberUnhealthy",
        severity="warning",
        when="a Droplet autoscale pool has members whose health check fails",
        expr="""\
(digitalocean_droplet_autoscale_pool_member_health_droplets{health="unhealthy"} > 0)
  * on (account, autoscale_pool_id) group_left (name, region, size)
    digitalocean_droplet_autoscale_pool_info""",
        for_="30m",
        summary=(
            "Autoscale pool {{ $labels.name }} of account {{ $labels.account }} has unhealthy "
            "Droplets"
        ),
        description=(
            "{{ $value }} Droplet(s) of autoscale pool {{ $labels.name }} ({{ $labels.size }} in "
            "{{ $labels.region }}, id {{ $labels.autoscale_pool_id }}) of account "
            "{{ $labels.account }} have failed their health check for 30 minutes."
        ),
        runbook=(
            "The pool keeps unhealthy members running and counts them towards its size, so it "
            "serves with fewer working Droplets than it shows. The members and their "
            "`unhealthy_reason` are on the pool's page in the control panel; the Droplet's agent "
            "or the service it runs has usually stopped. Fix or destroy the Droplet (the pool "
            "replaces it)."
        ),
    ),
    Alert(
        name="DigitalOceanGenAIAgentDeploymentFailed",
        severity="warning",
        when="a GenAI agent's deployment failed, or its undeployment did",
        expr="""\
(digitalocean_genai_agent_status{status=~"status_failed|status_undeployment_failed"} == 1)
  * on (account, agent_id) group_left (name, region, model) digitalocean_genai_agent_info""",
        for_="15m",
        summary="GenAI agent {{ $labels.name }} of account {{ $labels.account }} is {{ $labels.status }}",
        description=(
            "The deployment of GenAI agent {{ $labels.name }} ({{ $labels.model }} in "
            "{{ $labels.region }}, id {{ $labels.agent_id }}) of account {{ $labels.account }} "
            "has been {{ $labels.status }} for 15 minutes: its endpoint does not answer."
        ),
        runbook=(
            "Open the agent in the GenAI Platform section of the control panel: a failed "
            "deployment usually follows a model that is no longer offered or a knowledge base "
            "or function route that could not be attached. Redeploy the agent once fixed."
        ),
    ),
    Alert(
        name="DigitalOceanDatabaseNotOnline",
        severity="warning",
        when="a database cluster's status is not `online`",
        expr="""\
(digitalocean_database_status{status!="online"} == 1)
  * on (account, database_id) group_left (name, engine, region) digitalocean_database_info""",
        for_="30m",
        summary=(
            "Database cluster {{ $labels.name }} of account {{ $labels.account }} is "
            "{{ $labels.status }}"
        ),
        description=(
            "Database cluster {{ $labels.name }} ({{ $labels.engine }} in {{ $labels.region }}, "
            "id {{ $labels.database_id }}) of account {{ $labels.account }} has been "
            "{{ $labels.status }}, not online, for 30 minutes."
        ),
        runbook=(
            "Creating, resizing, migrating and forking take a while, but not usually half an "
            "hour for a small cluster. Check the cluster in the control panel (and its "
            "maintenance window); open a support ticket if it stays so."
        ),
    ),
    Alert(
        name="DigitalOceanDatabaseReplicaNotOnline",
        severity="warning",
        when="a database cluster's read-only replica is not `online`",
        expr="""\
(digitalocean_database_replica_status{status!="online"} == 1)
  * on (account, database_id) group_left (name, engine) digitalocean_database_info""",
        for_="30m",
        summary=(
            "Replica {{ $labels.replica_name }} of database {{ $labels.name }} in account "
            "{{ $labels.account }} is {{ $labels.status }}"
        ),
        description=(
            "Read-only replica {{ $labels.replica_name }} of database cluster {{ $labels.name }} "
            "({{ $labels.engine }}, id {{ $labels.database_id }}) of account "
            "{{ $labels.account }} has been {{ $labels.status }}, not online, for 30 minutes."
        ),
        runbook=(
            "A new or resized replica takes a while to catch up; half an hour is long. Reads "
            "sent to it fail or go stale. Check the replica in the cluster's page of the "
            "control panel and open a support ticket if it stays so."
        ),
    ),
    Alert(
        name="DigitalOceanDatabaseBackupMissed",
        severity="warning",
        when=(
            "a database cluster's newest backup is older than "
            "`database_backup_missed_intervals` backup intervals"
        ),
        expr="""\
(
  time() - digitalocean_database_last_backup_timestamp_seconds
    > [[database_backup_missed_intervals]] * digitalocean_database_backup_interval_seconds
)
  * on (account, database_id) group_left (name, engine, region) digitalocean_database_info""",
        for_="1h",
        summary=(
            "Database {{ $labels.name }} of account {{ $labels.account }} has missed its backups"
        ),
        description=(
            "The newest backup of database cluster {{ $labels.name }} ({{ $labels.engine }} in "
            "{{ $labels.region }}, id {{ $labels.database_id }}) of account "
            "{{ $labels.account }} is {{ $value | humanizeDuration }} old, more than "
            "[[database_backup_missed_intervals]] of its scheduled backup intervals."
        ),
        runbook=(
            "DigitalOcean backs managed databases up on a schedule (daily by default) and keeps "
            "them for days; a cluster without a new backup cannot be restored to a recent point. "
            "Check the cluster's Backups tab and its events (a long maintenance or a failing "
            "node can hold backups back) and open a support ticket if none appears."
        ),
    ),
    Alert(
        name="DigitalOceanAppDeploymentFailed",
        severity="warning",
        when="an app's latest deployment failed, or was dropped without going live",
        expr="""\
(
    (digitalocean_app_in_progress_deployment_status{status="ERROR"} == 1)
  or
    (
      (digitalocean_app_last_deployment_created_timestamp_seconds
        > bool digitalocean_app_last_deployment_timestamp_seconds) == 1
      unless on (account, app_id) digitalocean_app_in_progress_deployment_status
    )
)
  * on (account, app_id) group_left (name, region) digitalocean_app_info""",
        for_="5m",
        summary="The latest deployment of app {{ $labels.name }} of account {{ $labels.account }} failed",
        description=(
            "The most recent deployment of App Platform app {{ $labels.name }} (id "
            "{{ $labels.app_id }}, in {{ $labels.region }}) of account {{ $labels.account }} "
            "did not go live; the app still serves its previous deployment."
        ),
        runbook=(
            "A deployment failed while building or deploying, or was dropped: the app's most "
            "recent deployment is newer than the one that is live, and none is in progress. "
            "Read the deployment's build and deploy logs on the app's Activity tab in the "
            "control panel, fix the cause and deploy again."
        ),
    ),
    Alert(
        name="DigitalOceanCertificateExpiringSoon",
        severity="warning",
        when="a certificate expires within [[certificate_expiry_warning:human]]",
        expr="""\
(digitalocean_certificate_expiry_timestamp_seconds - time() < [[certificate_expiry_warning:seconds]])
  * on (account, certificate_id) group_left (name, type) digitalocean_certificate_info""",
        for_="0m",
        summary=(
            "Certificate {{ $labels.name }} of account {{ $labels.account }} expires in "
            "{{ $value | humanizeDuration }}"
        ),
        description=(
            "The {{ $labels.type }} certificate {{ $labels.name }} (id {{ $labels.certificate_id }}) "
            "of account {{ $labels.account }} expires in {{ $value | humanizeDuration }}; load "
            "balancers and CDN endpoints using it will serve an expired certificate."
        ),
        runbook=(
            "DigitalOcean renews Let's Encrypt certificates by itself well before they expire, "
            "so one that is about to expire was not renewed: check that the domain's DNS is "
            "still managed by DigitalOcean. A custom certificate must be replaced by you: upload "
            "the new one and switch the load balancers and CDN endpoints to it."
        ),
    ),
    Alert(
        name="DigitalOceanCertificateError",
        severity="warning",
        when="a certificate's state is `error`",
        expr="""\
(digitalocean_certificate_status{status="error"} == 1)
  * on (account, certificate_id) group_left (name, type) digitalocean_certificate_info""",
        for_="5m",
        summary="Certificate {{ $labels.name }} of account {{ $labels.account }} is in error",
        description=(
            "The {{ $labels.type }} certificate {{ $labels.name }} (id {{ $labels.certificate_id }}) "
            "of account {{ $labels.account }} reports the state error."
        ),
        runbook=(
            "DigitalOcean could not issue the certificate, usually because Let's Encrypt could "
            "not validate the domain (DNS not managed by DigitalOcean, or a CAA record that "
            "forbids Let's Encrypt). Fix the domain and create the certificate again."
        ),
    ),
    Alert(
        name="DigitalOceanUptimeCheckDown",
        severity="warning",
        when="an enabled uptime check sees its target down from a region",
        expr="""\
(digitalocean_uptime_check_up == 0)
  * on (account, uptime_check_id) group_left (name, target)
    digitalocean_uptime_check_info{enabled="true"}""",
        for_="5m",
        summary=(
            "Uptime check {{ $labels.name }} of account {{ $labels.account }} is down from "
            "{{ $labels.region }}"
        ),
        description=(
            "DigitalOcean's uptime check {{ $labels.name }} sees {{ $labels.target }} down from "
            "the region {{ $labels.region }} (account {{ $labels.account }})."
        ),
        runbook=(
            "The checked target does not answer from that region. If only one region sees it "
            "down, suspect the network between them; if all do, the service is down. The check "
            "history is on the Uptime page of the control panel."
        ),
    ),
    Alert(
        name="DigitalOceanAccountLimitNearlyReached",
        severity="warning",
        when=(
            "more than [[account_limit_ratio:percent]] of the account's Droplet, volume or "
            "reserved IP limit is in use"
        ),
        expr="""\
label_replace(
  count by (account) (digitalocean_droplet_info)
    / on (account) max by (account) (digitalocean_account_droplet_limit > 0),
  "resource", "droplets", "", "")
  > [[account_limit_ratio]]
or
label_replace(
  count by (account) (digitalocean_volume_info)
    / on (account) max by (account) (digitalocean_account_volume_limit > 0),
  "resource", "volumes", "", "")
  > [[account_limit_ratio]]
or
label_replace(
  count by (account) (digitalocean_reserved_ip_info)
    / on (account) max by (account) (digitalocean_account_reserved_ip_limit > 0),
  "resource", "reserved IPs", "", "")
  > [[account_limit_ratio]]""",
        for_="15m",
        summary=(
            "Account {{ $labels.account }} uses {{ $value | humanizePercentage }} of its "
            "{{ $labels.resource }} limit"
        ),
        description=(
            "Account {{ $labels.account }} has used {{ $value | humanizePercentage }} of the "
            "{{ $labels.resource }} it may have, more than [[account_limit_ratio:percent]]. At "
            "the limit, {{ if eq $labels.resource \"droplets\" }}creating Droplets fails, and "
            "Kubernetes node pools and Droplet autoscale pools cannot scale up (their nodes are "
            "Droplets){{ else if eq $labels.resource \"volumes\" }}creating volumes fails, and "
            "Kubernetes persistent volume claims stay pending (each is a volume){{ else }}"
            "reserving more IPv4 addresses fails{{ end }}."
        ),
        runbook=(
            "Clean up what is unused (see the Waste row of the Cost dashboard), or ask "
            "DigitalOcean support for a higher limit. The `resource` label says which limit: "
            "`droplets` (Kubernetes worker nodes and autoscale pool members count as "
            "Droplets), `volumes` (Kubernetes persistent volumes count as volumes) or "
            "`reserved IPs`."
        ),
    ),
    Alert(
        name="DigitalOceanRegistryStorageNearlyFull",
        severity="warning",
        when=(
            "the container registry uses more than [[registry_storage_ratio:percent]] of the "
            "storage its tier includes"
        ),
        expr="""\
digitalocean_registry_storage_usage_bytes / digitalocean_registry_subscription_included_storage_bytes
  > [[registry_storage_ratio]]""",
        for_="1h",
        summary=(
            "Container registry {{ $labels.registry }} of account {{ $labels.account }} uses "
            "{{ $value | humanizePercentage }} of its included storage"
        ),
        description=(
            "Container registry {{ $labels.registry }} of account {{ $labels.account }} uses "
            "{{ $value | humanizePercentage }} of the storage its subscription tier includes."
        ),
        runbook=(
            "Beyond the storage its subscription tier includes, the registry costs more (see "
            "DigitalOcean's Container Registry pricing) or runs out of room. Delete unused "
            "repositories and tags and run garbage collection, or move to a larger tier."
        ),
    ),
    Alert(
        name="DigitalOceanActionErrored",
        severity="warning",
        when=(
            "an action on a resource (a resize, a power event, a snapshot, ...) errored in the "
            "last [[action_errored_window:human]]"
        ),
        expr="""\
digitalocean_action_last_errored_timestamp_seconds
  > time() - [[action_errored_window:seconds]]""",
        for_="0m",
        summary=(
            "An action on a {{ $labels.resource_type }} of account {{ $labels.account }} errored"
        ),
        description=(
            "DigitalOcean reports an errored action on a {{ $labels.resource_type }} of account "
            "{{ $labels.account }}, the newest ended {{ $value | humanizeTimestamp }}. "
            "`digitalocean_actions_total{status=\"errored\"}` says which type."
        ),
        runbook=(
            "Something DigitalOcean was asked to do did not happen: a resize, a power event, a "
            "snapshot or a rebuild of the resource errored. Find it in the control panel's "
            "activity history (or `doctl compute action list`), check the resource is as "
            "expected, and retry or open a support ticket. "
            "`increase(digitalocean_actions_total{status=\"errored\"}[1h])` shows which types "
            "errored; the dashboards mark resizes, power events and destroys."
        ),
    ),
)

DROPLET_LABELS = "on (account, droplet_id) group_left (name, region) digitalocean_droplet_info"

WORKLOAD = (
    Alert(
        name="DigitalOceanDropletCPUSaturated",
        severity="warning",
        when=(
            "a Droplet's CPUs are busy more than [[droplet_cpu_busy_ratio:percent]] of the time "
            "for [[droplet_cpu_busy_for:human]] (Monitoring API)"
        ),
        expr=f"""\
(
    (
      1 - sum by (account, droplet_id) (rate(digitalocean_droplet_cpu_seconds_total{{mode="idle"}}[15m]))
        / sum by (account, droplet_id) (rate(digitalocean_droplet_cpu_seconds_total[15m]))
    ) > [[droplet_cpu_busy_ratio]]
)
  * {DROPLET_LABELS}""",
        for_="[[droplet_cpu_busy_for]]",
        summary=(
            "Droplet {{ $labels.name }} of account {{ $labels.account }} is "
            "{{ $value | humanizePercentage }} busy"
        ),
        description=(
            "The CPUs of Droplet {{ $labels.name }} (id {{ $labels.droplet_id }}, in "
            "{{ $labels.region }}) of account {{ $labels.account }} have been busy "
            "{{ $value | humanizePercentage }} of the time for [[droplet_cpu_busy_for:human]]."
        ),
        runbook=(
            "The Droplet is CPU-bound: requests queue and latency grows. The Droplet resources "
            "dashboard shows which mode (user, system, iowait, steal) takes the time: steal "
            "means a noisy neighbour (a CPU-Optimized size helps), iowait a busy disk. Resize "
            "the Droplet, spread the load, or find the process with `top`."
        ),
    ),
    Alert(
        name="DigitalOceanDropletMemoryLow",
        severity="warning",
        when=(
            "a Droplet has less than [[droplet_memory_available_ratio:percent]] of its memory "
            "available for 15 minutes (Monitoring API)"
        ),
        expr=f"""\
(
    digitalocean_droplet_memory_available_bytes / digitalocean_droplet_memory_total_bytes
      < [[droplet_memory_available_ratio]]
)
  * {DROPLET_LABELS}""",
        for_="15m",
        summary=(
            "Droplet {{ $labels.name }} of account {{ $labels.account }} has "
            "{{ $value | humanizePercentage }} of its memory available"
        ),
        description=(
            "Droplet {{ $labels.name }} (id {{ $labels.droplet_id }}, in {{ $labels.region }}) "
            "of account {{ $labels.account }} has had only {{ $value | humanizePercentage }} of "
            "its memory available for 15 minutes."
        ),
        runbook=(
            "When memory runs out the kernel's OOM killer ends processes. Find what grew "
            "(`ps aux --sort=-rss`), add swap for bursts, or resize the Droplet to a size with "
            "more memory."
        ),
    ),
    Alert(
        name="DigitalOceanDropletDiskFullSoon",
        severity="warning",
        when=(
            "a Droplet filesystem will be full within [[droplet_disk_fill_horizon:human]] at the "
            "pace of the last 6 hours (Monitoring API)"
        ),
        expr=f"""\
(
    predict_linear(digitalocean_droplet_filesystem_free_bytes[6h], [[droplet_disk_fill_horizon:seconds]]) < 0
  and
    digitalocean_droplet_filesystem_free_bytes / digitalocean_droplet_filesystem_size_bytes < 0.5
)
  * {DROPLET_LABELS}""",
        for_="30m",
        summary=(
            "Filesystem {{ $labels.mountpoint }} of Droplet {{ $labels.name }} of account "
            "{{ $labels.account }} fills up within [[droplet_disk_fill_horizon:human]]"
        ),
        description=(
            "At the pace of the last 6 hours, filesystem {{ $labels.mountpoint }} "
            "({{ $labels.device }}) of Droplet {{ $labels.name }} (id {{ $labels.droplet_id }}) "
            "of account {{ $labels.account }} will be full within "
            "[[droplet_disk_fill_horizon:human]]."
        ),
        runbook=(
            "A full disk stops databases and logs, and often the services that write them. "
            "Find what grows (`du -xh / | sort -h | tail`), rotate or ship logs, or attach a "
            "volume and move the data there."
        ),
    ),
    Alert(
        name="DigitalOceanLoadBalancerBackendUnhealthy",
        severity="warning",
        when="a load balancer's health checks find a backend Droplet down for 5 minutes (Monitoring API)",
        expr="""\
(digitalocean_load_balancer_droplet_health_checks == 0)
  * on (account, load_balancer_id) group_left (name, region) digitalocean_load_balancer_info""",
        for_="5m",
        summary=(
            "Load balancer {{ $labels.name }} of account {{ $labels.account }} has an unhealthy "
            "backend Droplet"
        ),
        description=(
            "The health checks of load balancer {{ $labels.name }} (id "
            "{{ $labels.load_balancer_id }}, in {{ $labels.region }}) of account "
            "{{ $labels.account }} have found backend Droplet {{ $labels.droplet_id }} down for "
            "5 minutes; it receives no traffic."
        ),
        runbook=(
            "The load balancer sends no traffic to a backend that fails its health check, so "
            "the others carry its share. Check the Droplet (is the service listening on the "
            "health check's port and path?) and its firewall; the Droplet resources dashboard "
            "shows its CPU and memory."
        ),
    ),
    Alert(
        name="DigitalOceanAppRestarting",
        severity="warning",
        when=(
            "an App Platform component instance restarted within "
            "[[app_restarts_window:human]] (Monitoring API)"
        ),
        expr="""\
(delta(digitalocean_app_restarts[[[app_restarts_window]]]) > 0)
  * on (account, app_id) group_left (name, region) digitalocean_app_info""",
        for_="15m",
        summary=(
            "Component {{ $labels.component }} of app {{ $labels.name }} of account "
            "{{ $labels.account }} keeps restarting"
        ),
        description=(
            "Instance {{ $labels.instance }} of component {{ $labels.component }} of App "
            "Platform app {{ $labels.name }} (id {{ $labels.app_id }}) of account "
            "{{ $labels.account }} restarted {{ $value }} time(s) within "
            "[[app_restarts_window:human]], and again for 15 minutes."
        ),
        runbook=(
            "A component that restarts is crashing (see its runtime logs in the control panel "
            "or with `doctl apps logs`) or failing its health check, or running out of memory "
            "(the app panels show its memory use)."
        ),
    ),
    Alert(
        name="DigitalOceanTransferOverageForecast",
        severity="warning",
        when=(
            "the watched Droplets' outbound transfer is forecast to exceed the account's pooled "
            "allowance this month"
        ),
        expr="""\
digitalocean_transfer_forecast_bytes > digitalocean_transfer_pool_forecast_bytes""",
        for_="[[transfer_forecast_for]]",
        summary=(
            "Outbound transfer of account {{ $labels.account }} is heading over its pooled "
            "allowance"
        ),
        description=(
            "At this month's pace, the Droplets of account {{ $labels.account }} that "
            "droplet_metrics watches will send {{ $value | humanize1024 }}B of outbound public "
            "traffic this month, more than the pool their Droplets' sizes include; the excess is "
            "billed per GiB (digitalocean_transfer_overage_forecast_usd)."
        ),
        runbook=(
            "Find the Droplets sending the most (the Droplet resources dashboard, network "
            "panel); serve large files from Spaces with its CDN (billed apart, with its own "
            "allowance), compress responses, or add Droplets whose sizes bring more transfer. "
            "The forecast counts only the watched Droplets: see README, The bandwidth bill."
        ),
    ),
)

GROUPS = (
    Group("digitalocean-alert-inputs", (LAST_MONTH_INVOICE,)),
    Group("digitalocean-exporter", EXPORTER),
    Group("digitalocean-billing", BILLING),
    Group("digitalocean-waste", WASTE),
    Group("digitalocean-resources", RESOURCES),
    Group("digitalocean-workload", WORKLOAD),
)


def alerts() -> tuple[Alert, ...]:
    return tuple(rule for group in GROUPS for rule in group.rules if isinstance(rule, Alert))


def runbook_url(alert: Alert) -> str:
    return f"{RUNBOOK_BASE}#{alert.anchor}"


# --- YAML ----------------------------------------------------------------------------------


def rule_data(rule: Alert | Recording, thresholds: Mapping[str, Threshold]) -> dict[str, object]:
    """The rule as Prometheus reads it (what alerts.yml parses to)."""
    if isinstance(rule, Recording):
        return {"record": rule.record, "expr": render(rule.expr, thresholds)}
    data: dict[str, object] = {"alert": rule.name, "expr": render(rule.expr, thresholds)}
    for_ = render(rule.for_, thresholds)
    if for_ != "0m":
        data["for"] = for_
    data["labels"] = {"severity": rule.severity}
    data["annotations"] = {
        "summary": render(rule.summary, thresholds),
        "description": render(rule.description, thresholds),
        "runbook_url": runbook_url(rule),
    }
    return data


def rules_data(thresholds: Mapping[str, Threshold]) -> dict[str, object]:
    return {"groups": [
        {"name": group.name, "rules": [rule_data(rule, thresholds) for rule in group.rules]}
        for group in GROUPS
    ]}


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Plain scalars: no YAML indicator, no ": " or " #", and nothing YAML reads as a number or a
# boolean (durations such as 5m are strings to YAML).
_PLAIN = re.compile(r"^([A-Za-z][\w.:/#-]*|\d+[smhdw])$")
_YAML_WORDS = {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}


def scalar(key: str, text: str, indent: int) -> list[str]:
    """`key: text` in the most readable YAML style that reads back as exactly `text`."""
    pad = " " * indent
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return [f"{pad}{key}: {text}"]
    if "\n" in text:
        body = [f"{pad}  {line}" if line else "" for line in text.split("\n")]
        return [f"{pad}{key}: |-", *body]
    if len(text) + len(pad) + len(key) > 96 and "  " not in text and text == text.strip():
        # Folded: the lines are joined with single spaces when read back. Template actions
        # ({{ ... }}) are kept on one line by hiding their spaces from the wrapper.
        glued = re.sub(r"\{\{.*?\}\}", lambda m: m.group(0).replace(" ", "\0"), text)
        lines = textwrap.wrap(glued, width=96 - indent - 2, break_long_words=False,
                              break_on_hyphens=False)
        return [f"{pad}{key}: >-", *(f"{pad}  {line.replace(chr(0), ' ')}" for line in lines)]
    return [f"{pad}{key}: {quoted(text)}"]


HEADER = """\
# Alerting rules of digitalocean-exporter. GENERATED by deploy/prometheus/generate.py from
# the definitions in that file and the thresholds in thresholds.json: edit those and run
# `python deploy/prometheus/generate.py`, not this file. Unit tests: tests/alerts*_test.yml.
# Every alert has `severity` (critical, warning or info) and `summary`, `description` and
# `runbook_url` annotations; the runbooks are in docs/alerts.md. Load with recording.yml (the
# cost dashboards need it) and budgets.yml (DigitalOceanForecastOverBudget needs it).
"""


def render_yaml(thresholds: Mapping[str, Threshold]) -> str:
    lines = [HEADER.rstrip("\n"), "groups:"]
    for group in GROUPS:
        lines += [f"  - name: {group.name}", "    rules:"]
        for rule in group.rules:
            if isinstance(rule, Recording):
                lines.append(f"      # {rule.comment}")
            data = rule_data(rule, thresholds)
            first = True
            for key, value in data.items():
                if isinstance(value, dict):
                    lines.append(f"        {key}:")
                    for sub_key, sub_value in value.items():
                        lines += scalar(sub_key, str(sub_value), 10)
                    continue
                text = str(value)
                if first:
                    # `- ` opens the list item; the rule name never needs quoting.
                    lines.append(f"      - {key}: {text}")
                    first = False
                elif key == "expr" and "\n" not in text:
                    lines.append(f"        expr: {quoted(text)}")  # PromQL is never plain YAML
                else:
                    lines += scalar(key, text, 8)
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


# --- docs/alerts.md ------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def thresholds_table(thresholds: Mapping[str, Threshold]) -> str:
    users: dict[str, list[str]] = {name: [] for name in thresholds}
    for alert in alerts():
        for text in (alert.expr, alert.for_, alert.summary, alert.description, alert.runbook,
                     alert.when):
            for name in sorted(placeholders(text)):
                if alert.name not in users[name]:
                    users[name].append(alert.name)
    rows = ["| threshold | default | used by | meaning |", "|---|---|---|---|"]
    for name, threshold in thresholds.items():
        used = ", ".join(f"[{a}](#{a.lower()})" for a in users[name])
        rows.append(f"| `{name}` | `{threshold.value}` | {used} | {_cell(threshold.description)} |")
    return "\n".join(rows)


def alerts_table(thresholds: Mapping[str, Threshold]) -> str:
    rows = ["| alert | severity | fires when | for |", "|---|---|---|---|"]
    for alert in alerts():
        for_ = render(alert.for_, thresholds)
        for_ = "at once" if for_ == "0m" else for_
        rows.append(f"| [{alert.name}](#{alert.anchor}) | {alert.severity} | "
                    f"{_cell(render(alert.when, thresholds))} | {for_} |")
    return "\n".join(rows)


def runbooks(thresholds: Mapping[str, Threshold]) -> str:
    parts = []
    for alert in alerts():
        for_ = render(alert.for_, thresholds)
        expr = render(alert.expr, thresholds)
        parts.append(
            f"### {alert.name}\n\n"
            f"**{alert.severity}**: fires when {render(alert.when, thresholds)}"
            f"{'' if for_ == '0m' else f' for {for_}'}.\n\n"
            f"```promql\n{expr}\n```\n\n"
            f"{render(alert.runbook, thresholds)}"
        )
    return "\n\n".join(parts)


DOC_INTRO = """\
# Alerts

<!-- GENERATED by deploy/prometheus/generate.py from its alert definitions and
deploy/prometheus/thresholds.json: edit those and run `python deploy/prometheus/generate.py`. -->

The alerting rules are [`deploy/prometheus/alerts.yml`](../deploy/prometheus/alerts.yml); load
them with [`recording.yml`](../deploy/prometheus/recording.yml) (the cost dashboards and one
alert read it) and [`budgets.yml`](../deploy/prometheus/budgets.yml) (your monthly budget per
account, for DigitalOceanForecastOverBudget). Every alert is unit-tested firing and not firing
(`promtool test rules deploy/prometheus/tests/*.yml`).

Every alert carries a `severity` label and `summary`, `description` and `runbook_url`
annotations; the runbook URL points at the alert's heading below. Every alert but the two
about the scrape target (DigitalOceanExporterDown, DigitalOceanExporterAbsent) carries the
`account` label. Severities:

- `critical`: page. Prometheus cannot see the exporter at all, or something customer-facing is
  broken (an errored load balancer).
- `warning`: act soon, during working hours: a token DigitalOcean rejects or that expires soon,
  failing collectors, stale data, a limit nearly reached, a resource in a bad state.
- `info`: money spent on nothing, worth a look; a daily reminder is enough.

[`deploy/alertmanager/alertmanager.yml`](../deploy/alertmanager/alertmanager.yml) is an example
Alertmanager configuration: grouped by account and alert name, one receiver per severity, and
two inhibitions: a rejected token silences the collector failures and stale data of its
account, and a failing collector silences its own stale data (DigitalOceanDataStale waits
longer than DigitalOceanCollectorFailing, so the failure is always reported first).

## Opting out

The waste alerts report what is billed but unused; some of it is kept on purpose:

- A Droplet kept powered off on purpose (a standby, a seasonal job): give it the DigitalOcean
  tag `[[waste_ignore_tag]]` and DigitalOceanDropletOff leaves it out (the exporter sees tags
  only with the token's `tag:read` scope).
- A snapshot kept on purpose (a golden image, a yearly archive): rename it so that its name
  matches `[[snapshot_keep_name]]` and DigitalOceanSnapshotOld leaves it out. Old snapshots
  are reported as one alert per account, with their count, not one per snapshot.
- Anything else: change the threshold below, or add a silence in Alertmanager.

The Overview dashboard's "Paying for nothing" tiles leave out the same Droplets and snapshots;
the Cost dashboard's Waste row still lists everything billed.

## Thresholds

Thresholds live in one place,
[`deploy/prometheus/thresholds.json`](../deploy/prometheus/thresholds.json). After changing
one, run `python deploy/prometheus/generate.py` (it writes `alerts.yml` and this page) and
`python grafana/generate.py` (the dashboards colour by the same values), then
`python deploy/kubernetes/generate.py` (the Kubernetes copies). The alerts themselves are
defined in `deploy/prometheus/generate.py`; `alerts.yml` is never edited by hand.
`exporter_job` is the job name Prometheus scrapes the exporter as; the Kubernetes manifests
and `deploy/prometheus/prometheus.yml` use it.
"""


def alerts_doc(thresholds: Mapping[str, Threshold]) -> str:
    """docs/alerts.md: how to load and tune the alerts, the threshold table, the alert list and
    one runbook per alert (the heading each `runbook_url` points at)."""
    return (
        f"{render(DOC_INTRO, thresholds)}\n"
        f"{thresholds_table(thresholds)}\n\n"
        "## Alert list\n\n"
        f"{alerts_table(thresholds)}\n\n"
        "## Runbooks\n\n"
        f"{runbooks(thresholds)}\n"
    )


def main(argv: Sequence[str]) -> int:
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    thresholds = load_thresholds()
    ALERTS_PATH.write_text(render_yaml(thresholds))
    print(f"wrote {ALERTS_PATH}")
    DOC_PATH.write_text(alerts_doc(thresholds))
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
