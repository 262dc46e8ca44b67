"""One load balancer by id (`/v2/load_balancers/{lb_id}`): the object the list holds, with
the Droplets behind it as they are now. Not a counted kind: it serves the `load_balancers`
kind's objects.
"""

from __future__ import annotations

from exporter.simulator.handling import ApiError, ApiRequest, Caller, Endpoint, FleetView
from exporter.simulator.kind import Kind
from exporter.simulator.kinds.load_balancers import load_balancers


def get_load_balancer(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    wanted = request.path_params["lb_id"]
    found = next((lb for lb in load_balancers(fleet.resources) if str(lb.id) == wanted), None)
    if found is None:
        raise ApiError(404)
    return b'{"load_balancer":' + found.render(request.now, fleet.droplet_lookup) + b"}"


KIND = Kind(
    name="load_balancer_droplets",
    routes=(
        # not in the vendored subset: validated against the full description instead
        Endpoint("/v2/load_balancers/{lb_id}", "load_balancer:read", get_load_balancer,
                 in_spec=False),
    ),
)
