"""fields: strict identity fields, lenient descriptive ones, and one copy of each kept string."""

from __future__ import annotations

import json

import pytest

from exporter.collectors.fields import ShapeError, objects, optional_str, required_str, string_list


def page(text: str) -> list[dict[str, object]]:
    """Items as httpx would hand them over: each page decoded on its own."""
    items: list[dict[str, object]] = json.loads(text)
    return items


def test_kept_strings_from_different_pages_are_one_object() -> None:
    text = '[{"id": "vol-1", "region": {"slug": "nyc3"}, "tags": ["env:prod"]}]'
    first, second = page(text), page(text)
    # decoded separately, the values are equal but distinct objects...
    assert first[0]["id"] == second[0]["id"]
    assert first[0]["id"] is not second[0]["id"]
    # ...and what the collectors keep is one object per distinct string
    assert optional_str(first[0], "region", "slug") is optional_str(second[0], "region", "slug")
    assert string_list(first[0], "tags")[0] is string_list(second[0], "tags")[0]
    assert required_str(first[0], "id", "x") is required_str(second[0], "id", "x") == "vol-1"


def test_lenient_and_strict_reads() -> None:
    obj = page('[{"id": "", "name": null, "tags": ["a", 3, null, "b"]}]')[0]
    assert optional_str(obj, "name") == ""
    assert optional_str(obj, "region", "slug") == ""
    assert string_list(obj, "tags") == ("a", "b")
    with pytest.raises(ShapeError, match=r"^/v2/x x\[0\]\.id: expected a non-empty string, got"):
        required_str(obj, "id", "/v2/x x[0]")


def test_objects_name_each_item_from_the_page_start() -> None:
    paths = [path for path, _ in objects([{}, {}], "/v2/volumes volumes", start=200)]
    assert paths == ["/v2/volumes volumes[200]", "/v2/volumes volumes[201]"]
    with pytest.raises(ShapeError, match=r"volumes\[201\]: expected an object"):
        list(objects([{}, 7], "/v2/volumes volumes", start=200))
