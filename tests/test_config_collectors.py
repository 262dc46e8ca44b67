"""Per-collector settings beyond the interval: `filter:`, `metrics:`, an account's own
`collectors:` and the inputs a collector reads, each problem with its key path and its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.config import CollectorDefaults, ConfigError, Settings, load_settings

TOKEN = "dop_v1_" + "5" * 64
DEFAULTS = {
    "droplets": CollectorDefaults(60.0, filters=("tag", "region", "name", "id")),
    "volumes": CollectorDefaults(60.0, filters=("tag", "region", "name")),
    "billing": CollectorDefaults(3600.0),
    "droplet_metrics": CollectorDefaults(
        300.0, enabled=False, filters=("tag", "region", "name", "id"),
        metric_groups=("cpu", "memory", "load", "filesystem", "network"),
        default_metrics=("cpu", "memory", "load", "filesystem", "network"),
        inputs=("droplets",),
    ),
}


def load(tmp_path: Path, text: str, overrides: dict[str, bool] | None = None) -> Settings:
    path = tmp_path / "config.yml"
    path.write_text(text)
    return load_settings(path, {"T": TOKEN}, DEFAULTS, overrides)


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return list(caught.value.problems)


ACCOUNTS = """
accounts:
  - name: production
    token_env: T
"""


def test_a_filter_and_metrics_are_read(tmp_path: Path) -> None:
    settings = load(tmp_path, ACCOUNTS + """
collectors:
  droplets: {filter: {tag: [web, db], region: fra1, name: "web-.*", id: [1, "2"]}}
  droplet_metrics: {enabled: true, filter: {tag: monitored}, metrics: [memory, cpu]}
""")
    droplets = settings.collectors["droplets"].selection
    assert droplets.tags == ("web", "db")
    assert droplets.regions == ("fra1",)
    assert droplets.ids == ("1", "2")
    assert droplets.matches(object_id=1, name="web-3", region="fra1", tags=["db"])
    assert not droplets.matches(object_id=1, name="xweb-3", region="fra1", tags=["db"])
    assert not droplets.matches(object_id=3, name="web-3", region="fra1", tags=["db"])
    assert not droplets.matches(object_id=1, name="web-3", region="ams3", tags=["db"])
    assert not droplets.matches(object_id=1, name="web-3", region="fra1", tags=["other"])
    assert droplets.server_tag() is None  # two tags: the API filters by one only
    metrics = settings.collectors["droplet_metrics"]
    assert metrics.enabled
    assert metrics.selection.server_tag() == "monitored"
    assert metrics.metrics == ("cpu", "memory")  # in the collector's own order
    assert settings.collectors["volumes"].selection.everything
    assert settings.collectors["droplet_metrics"].selection.describe() == "tag monitored"


def test_the_default_metrics_apply_when_none_are_given(tmp_path: Path) -> None:
    settings = load(tmp_path, ACCOUNTS + "collectors: {droplet_metrics: {enabled: true}}\n")
    assert settings.collectors["droplet_metrics"].metrics == (
        "cpu", "memory", "load", "filesystem", "network")


def test_an_account_s_own_collectors_override_key_by_key(tmp_path: Path) -> None:
    settings = load(tmp_path, """
accounts:
  - name: production
    token_env: T
    collectors:
      droplet_metrics: {filter: {tag: prod}}
  - name: staging
    token_env: T
collectors:
  droplet_metrics: {enabled: true, interval: 10m, metrics: [cpu]}
""")
    production, staging = settings.accounts
    assert staging.collectors is None
    own = settings.collectors_of(production)["droplet_metrics"]
    assert own.enabled
    assert own.interval == 600.0
    assert own.metrics == ("cpu",)
    assert own.selection.tags == ("prod",)
    assert settings.collectors_of(staging)["droplet_metrics"].selection.everything
    assert settings.collectors_of(production)["droplets"] == settings.collectors["droplets"]


def test_a_flag_wins_over_an_account_s_own_enabled(tmp_path: Path) -> None:
    settings = load(tmp_path, """
accounts:
  - name: production
    token_env: T
    collectors: {billing: {enabled: true}}
""", overrides={"billing": False})
    assert not settings.collectors_of(settings.accounts[0])["billing"].enabled


@pytest.mark.parametrize(("text", "expected"), [
    ("collectors: {billing: {filter: {tag: x}}}",
     "collectors.billing.filter: the billing collector cannot be filtered (its objects have no "
     "tag, region, name or id to select by)"),
    ("collectors: {volumes: {filter: {id: [1]}}}",
     "collectors.volumes.filter.id: the volumes collector cannot be filtered by id (it can be by "
     "tag, region, name)"),
    ("collectors: {droplets: {filter: {tags: x}}}",
     "collectors.droplets.filter.tags: unknown key (did you mean tag?); known keys are tag, "
     "region, name, id"),
    ("collectors: {droplets: {filter: {tag: []}}}",
     "collectors.droplets.filter.tag: is an empty list; give at least one value or drop the key"),
    ("collectors: {droplets: {filter: {region: ['']}}}",
     "collectors.droplets.filter.region[0]: must not be empty"),
    ("collectors: {droplets: {filter: {name: 'web-('}}}",
     "collectors.droplets.filter.name: 'web-(' is not a regular expression: missing ), "
     "unterminated subpattern at position 4"),
    ("collectors: {droplets: {metrics: [cpu]}}",
     "collectors.droplets.metrics: the droplets collector has no metric groups to choose (only "
     "Monitoring API collectors do)"),
    ("collectors: {droplet_metrics: {metrics: []}}",
     "collectors.droplet_metrics.metrics: is empty; list at least one of cpu, memory, load, "
     "filesystem, network (or disable droplet_metrics)"),
])
def test_filter_and_metrics_problems_name_the_key_and_the_fix(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert problems(tmp_path, ACCOUNTS + text + "\n") == [expected]


def test_an_unknown_metric_group_is_named_with_the_choices(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, ACCOUNTS + "collectors: {droplet_metrics: {metrics: [cpus]}}\n")
    assert problem.startswith("collectors.droplet_metrics.metrics[0]: ")
    assert "cpus" in problem
    assert "cpu" in problem


def test_a_collector_without_its_input_is_an_error_where_it_is_enabled(tmp_path: Path) -> None:
    assert problems(tmp_path, ACCOUNTS + """
collectors:
  droplets: {enabled: false}
  droplet_metrics: {enabled: true}
""") == ["collectors.droplet_metrics: needs the droplets collector's data (it reads no list of "
         "its own), but droplets is disabled; enable collectors.droplets or disable "
         "droplet_metrics"]
    assert problems(tmp_path, """
accounts:
  - name: production
    token_env: T
    collectors: {droplets: {enabled: false}}
collectors:
  droplet_metrics: {enabled: true}
""") == ["accounts[0].collectors.droplet_metrics: needs the droplets collector's data (it reads "
         "no list of its own), but droplets is disabled; enable collectors.droplets or disable "
         "droplet_metrics"]


def test_an_account_s_collectors_are_checked_like_the_top_level(tmp_path: Path) -> None:
    assert problems(tmp_path, """
accounts:
  - name: production
    token_env: T
    collectors:
      droplet: {enabled: true}
      volumes: {interval: 1s, filter: {name: 7}}
""") == [
        "accounts[0].collectors.droplet: unknown key (did you mean droplets?); known keys are "
        "droplets, volumes, billing, droplet_metrics",
        "accounts[0].collectors.volumes.interval: 1s is below the minimum of 5s",
        "accounts[0].collectors.volumes.filter.name: expected a regular expression, got an integer",
    ]
