"""The docs cannot drift from the code: the metric table (docs/metrics.md), the collector and
flag tables (docs/configuration.md) are generated from the collector table, the self-metric
specs and the argument parser, and checked here; so is the config key table.

Regenerate after an intended change with `UPDATE_README=1 make test`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from exporter.cli import build_parser
from exporter.collectors import COLLECTORS
from exporter.collectors.base import Collector, PollContext
from exporter.costs import FAMILIES as COST_FAMILIES
from exporter.selfmetrics import SELF_FAMILIES
from exporter.strictyaml import format_duration
from exporter.transfer import FAMILIES as TRANSFER_FAMILIES

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
METRICS_DOC = ROOT / "docs" / "metrics.md"
CONFIGURATION_DOC = ROOT / "docs" / "configuration.md"


def metrics_table() -> str:
    rows = ["| metric | type | labels | help |", "|---|---|---|---|"]
    for collector in COLLECTORS:
        for family in collector.families:
            labels = ", ".join(("account", *family.labels) if family.per_account
                               else family.labels)
            rows.append(f"| `{family.name}` | {family.kind} | {labels} | {family.help} |")
    for family in (*COST_FAMILIES, *TRANSFER_FAMILIES):
        labels = ", ".join(("account", *family.labels))
        rows.append(f"| `{family.name}` | {family.kind} | {labels} | {family.help} |")
    for self_family in SELF_FAMILIES:
        rows.append(f"| `{self_family.name}` | {self_family.kind} | "
                    f"{', '.join(self_family.labels) or '-'} | {self_family.help} |")
    return "\n".join(rows)


def default_column(c: Collector[object]) -> str:
    """`1m`, or for a collector off by default `off (5m)`; a Monitoring API collector adds what
    one watched object costs at that interval with its default metric groups."""
    text = format_duration(c.interval) if c.enabled_by_default else f"off ({format_duration(c.interval)})"
    if c.requests_per_object is not None:
        per_poll = c.requests_per_object(PollContext(metrics=c.chosen_metrics))
        text += f"; {per_poll * 3600 / c.interval:g} requests/hour per watched object"
    return text


def collectors_table() -> str:
    rows = ["| collector | default | read scope | endpoints | id label | filter | what |",
            "|---|---|---|---|---|---|---|"]
    for c in COLLECTORS:
        endpoints = ", ".join(f"`{e}`" for e in c.endpoints)
        id_label = f"`{c.id_label}`" if c.id_label else "-"
        filters = ", ".join(c.filters) or "-"
        rows.append(f"| `{c.name}` | {default_column(c)} | `{c.scope}` | {endpoints} | "
                    f"{id_label} | {filters} | {c.summary} |")
    return "\n".join(rows)


def flags_table() -> str:
    rows = ["| flag | default | what |", "|---|---|---|"]
    for action in build_parser()._actions:  # argparse has no public iterator
        if not action.option_strings or action.dest == "help":
            continue
        flag = " / ".join(action.option_strings) + (f" {action.metavar}" if action.metavar else "")
        default = "" if action.default in (None, False) else f"`{action.default}`"
        help_text = (action.help or "").replace("|", "\\|")
        shown = " / ".join(f"`{part}`" for part in flag.split(" / "))
        rows.append(f"| {shown} | {default} | {help_text} |")
    return "\n".join(rows)


# the generated sections, by the file they live in
SECTIONS = {
    METRICS_DOC: {"metrics": metrics_table},
    CONFIGURATION_DOC: {"collectors": collectors_table, "flags": flags_table},
}


@pytest.mark.parametrize("path", SECTIONS, ids=lambda p: p.name)
def test_generated_doc_sections_are_current(path: Path) -> None:
    text = path.read_text()
    for name, build in SECTIONS[path].items():
        pattern = re.compile(
            rf"<!-- generated:{name} -->\n(.*?)\n<!-- end:{name} -->", re.DOTALL
        )
        section = pattern.search(text)
        assert section, f"{path.name} has no generated:{name} section"
        text = text[:section.start(1)] + build() + text[section.end(1):]
    if os.environ.get("UPDATE_README") == "1":
        path.write_text(text)
    assert path.read_text() == text, f"{path.name} tables are stale: run UPDATE_README=1 make test"


def test_the_generated_sections_are_in_no_other_file() -> None:
    """One copy of each table: a stale copy left in the README would never be checked."""
    names = {name for sections in SECTIONS.values() for name in sections}
    for path in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        own = SECTIONS.get(path, {})
        for name in names - set(own):
            assert f"<!-- generated:{name} -->" not in path.read_text(), (path.name, name)


def test_readme_shows_the_two_setup_commands() -> None:
    text = README.read_text()
    assert "make demo" in text
    assert "make test" in text


def test_every_config_key_has_a_row_in_the_reference() -> None:
    text = CONFIGURATION_DOC.read_text()
    for key in ("accounts", "accounts[].token_file", "accounts[].token_env", "accounts[].token",
                "tokens_dir", "token_policy.write_scopes", "token_policy.unverifiable",
                "token_policy.secret_scopes", "token_policy.excess_scopes", "api.url",
                "api.auth_url", "api.timeout", "api.requests_per_hour", "api.response_deadline",
                "api.max_response_bytes",
                "collectors.<name>.interval", "collectors.<name>.stale_after",
                "collectors.<name>.enabled", "collectors.<name>.filter",
                "collectors.<name>.metrics", "accounts[].collectors.<name>"):
        assert f"| `{key}` |" in text, key


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.DOTALL | re.MULTILINE)
    return {github_anchor(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE)}


@pytest.mark.parametrize("path", [README, *sorted((ROOT / "docs").glob("*.md"))], ids=lambda p: p.name)
def test_relative_links_reach_a_file_and_its_heading(path: Path) -> None:
    """The README and the docs link each other by path and anchor: moving a section must not
    leave a link behind."""
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.DOTALL | re.MULTILINE)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        assert linked.exists(), (path.name, target)
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), (path.name, target)
