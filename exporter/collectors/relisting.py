"""Telling a deleted object from a failed request, for follow-up lists.

A collector that reads a list and then one follow-up list per object (a domain's records, a
VPC's members, a project's resources) gets a 404 when an object was deleted in between: that
object is rightly left out. But a 404 can also come from something else (a proxy, an API
fault), and dropping every object on it would silently empty the collector while it reports
success. So the parent list is read once more, only when some follow-up answered 404: an object
still listed there was not deleted, and the poll fails instead of dropping it.
"""

from __future__ import annotations

from collections.abc import Sequence

from exporter.collectors.base import ResourceReader
from exporter.collectors.fields import ShapeError


async def confirm_deleted(
    reader: ResourceReader,
    endpoint: str,
    key: str,
    id_field: str,
    *,
    gone: Sequence[str],
    follow_up: str,
) -> None:
    """Raise ShapeError naming the objects of `gone` (their `follow_up` answered 404) that the
    list at `endpoint` still holds; return quietly when every one of them was deleted."""
    if not gone:
        return
    items = await reader.list_all(endpoint, key)
    listed = {str(item.get(id_field)) for item in items if isinstance(item, dict)}
    still = sorted(set(gone) & listed)
    if still:
        raise ShapeError(
            f"{follow_up}: HTTP 404 for {', '.join(still)}, which {endpoint} still lists; "
            "nothing is dropped on a 404 that is not a deletion"
        )
