"""What the deploy tests check queries against: every metric name the exporter can serve, the
recording rules shipped beside it, the families the golden expositions show, and the two
generators (loaded from their files: they are scripts, not part of the package)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from exporter.collectors import COLLECTORS
from exporter.costs import FAMILIES as COST_FAMILIES
from exporter.selfmetrics import SELF_FAMILIES
from exporter.transfer import FAMILIES as TRANSFER_FAMILIES

ROOT = Path(__file__).resolve().parent.parent.parent
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
GOLDEN = (ROOT / "tests" / "golden" / "demo.prom", ROOT / "tests" / "golden" / "examples.prom")

# Recorded by the user's budgets.yml (the shipped one has only the commented example).
USER_RECORDED = frozenset({"digitalocean:month_budget_usd"})


def load_script(path: Path) -> ModuleType:
    name = f"_script_{path.parent.name}_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def grafana_generator() -> ModuleType:
    return load_script(ROOT / "grafana" / "generate.py")


def alerts_generator() -> ModuleType:
    return load_script(PROMETHEUS_DIR / "generate.py")


@cache
def collector_families() -> frozenset[str]:
    return frozenset(f.name for c in COLLECTORS for f in c.families)


@cache
def cost_families() -> frozenset[str]:
    """The derived families: the cost estimates and the bandwidth bill."""
    return frozenset(f.name for f in (*COST_FAMILIES, *TRANSFER_FAMILIES))


@cache
def self_sample_names() -> frozenset[str]:
    """The sample names of the self metrics: a histogram's are its _bucket, _sum and _count."""
    names = set()
    for family in SELF_FAMILIES:
        if family.kind == "histogram":
            names |= {f"{family.name}_bucket", f"{family.name}_sum", f"{family.name}_count"}
        else:
            assert family.kind != "counter" or family.name.endswith("_total"), family.name
            names.add(family.name)
    return frozenset(names)


@cache
def recording_rule_names() -> frozenset[str]:
    names = set()
    for path in PROMETHEUS_DIR.glob("*.yml"):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups") or []:
            names |= {rule["record"] for rule in group.get("rules") or [] if "record" in rule}
    return frozenset(names)


@cache
def golden_families() -> frozenset[str]:
    return frozenset(
        line.split()[2]
        for path in GOLDEN
        for line in path.read_text().splitlines()
        if line.startswith("# TYPE ")
    )


def unknown_names(names: set[str]) -> set[str]:
    """Names that are neither served by the exporter nor recorded by a shipped rule file."""
    known = (collector_families() | cost_families() | self_sample_names() | recording_rule_names()
             | USER_RECORDED)
    return names - known


def not_in_golden(names: set[str]) -> set[str]:
    """Collector families (the data the exporter polls) missing from both golden expositions.

    Self metrics are checked against SELF_FAMILIES, cost families against exporter.costs: the
    golden files hold the collectors' exposition only.
    """
    return (names & collector_families()) - golden_families()


def config_check(config: dict[str, Any], tokens: dict[str, str], mode: int, workdir: Path
                 ) -> subprocess.CompletedProcess[str]:
    """`digitalocean-exporter --config.check` on `config` with its tokens_dir replaced by a
    directory of our own holding `tokens` (file name: contents) at file mode `mode`, as a
    Secret volume or systemd's credentials would; DIGITALOCEAN_* variables left out."""
    directory = workdir / "tokens"
    directory.mkdir()
    for name, value in tokens.items():
        (directory / name).write_text(value)
        (directory / name).chmod(mode)
    path = workdir / "config.yml"
    path.write_text(yaml.safe_dump({**config, "tokens_dir": str(directory)}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGITALOCEAN_", "DO_"))}
    return subprocess.run([sys.executable, "-m", "exporter", "--config.file", str(path), "--config.check",
                           "--offline"],
                          capture_output=True, text=True, check=False, timeout=60, env=env)
