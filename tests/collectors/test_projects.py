"""Projects against the official examples: one membership series per resource URN, and the
documented PromQL join that splits Droplet prices by project."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from exporter.api import ApiError
from exporter.collectors import projects
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader, InTurn
from tests.conftest import require_tool, spec, spec_example

RESOURCES = "/v2/projects/{project_id}/resources"
WEB_API = "4e1bfbc3-dc3e-41f2-a18f-1b4d7ba71679"
DEFAULT = "addb4547-6bab-419a-8542-76263a033cf6"

def resources(project_id: str) -> str:
    return f"/v2/projects/{project_id}/resources"


def example_reader() -> FakeReader:
    return FakeReader({
        "/v2/projects": spec_example("/v2/projects"),
        resources(WEB_API): spec_example(RESOURCES),
        resources(DEFAULT): {"resources": [
            {"urn": "do:volume:506f78a4-e098-11e5-ad9f-000f53306ae1", "status": "ok"},
        ]},
    })


async def test_values_from_the_official_examples() -> None:
    reader = example_reader()
    records = await projects.fetch(reader)
    assert [(r.method, r.endpoint, r.path) for r in reader.requests] == [
        ("list_all", "/v2/projects", {}),
        ("list_all", RESOURCES, {"project_id": WEB_API}),
        ("list_all", RESOURCES, {"project_id": DEFAULT}),
    ]
    assert list(projects.samples(records)) == [
        ("digitalocean_project_info",
         (WEB_API, "my-web-api", "Service or API", "Production", "false"), 1),
        ("digitalocean_project_created_timestamp_seconds", (WEB_API,), 1538079035.0),
        ("digitalocean_project_resource_info", (WEB_API, "domain", "example.com"), 1),
        ("digitalocean_project_resource_info", (WEB_API, "droplet", "13457723"), 1),
        ("digitalocean_project_info",
         (DEFAULT, "Default", "Just trying out DigitalOcean", "Development", "true"), 1),
        ("digitalocean_project_created_timestamp_seconds", (DEFAULT,), 1508449460.0),
        ("digitalocean_project_resource_info",
         (DEFAULT, "volume", "506f78a4-e098-11e5-ad9f-000f53306ae1"), 1),
    ]


async def test_descriptions_are_not_kept() -> None:
    assert "My website API" not in repr(await projects.fetch(example_reader()))


async def test_a_project_deleted_before_its_resources_were_read_is_skipped() -> None:
    reader = FakeReader({
        "/v2/projects": InTurn({"projects": [{"id": "gone"}, {"id": "kept"}]},
                               {"projects": [{"id": "kept"}]}),
        resources("gone"): 404,
        resources("kept"): {"resources": []},
    })
    assert [p.project_id for p in await projects.fetch(reader)] == ["kept"]


async def test_a_404_for_a_project_still_listed_fails_the_poll() -> None:
    reader = FakeReader({
        "/v2/projects": {"projects": [{"id": "p1"}]},
        resources("p1"): 404,
    })
    with pytest.raises(ShapeError, match=r"HTTP 404 for p1, which /v2/projects still lists"):
        await projects.fetch(reader)


async def test_other_resource_errors_fail_the_poll() -> None:
    error = ApiError("HTTP 500", endpoint=RESOURCES, status=500)
    reader = FakeReader({
        "/v2/projects": {"projects": [{"id": "p"}]},
        resources("p"): error,
    })
    with pytest.raises(ApiError) as caught:
        await projects.fetch(reader)
    assert caught.value is error


def test_resources_are_split_deduplicated_and_sorted() -> None:
    resources = projects.parse_resources([
        {"urn": "do:kubernetes:bd5f5959-5e1e-4205-a714-a914373942af"},
        {"urn": "do:space:my-bucket:with:colons"},
        {"urn": "do:droplet:13457723", "status": "not_found"},
        {"urn": "do:droplet:13457723"},
    ], "x")
    assert resources == (
        ("droplet", "13457723"),
        ("kubernetes", "bd5f5959-5e1e-4205-a714-a914373942af"),
        ("space", "my-bucket:with:colons"),
    )


def test_missing_descriptive_fields_are_tolerated() -> None:
    [record] = projects.parse_projects([{"id": "p", "name": None, "is_default": "yes",
                                         "created_at": None}])
    assert record == projects.ProjectRecord("p", "", "", "", "", None)
    assert list(projects.samples((record,))) == [
        ("digitalocean_project_info", ("p", "", "", "", ""), 1),
    ]


@pytest.mark.parametrize(
    ("urn", "message"),
    [
        (None, "/v2/projects/p/resources resources[0].urn: expected a non-empty string, got null"),
        ("do:droplet", "/v2/projects/p/resources resources[0].urn: "
                       "expected a URN such as do:droplet:13457723, got the string 'do:droplet'"),
        ("droplet:1:2", "/v2/projects/p/resources resources[0].urn: "
                        "expected a URN such as do:droplet:13457723, got the string 'droplet:1:2'"),
        ("do::1", "/v2/projects/p/resources resources[0].urn: "
                  "expected a URN such as do:droplet:13457723, got the string 'do::1'"),
    ],
)
async def test_bad_urns_fail_the_poll_naming_the_place(urn: Any, message: str) -> None:
    reader = FakeReader({
        "/v2/projects": {"projects": [{"id": "p"}]},
        resources("p"): {"resources": [{"urn": urn}]},
    })
    with pytest.raises(ShapeError) as caught:
        await projects.fetch(reader)
    assert str(caught.value) == message


def test_project_without_id_fails_the_poll() -> None:
    with pytest.raises(ShapeError) as caught:
        projects.parse_projects([{"name": "x"}])
    assert str(caught.value) == "/v2/projects projects[0].id: expected a non-empty string, got null"


def documented_join() -> str:
    """The PromQL query from the module docstring, as a user would copy it."""
    doc = projects.__doc__ or ""
    block = doc.split("Droplet prices by project:\n\n", 1)[1].split("\n\n", 1)[0]
    return textwrap.dedent(block).strip()


def test_documented_join_splits_droplet_prices_by_project(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    series = [
        ('digitalocean_droplet_price_monthly_usd{account="production",droplet_id="13457723"}', "5"),
        ('digitalocean_droplet_price_monthly_usd{account="production",droplet_id="3164444"}', "12"),
        ('digitalocean_droplet_price_monthly_usd{account="production",droplet_id="99"}', "7"),
        ('digitalocean_droplet_price_monthly_usd{account="staging",droplet_id="13457723"}', "100"),
        (f'digitalocean_project_resource_info{{account="production",project_id="{WEB_API}",'
         'resource_type="droplet",resource_id="13457723"}', "1"),
        (f'digitalocean_project_resource_info{{account="production",project_id="{WEB_API}",'
         'resource_type="droplet",resource_id="3164444"}', "1"),
        (f'digitalocean_project_resource_info{{account="production",project_id="{DEFAULT}",'
         'resource_type="droplet",resource_id="99"}', "1"),
        (f'digitalocean_project_resource_info{{account="production",project_id="{WEB_API}",'
         'resource_type="domain",resource_id="99"}', "1"),
    ]
    test_file = {
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in series],
            "promql_expr_test": [{
                "expr": documented_join(),
                "eval_time": "0m",
                "exp_samples": [
                    {"labels": f'{{account="production",project_id="{WEB_API}"}}', "value": 17},
                    {"labels": f'{{account="production",project_id="{DEFAULT}"}}', "value": 7},
                ],
            }],
        }],
    }
    path = tmp_path / "join_test.yml"
    path.write_text(json.dumps(test_file))  # JSON is YAML
    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, check=False)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_collector_contract() -> None:
    c = projects.COLLECTOR
    assert (c.name, c.scope, c.interval) == ("projects", "project:read", 900.0)
    for endpoint in c.endpoints:
        assert spec()["paths"][endpoint]["get"]["security"] == [{"bearer_auth": [c.scope]}]
    for family in c.families:
        assert family.name.startswith("digitalocean_project_")
        assert any(family.help.endswith(f", polled from {e}.") for e in c.endpoints), family.help
        assert '"' not in family.help
        assert "\\" not in family.help
    labels = {f.name: len(f.labels) for f in c.families}
    record = projects.ProjectRecord("p", "n", "IoT", "Staging", "false", 1.0, (("droplet", "1"),))
    emitted = list(projects.samples((record,)))
    assert {name for name, _, _ in emitted} == set(labels)
    assert all(len(values) == labels[name] for name, values, _ in emitted)
