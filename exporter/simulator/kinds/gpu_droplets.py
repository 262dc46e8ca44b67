"""GPU Droplets: only listed by `/v2/droplets?type=gpus` (served by the droplets kind).
"""

from __future__ import annotations

from exporter.simulator.kind import Count, Kind

KIND = Kind(
    name="gpu_droplets",
    list_endpoint="/v2/droplets?type=gpus",
    count=Count(fixed=0),
)
