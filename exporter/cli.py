"""Command line: Prometheus-style flags, config loading, logging setup, and the exit code.

Exit codes (EXIT_CODES, also in `--help` and docs/deploy.md): 0 after a clean stop or a good
`--config.check`; 2 for what a restart cannot fix (flags, configuration, a refused token);
1 for a runtime failure a restart may fix (the listen address busy).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from exporter import __version__
from exporter.api import AccountApi, DigitalOceanClient
from exporter.budget import RequestBudget, replica_share
from exporter.clock import SystemClock
from exporter.collectors import COLLECTORS
from exporter.collectors.base import EVERYTHING, Collector, Selection
from exporter.config import (
    ENV_CONFIG_FILE,
    STALE_AFTER_INTERVALS,
    AccountSettings,
    ApiSettings,
    CollectorDefaults,
    CollectorSettings,
    ConfigError,
    Settings,
    describe_settings,
    load_settings,
)
from exporter.daemon import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_RUNTIME,
    Daemon,
    ListenError,
    ServeOptions,
    user_agent,
)
from exporter.logs import LogFormat, Redactor, configure_logging, get_logger, looks_like_secret
from exporter.poller import overflow_message
from exporter.scopes import ScopeReport, decide, least_privilege_report, needed_scopes, verify_token
from exporter.server import DEFAULT_MAX_CONNECTIONS, parse_listen_address, raise_open_files_limit
from exporter.sharding import (
    ENV_POD_NAME,
    ENV_TOTAL_SHARDS,
    NO_SHARD,
    Shard,
    ShardError,
    resolve_shard,
)
from exporter.tokens import InlineToken, TokenSource, TokenSourceError, source_name
from exporter.webconfig import WebConfig, load_web_config

if TYPE_CHECKING:  # the simulator is only imported for --demo: 2.4 MiB and 44 ms less otherwise
    from exporter.simulator import Simulator

DEFAULT_LISTEN = ":9212"
DEFAULT_TELEMETRY_PATH = "/metrics"
RESERVED_PATHS = ("/", "/healthz", "/readyz")


EXIT_CODES = f"""\
exit codes:
  {EXIT_OK}  stopped by SIGTERM or SIGINT, or --config.check found no problem
  {EXIT_RUNTIME}  a runtime failure a restart may fix: --web.listen-address in use (another
     exporter running?) or not (yet) an address of this machine; an unexpected error
  {EXIT_REFUSED}  a problem a restart cannot fix: invalid flags or configuration, a token
     DigitalOcean rejects or the token policy refuses, a port below 1024 without privileges
     (systemd: RestartPreventExitStatus={EXIT_REFUSED})"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digitalocean-exporter",
        description="Prometheus exporter for DigitalOcean: polls the API in the background with "
        "read-only tokens and serves cached metrics.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config.file", dest="config_file", metavar="PATH",
        help=f"YAML config file (env {ENV_CONFIG_FILE}). Without one, the token comes from "
        "DIGITALOCEAN_TOKEN or DIGITALOCEAN_TOKEN_FILE.",
    )
    parser.add_argument(
        "--config.check", dest="config_check", action="store_true",
        help="validate the configuration and token sources, verify every token with "
        "DigitalOcean (token/info) and print a summary with each token's least-privilege report "
        "(the custom scopes to tick for the enabled collectors); exit 0, or 2 for a problem or a "
        "token the exporter would refuse",
    )
    parser.add_argument(
        "--web.listen-address", dest="listen_address", default=DEFAULT_LISTEN, metavar="[HOST]:PORT",
        help=f"address to serve metrics on (default {DEFAULT_LISTEN})",
    )
    parser.add_argument(
        "--web.telemetry-path", dest="telemetry_path", default=DEFAULT_TELEMETRY_PATH, metavar="PATH",
        help=f"path for metrics (default {DEFAULT_TELEMETRY_PATH})",
    )
    parser.add_argument(
        "--web.config.file", dest="web_config_file", metavar="PATH",
        help="web config file in the Prometheus exporter-toolkit format: TLS "
        "(tls_server_config), basic auth (basic_auth_users, bcrypt), response headers; "
        "probes_without_auth: true leaves /healthz and /readyz open",
    )
    parser.add_argument(
        "--web.max-connections", dest="max_connections", type=_positive_int,
        default=DEFAULT_MAX_CONNECTIONS, metavar="N",
        help="most HTTP connections open at once; at the cap a new one replaces the connection "
        "that has waited longest for a request (lowered to fit ulimit -n; default "
        f"{DEFAULT_MAX_CONNECTIONS})",
    )
    parser.add_argument(
        "--log.level", dest="log_level", default="info",
        choices=("debug", "info", "warn", "warning", "error"), help="log level (default info)",
    )
    parser.add_argument(
        "--log.format", dest="log_format", choices=("json", "console"), default=None,
        help="log format (default: console on a terminal, json otherwise)",
    )
    parser.add_argument(
        "--demo", action="store_true",
        help="run against the built-in DigitalOcean simulator (two sample accounts on 127.0.0.1); "
        "no token or config file needed",
    )
    parser.add_argument(
        "--offline", action="store_true",
        help="with --config.check: check the files only, without asking DigitalOcean about the "
        "tokens",
    )
    parser.add_argument(
        "--shard", dest="shard", type=_whole_number, default=None, metavar="N",
        help="poll only the accounts of shard N (0 to --total-shards minus 1): each account "
        "belongs to one shard, by a hash of its name, so every shard can read the same config "
        "(default 0)",
    )
    parser.add_argument(
        "--total-shards", dest="total_shards", type=_whole_number, default=None, metavar="M",
        help="how many exporter processes share the configuration's accounts (default 1: no "
        f"sharding; with --shard.auto, env {ENV_TOTAL_SHARDS} when not given)",
    )
    parser.add_argument(
        "--shard.auto", dest="shard_auto", action="store_true",
        help=f"take the shard from the ordinal of a StatefulSet pod's name (env {ENV_POD_NAME}, "
        "e.g. digitalocean-exporter-2 is shard 2); the total from --total-shards or env "
        f"{ENV_TOTAL_SHARDS}",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    for collector in COLLECTORS:
        default = "enabled" if collector.enabled_by_default else "disabled"
        parser.add_argument(
            f"--collector.{collector.name}", dest=f"collector_{collector.name}",
            action=argparse.BooleanOptionalAction, default=None,
            help=f"{collector.summary} (default {default}; overrides "
            f"collectors.{collector.name}.enabled)",
        )
    return parser


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def collector_overrides(args: argparse.Namespace) -> dict[str, bool]:
    """The collectors a `--collector.<name>` or `--no-collector.<name>` flag switched."""
    found = {c.name: getattr(args, f"collector_{c.name}") for c in COLLECTORS}
    return {name: value for name, value in found.items() if value is not None}


def collector_defaults() -> dict[str, CollectorDefaults]:
    return {
        c.name: CollectorDefaults(
            c.interval, c.enabled_by_default, filters=c.filters, metric_groups=c.metric_groups,
            default_metrics=c.default_metrics, inputs=c.inputs,
        )
        for c in COLLECTORS
    }


DEMO_WATCH_INTERVAL = 60.0  # the demo's droplet_metrics: CPU rates show within minutes
DEMO_REQUESTS_PER_HOUR = 5000  # the most a config may give: the demo shows the planner stretch


def demo_settings(simulator: Simulator, overrides: dict[str, bool] | None = None) -> Settings:
    """Settings for `--demo`: every simulated account, with its read-only token, on loopback.

    An account whose simulated fleet has Monitoring API stories (a busy Droplet, a heavy one, a
    disk filling up, a failing load balancer backend, a restarting app: the simulator's
    `monitoring_plan`) also watches them, each with its own `filter:`, the way a user would
    select what to watch; the others run only what is on by default."""
    defaults = collector_defaults()
    # The demo shows every product: collectors off by default for their scope (GenAI's
    # genai:read reveals keys) are on; the Monitoring API ones, off for their request cost, are
    # on only where an account selects what to watch (below).
    collectors = {
        name: CollectorSettings(
            (overrides or {}).get(name, d.enabled or not d.metric_groups), d.interval,
            STALE_AFTER_INTERVALS * d.interval,
            metrics=d.metric_groups if d.default_metrics is None else d.default_metrics,
        )
        for name, d in defaults.items()
    }
    accounts = tuple(
        AccountSettings(
            name=account.name,
            token=InlineToken(account.tokens[0].token),
            origin=f"--demo account {account.name}",
            collectors=_demo_watching(simulator, account.name, collectors, overrides or {}),
        )
        for account in simulator.config.accounts
    )
    return Settings(
        accounts=accounts,
        collectors=collectors,
        api=ApiSettings(url=simulator.url, auth_url=simulator.url,
                        requests_per_hour=DEMO_REQUESTS_PER_HOUR),
        source="--demo",
    )


def _demo_watching(
    simulator: Simulator, account: str, collectors: dict[str, CollectorSettings],
    overrides: dict[str, bool],
) -> dict[str, CollectorSettings] | None:
    """The account's own Monitoring API selections, or None when its fleet has no stories."""
    from exporter.simulator.kinds.monitoring import monitoring_plan  # noqa: PLC0415  # --demo only

    plan = monitoring_plan(simulator.fleet(account).resources)
    droplets = tuple(str(d) for d in (plan.busy, plan.heavy, plan.filling, plan.unhealthy_droplet)
                     if d is not None)
    if not droplets:
        return None

    def watch(name: str, selection: Selection, interval: float | None = None) -> CollectorSettings:
        base = collectors[name]
        every = interval or base.interval
        return replace(base, enabled=overrides.get(name, True), selection=selection,
                       interval=every, stale_after=STALE_AFTER_INTERVALS * every)

    own = dict(collectors)
    own["droplet_metrics"] = watch("droplet_metrics", Selection(ids=droplets), DEMO_WATCH_INTERVAL)
    if plan.failing_load_balancer is not None:
        own["load_balancer_metrics"] = watch("load_balancer_metrics",
                                             Selection(ids=(plan.failing_load_balancer,)))
    own["app_metrics"] = watch("app_metrics", EVERYTHING)
    own["autoscale_metrics"] = watch("autoscale_metrics", EVERYTHING)
    return own


class _Refused(Exception):
    """A flag or file that stops the exporter before it starts; the message says which."""


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.version:
        _say(f"digitalocean-exporter {__version__} (python {platform.python_version()})")
        return EXIT_OK
    log_format: LogFormat = args.log_format or ("console" if sys.stderr.isatty() else "json")
    level = "warning" if args.log_level == "warn" else args.log_level
    redactor = Redactor()
    configure_logging(level, log_format, redactor)
    try:
        return _main(args, redactor)
    except (_Refused, ConfigError) as exc:
        _say(str(exc), sys.stderr, redactor=redactor)
        return EXIT_REFUSED


def _main(args: argparse.Namespace, redactor: Redactor) -> int:
    if args.offline and not args.config_check:
        raise _Refused("--offline only applies to --config.check")
    options = _serve_options(args)
    environ = dict(os.environ)
    try:
        shard = resolve_shard(args.shard, args.total_shards, args.shard_auto, environ)
    except ShardError as exc:
        raise _Refused(str(exc)) from None
    overrides = collector_overrides(args)
    if args.demo:
        return _run_demo(options, redactor, environ, overrides, shard)

    config_text = args.config_file or environ.get(ENV_CONFIG_FILE) or None
    if config_text and looks_like_secret(config_text):
        given = "--config.file" if args.config_file else ENV_CONFIG_FILE
        raise _Refused(f"the value of {given} looks like a token, not a path; give the config "
                       "file's path")
    config_path = Path(config_text) if config_text else None

    def load() -> Settings:
        return load_settings(config_path, environ, collector_defaults(), overrides)

    settings = load()
    if args.config_check:
        say = partial(_say, redactor=redactor)
        own = shard.own(settings)  # the check covers this shard's accounts only
        say(describe_settings(own))
        if shard.sharded:
            say(f"sharding: {shard.describe(len(own.accounts), len(settings.accounts))}")
        if options.web is not None:
            say(options.web.describe())
        if args.offline:
            return EXIT_OK
        return asyncio.run(_check_tokens(own, environ, redactor, shard))
    log = get_logger("exporter")
    for warning in settings.warnings:
        log.warning(warning)
    return _run(Daemon(
        settings, options, collectors=COLLECTORS, reload_settings=load, redactor=redactor,
        environ=environ, shard=shard,
    ))


def _serve_options(args: argparse.Namespace) -> ServeOptions:
    try:
        host, port = parse_listen_address(args.listen_address)
    except ValueError as exc:
        raise _Refused(f"--web.listen-address: {exc}") from None
    path = args.telemetry_path
    if not path.startswith("/") or path in RESERVED_PATHS:
        raise _Refused(f"--web.telemetry-path: {path!r} must start with / and not be one of "
                       f"{', '.join(RESERVED_PATHS)}")
    web: WebConfig | None = None
    if args.web_config_file:
        web = load_web_config(Path(args.web_config_file))
        if not args.config_check:
            _log_web_config(web)
    return ServeOptions(host=host, port=port, telemetry_path=path, web=web,
                        max_connections=args.max_connections)


def _say(text: str, stream: TextIO | None = None, *, redactor: Redactor | None = None) -> None:
    """Print a message outside the logger, scrubbed by the same redactor as the logs.

    A reader that went away (`--config.check | head`) is not an error: the rest of the output
    goes nowhere, and the exit code still says how the check went.
    """
    stream = stream or sys.stdout
    try:
        print(redactor.redact(text) if redactor is not None else text, file=stream, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())  # so the interpreter's final flush finds no pipe
        os.close(devnull)


class _Unobserved:
    """`--config.check` keeps no request metrics."""

    def observe(self, account: str, endpoint: str, code: str, seconds: float) -> None:
        return None


async def _check_tokens(
    settings: Settings, environ: dict[str, str], redactor: Redactor, shard: Shard = NO_SHARD
) -> int:
    """`--config.check` online: ask token/info about every token, apply the token policy as the
    daemon would, print each account's least-privilege report and request plan (one poll of
    each inventory collector measures it). 2 if any token is refused or any Monitoring API
    selection cannot fit the budget."""
    clock = SystemClock()
    client = DigitalOceanClient(
        api_url=settings.api.url, auth_url=settings.api.auth_url, timeout=settings.api.timeout,
        user_agent=user_agent(shard), observer=_Unobserved(), clock=clock,
        response_deadline=settings.api.response_deadline,
        max_response_bytes=settings.api.max_response_bytes,
    )

    async def verify(account: AccountSettings) -> ScopeReport | str:
        try:
            source = TokenSource(account.token, environ)
        except TokenSourceError as exc:
            return str(exc)
        redactor.add(source.token)
        apis[account.name] = client.account(account.name, lambda: source.token, RequestBudget(
            settings.api.requests_per_hour, clock, replicas=settings.api.replicas))
        return await verify_token(apis[account.name], clock.time)

    from exporter import planreport  # noqa: PLC0415  # --config.check only: not the daemon's

    apis: dict[str, AccountApi] = {}
    plans: dict[str, list[str]] = {}
    over: list[str] = []
    try:
        results = await asyncio.gather(*(verify(a) for a in settings.accounts))
        refused = [
            account.name for account, result in zip(settings.accounts, results, strict=True)
            if not _print_token_check(
                settings, account, result,
                [c for c in COLLECTORS if settings.collectors_of(account)[c.name].enabled],
                redactor)
        ]
        for account in settings.accounts:  # the plan of every token the daemon would use
            if account.name in refused:
                continue
            # this process's share of the token's budget (api.replicas)
            budget, _ = replica_share(settings.api.requests_per_hour,
                                      replicas=settings.api.replicas)
            planned, rows = await planreport.measure(
                apis[account.name], COLLECTORS, settings.collectors_of(account), budget)
            plans[account.name] = planreport.describe(
                account.name, budget, planned, rows, replicas=settings.api.replicas,
                shard=shard)
            over += [f'account "{account.name}": {overflow_message(name, overflow)}'
                     for name, overflow in planned.overflow.items()]
    finally:
        await client.aclose()
    for lines in plans.values():
        _say("\n" + "\n".join(lines), redactor=redactor)
    for line in over:
        _say(line, sys.stderr, redactor=redactor)
    if refused:
        _say(f"token check failed for {len(refused)} of {len(settings.accounts)} "
             f"{'account' if len(settings.accounts) == 1 else 'accounts'}: {', '.join(refused)}; "
             "the exporter would exit 2 at startup", sys.stderr, redactor=redactor)
        return EXIT_REFUSED
    if over:
        _say(f"{_count_text(len(over), 'Monitoring API selection')} cannot fit the request "
             "budget (see above)", sys.stderr, redactor=redactor)
        return EXIT_REFUSED
    where = f" of {shard}" if shard.sharded else ""
    _say(f"tokens OK ({len(settings.accounts)}{where} verified with DigitalOcean)",
         redactor=redactor)
    return EXIT_OK


def _print_token_check(
    settings: Settings, account: AccountSettings, result: ScopeReport | str,
    enabled: Sequence[Collector[Any]], redactor: Redactor,
) -> bool:
    """Print one account's verdict and least-privilege report; whether the token is allowed."""
    source = token_source_name(account)
    if isinstance(result, str):
        _say(f'account "{account.name}" ({source}): {result}', sys.stderr, redactor=redactor)
        return False
    policy = settings.token_policy
    decision = decide(
        account.name, source, result, policy.write_scopes, policy.unverifiable,
        secret_policy=policy.secret_scopes, needed=needed_scopes(enabled),
    )
    _say("", redactor=redactor)
    if decision.allowed:
        _say(decision.message, redactor=redactor)
    else:  # the reason goes with the errors; the report below still needs its heading
        _say(decision.message, sys.stderr, redactor=redactor)
        _say(f'account "{account.name}" ({source}): refused (the reason is on stderr)',
             redactor=redactor)
    if result.verdict != "invalid":
        _say("\n".join(f"  {line}" for line in least_privilege_report(result, enabled)),
             redactor=redactor)
    return decision.allowed


def token_source_name(account: AccountSettings) -> str:
    """Where the account's token lives, as messages name it (see `tokens.source_name`)."""
    return source_name(account.token, account.origin)


def _log_web_config(web: WebConfig) -> None:
    log = get_logger("exporter").bind(web_config=web.source)
    log.info(
        "web configuration loaded",
        tls=web.tls is not None,
        client_auth=web.tls.client_auth_type if web.tls is not None else None,
        basic_auth_users=len(web.basic_auth_users),
        probes_without_auth=web.probes_without_auth,
    )
    for note in web.notes:
        log.info(note)
    for warning in web.warnings:
        log.warning(warning)


def _run_demo(
    options: ServeOptions, redactor: Redactor, environ: dict[str, str], overrides: dict[str, bool],
    shard: Shard = NO_SHARD,
) -> int:
    from exporter.simulator import Simulator, demo_config  # noqa: PLC0415  # --demo only

    simulator = Simulator(demo_config())
    simulator.start(host="127.0.0.1", port=0)
    try:
        settings = demo_settings(simulator, overrides)
        shown = "localhost" if options.host in ("", "0.0.0.0", "::") else options.host  # noqa: S104
        get_logger("exporter").info(
            "demo mode: a simulated DigitalOcean with sample accounts; open "
            f"http://{shown}:{options.port}{options.telemetry_path} (and / for links)",
            simulator=simulator.url,
            accounts=[a.name for a in settings.accounts],
        )
        return _run(Daemon(
            settings, options, collectors=COLLECTORS, reload_settings=lambda: settings,
            redactor=redactor, environ=environ, shard=shard,
        ))
    finally:
        simulator.stop()


def _run(daemon: Daemon) -> int:
    before, after = raise_open_files_limit()  # as Go does: connections need descriptors
    if after != before:
        get_logger("exporter").debug("open files limit raised", nofile_before=before,
                                     nofile=after)
    try:
        return asyncio.run(daemon.run())
    except ListenError as exc:
        get_logger("exporter").error(str(exc))
        return exc.exit_code


def _count_text(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
