"""Spaces buckets: served by no endpoint of this API (Spaces speaks S3); seen as project
resources and CDN origins.
"""

from __future__ import annotations

from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import ResourceBuilder

KIND = Kind(
    name="spaces_buckets",
    count=Count(
        # One origin per CDN endpoint (counted before, in KINDS order), + 1 from 10 Droplets.
        derive=lambda droplets, earlier: earlier["cdn_endpoints"] + (1 if droplets >= 10 else 0)
    ),
    build=ResourceBuilder.build_spaces_buckets,
)
