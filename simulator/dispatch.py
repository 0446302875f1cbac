"""Finding the shape that answers a request: the portal's platform routes, then the common ones."""

from __future__ import annotations

from simulator.platforms import shapes_for
from simulator.wire import Reply, SimRequest, error
from simulator.world import SimWorld


def dispatch(world: SimWorld, req: SimRequest) -> Reply:
    """The reply to ``req``; a 404 JSON error for an unknown host or path, 405 for a wrong method."""
    view = world.view(req.host)
    if view is None:
        return error(404, {"error": "not_found", "message": f"no simulated portal at {req.host!r}"})
    wrong_method = False
    for shapes in shapes_for(view.spec.platform):
        for route in shapes.routes:
            match = route.pattern.fullmatch(req.path)
            if match is None:
                continue
            if req.method not in route.methods:
                wrong_method = True
                continue
            reply = route.handler(req, view, match)
            if reply is not None:
                return reply
    if wrong_method:
        return error(405, {"error": "method_not_allowed", "message": f"{req.method} not allowed on {req.path}"})
    return error(404, {"error": "not_found", "message": f"no such path {req.path!r} on {req.host}"})


def drift(world: SimWorld, host: str, reply: Reply) -> Reply:
    """The reply bent by the host platform's schema drift (then the common one)."""
    spec = world.spec(host)
    if spec is None or reply.status != 200 or reply.payload is None:
        return reply
    for shapes in shapes_for(spec.platform):
        reply = shapes.drift(reply)
    return reply
