"""Apps against the official example: deployment phases as state sets, deployment times, and a
failed deployment visible for alerting."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.collectors import apps
from exporter.collectors.fields import ShapeError
from exporter.exposition import encode_collector
from tests.collectors.fakes import FakeReader
from tests.conftest import spec, spec_example

ENDPOINT = "/v2/apps"
APP = "4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf"
GO_ZERO_TIME = "0001-01-01T00:00:00Z"
LOWER_PHASES = tuple(phase.lower() for phase in apps.PHASES)  # states are exported in lower case

Samples = dict[tuple[str, tuple[str, ...]], float]


def example_body() -> Any:
    return spec_example(ENDPOINT, "apps")


async def example_records() -> tuple[apps.AppRecord, ...]:
    return await apps.fetch(FakeReader({ENDPOINT: example_body()}))


def sample_map(records: tuple[apps.AppRecord, ...]) -> Samples:
    return {(name, labels): value for name, labels, value in apps.samples(records)}


def phases(samples: Samples, family: str, app_id: str) -> dict[str, float]:
    return {labels[1]: v for (name, labels), v in samples.items() if name == family and labels[0] == app_id}


def one(app: dict[str, Any]) -> apps.AppRecord:
    [record] = apps.parse_apps([{"id": "a", **app}])
    return record


async def test_fetch_reads_the_paged_list_through_list_all() -> None:
    reader = FakeReader({ENDPOINT: example_body()})
    records = await apps.fetch(reader)
    assert [(r.method, r.endpoint, r.key) for r in reader.requests] == [("list_all", ENDPOINT, "apps")]
    assert [r.app_id for r in records] == [APP]


async def test_values_from_the_official_example() -> None:
    samples = list(apps.samples(await example_records()))
    key = (APP,)
    assert samples == [
        ("digitalocean_app_info", (*key, "sample-php", "fra", "basic"), 1),
        # The example's active deployment carries no phase: the enum default UNKNOWN, not a guess.
        *(("digitalocean_app_active_deployment_status", (*key, phase), int(phase == "unknown"))
          for phase in LOWER_PHASES),
        # No in_progress_deployment in the example (its pending_deployment is not one): no series.
        ("digitalocean_app_last_deployment_timestamp_seconds", key, 1606783332.0),  # 00:42:12Z
        ("digitalocean_app_last_deployment_created_timestamp_seconds", key, 1606783205.0),  # 00:40:05Z
        ("digitalocean_app_created_timestamp_seconds", key, 1605817638.0),
        ("digitalocean_app_updated_timestamp_seconds", key, 1606783336.0),
        # its one service, with no instance_count: the spec's default of 1
        ("digitalocean_app_component_info", (*key, "sample-php", "service", "apps-s-1vcpu-0.5gb"), 1),
        ("digitalocean_app_component_instances", (*key, "sample-php"), 1),
    ]


def test_components_fixed_autoscaled_and_left_out() -> None:
    record = one({"spec": {
        "services": [
            {"name": "web", "instance_size_slug": "apps-d-2vcpu-8gb", "instance_count": 3},
            # autoscaled: the spec says instance_count "must not be set if autoscaling is used"
            {"name": "api", "instance_size_slug": "apps-d-1vcpu-1gb",
             "autoscaling": {"min_instance_count": 2, "max_instance_count": 5,
                             "metrics": {"cpu": {"percent": 80}}}},
            {"name": "broken", "instance_count": 0},  # not a count: left out
            "not an object",
        ],
        "workers": [{"name": "queue"}],  # no size, no count: the default of 1 instance
        "static_sites": [{"name": "docs"}],
        "jobs": [{"name": "migrate", "instance_size_slug": "apps-s-1vcpu-1gb"}],
    }})
    assert record.components == (
        apps.ComponentRecord("web", "service", "apps-d-2vcpu-8gb", 3),
        apps.ComponentRecord("api", "service", "apps-d-1vcpu-1gb", None, 2, 5),
        apps.ComponentRecord("queue", "worker", "", 1),
    )
    assert [c.billed_instances for c in record.components] == [3, 2, 1]
    samples = sample_map((record,))
    assert {k: v for k, v in samples.items() if k[0].startswith("digitalocean_app_component")} == {
        ("digitalocean_app_component_info", ("a", "web", "service", "apps-d-2vcpu-8gb")): 1,
        ("digitalocean_app_component_instances", ("a", "web")): 3,
        ("digitalocean_app_component_info", ("a", "api", "service", "apps-d-1vcpu-1gb")): 1,
        ("digitalocean_app_component_autoscaling_min_instances", ("a", "api")): 2,
        ("digitalocean_app_component_autoscaling_max_instances", ("a", "api")): 5,
        ("digitalocean_app_component_info", ("a", "queue", "worker", "")): 1,
        ("digitalocean_app_component_instances", ("a", "queue")): 1,
    }


def test_autoscaling_without_a_minimum_is_billed_as_one_instance() -> None:
    record = one({"spec": {"services": [
        {"name": "web", "instance_size_slug": "apps-s-1vcpu-1gb", "autoscaling": {"max_instance_count": 3}}
    ]}})
    [component] = record.components
    assert (component.min_instances, component.max_instances, component.billed_instances) == (None, 3, 1)


def test_a_deployment_failing_in_progress_shows_error() -> None:
    record = one({
        "active_deployment": {"id": "d1", "phase": "ACTIVE"},
        "in_progress_deployment": {"id": "d2", "phase": "ERROR", "cause": "commit 1234 pushed"},
    })
    samples = sample_map((record,))
    assert phases(samples, "digitalocean_app_active_deployment_status", "a")["active"] == 1
    in_progress = phases(samples, "digitalocean_app_in_progress_deployment_status", "a")
    # the API's ERROR is written in lower case, like every other family's states
    assert in_progress == {phase: int(phase == "error") for phase in LOWER_PHASES}
    assert list(in_progress) == ["unknown", "pending_build", "building", "pending_deploy",
                                 "deploying", "active", "superseded", "error", "canceled"]


def test_a_failed_deployment_no_longer_in_progress_is_newer_than_the_live_one() -> None:
    record = one({
        "active_deployment": {"id": "d1", "phase": "ACTIVE", "phase_last_updated_at": "2024-05-01T10:00:00Z"},
        "last_deployment_active_at": "2024-05-01T10:00:00Z",
        "last_deployment_created_at": "2024-05-02T09:00:00Z",
    })
    samples = sample_map((record,))
    assert not phases(samples, "digitalocean_app_in_progress_deployment_status", "a")
    created = samples[("digitalocean_app_last_deployment_created_timestamp_seconds", ("a",))]
    live = samples[("digitalocean_app_last_deployment_timestamp_seconds", ("a",))]
    assert (created, live) == (1714640400.0, 1714557600.0)
    assert created > live  # the documented alert condition


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        ({"last_deployment_active_at": "2024-05-01T10:00:00Z",
          "active_deployment": {"phase_last_updated_at": "2024-04-01T00:00:00Z"}}, 1714557600.0),
        ({"last_deployment_active_at": GO_ZERO_TIME,
          "active_deployment": {"phase_last_updated_at": "2024-04-01T00:00:00Z"}}, 1711929600.0),
        ({"active_deployment": {"phase_last_updated_at": None, "updated_at": "2024-04-01T00:00:00Z"}},
         1711929600.0),
        ({"active_deployment": {"phase_last_updated_at": GO_ZERO_TIME, "updated_at": GO_ZERO_TIME}}, None),
        ({"active_deployment": None}, None),
    ],
)
def test_went_live_time_prefers_last_deployment_active_at(
    app: dict[str, Any], expected: float | None
) -> None:
    assert one(app).last_deployment_at == expected


def test_go_zero_times_are_absent_not_year_one() -> None:
    record = one({"created_at": GO_ZERO_TIME, "updated_at": GO_ZERO_TIME,
                  "last_deployment_created_at": GO_ZERO_TIME})
    assert (record.created_at, record.updated_at, record.last_deployment_created_at) == (None, None, None)
    assert [name for name, _, _ in apps.samples((record,))] == ["digitalocean_app_info"]


def test_an_app_without_deployments_has_only_its_info_series() -> None:
    record = one({"spec": {"name": "fresh", "region": "ams"}, "active_deployment": None})
    assert list(apps.samples((record,))) == [("digitalocean_app_info", ("a", "fresh", "ams", ""), 1)]


def test_missing_and_mistyped_fields_are_tolerated() -> None:
    record = one({"spec": None, "region": "fra", "tier_slug": 3, "active_deployment": {"phase": None},
                  "in_progress_deployment": "not an object"})
    assert (record.name, record.region, record.tier) == ("", "", "")
    assert (record.active_phase, record.in_progress_phase) == ("UNKNOWN", None)


def test_region_object_wins_over_the_spec_region() -> None:
    assert one({"region": {"slug": "fra"}, "spec": {"region": "nyc"}}).region == "fra"


def test_unknown_phase_is_visible_in_the_state_set() -> None:
    samples = sample_map((one({"active_deployment": {"phase": "PAUSED"}}),))
    active = phases(samples, "digitalocean_app_active_deployment_status", "a")
    assert active == {**dict.fromkeys(LOWER_PHASES, 0), "paused": 1}


async def test_apps_are_sorted_by_id_and_an_id_a_shifting_list_repeats_counts_once() -> None:
    reader = FakeReader({"/v2/apps": {"apps": [{"id": "b", "spec": {"name": "old"}}, {"id": "a"},
                                               {"id": "b", "spec": {"name": "new"}}]}}, page_size=2)
    records = await apps.fetch(reader)
    assert [(r.app_id, r.name) for r in records] == [("a", ""), ("b", "old")]
    assert reader.dropped == {"/v2/apps": 1}


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"spec": {"name": "no id"}}], "/v2/apps apps[0].id: expected a non-empty string, got null"),
        ([{"id": "a"}, {"id": 5}], "/v2/apps apps[1].id: expected a non-empty string, got the number 5"),
        ([None], "/v2/apps apps[0]: expected an object, got null"),
        ({"id": "a"}, "/v2/apps apps: expected a list, got an object"),
    ],
)
def test_shape_errors_name_the_place(items: object, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        apps.parse_apps(items)
    assert str(caught.value) == message


async def test_docstring_lines_are_real_exposition() -> None:
    fragment = encode_collector("production", apps.COLLECTOR, await example_records())
    rendered = b"".join(fragment.values()).decode()
    documented = [line.strip() for line in (apps.__doc__ or "").splitlines()
                  if line.startswith("    digitalocean_")]
    assert len(documented) == 2
    for line in documented:
        assert line + "\n" in rendered


def test_families_follow_the_naming_rules() -> None:
    for family in apps.COLLECTOR.families:
        assert family.name.startswith("digitalocean_app_")
        assert family.help.endswith(f", polled from {ENDPOINT}.")
        assert '"' not in family.help
        assert "\\" not in family.help
        assert not family.name.endswith("_total")
    assert (apps.COLLECTOR.scope, apps.COLLECTOR.interval) == ("app:read", 60.0)


def test_known_phases_are_the_spec_enum_in_order_with_its_default() -> None:
    phase = spec()["components"]["schemas"]["apps_deployment_phase"]
    assert tuple(phase["enum"]) == apps.PHASES
    assert phase["default"] == apps.DEFAULT_PHASE
