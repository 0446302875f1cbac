"""Per-platform response shapes, collected in a registry.

Each module of this package declares one :class:`Shapes` (its routes and how its documents drift)
and registers it; adding a platform adds a file. The ``common`` shapes (``data.json``, landing
pages, downloads, ArcGIS REST layers) apply to every portal after its own platform's routes.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from simulator.wire import Reply, SimRequest
from simulator.world import PortalView

Handler = Callable[[SimRequest, PortalView, "re.Match[str]"], "Reply | None"]


@dataclass(frozen=True)
class Route:
    """A path pattern (matched against the path after the host) and its handler.

    A handler may return None to say "not mine", and the next route is tried.
    """

    pattern: re.Pattern[str]
    handler: Handler
    methods: tuple[str, ...] = ("GET", "HEAD")


@dataclass(frozen=True)
class Shapes:
    """One platform's routes and its schema-drift transform."""

    name: str
    routes: tuple[Route, ...]
    drift: Callable[[Reply], Reply]


_REGISTRY: dict[str, Shapes] = {}


def register(shapes: Shapes) -> Shapes:
    """Add a platform's shapes; a second registration of the same name is an error."""
    if shapes.name in _REGISTRY and _REGISTRY[shapes.name] is not shapes:
        raise ValueError(f"simulator platform '{shapes.name}' registered twice")
    _REGISTRY[shapes.name] = shapes
    return shapes


def route(pattern: str, methods: tuple[str, ...] = ("GET", "HEAD")) -> Callable[[Handler], Route]:
    """Decorator: turn a handler into a :class:`Route` for ``pattern`` (a full match)."""

    def wrap(handler: Handler) -> Route:
        return Route(re.compile(pattern), handler, methods)

    return wrap


@cache
def _load() -> None:
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def shapes_for(platform: str) -> list[Shapes]:
    """The platform's own shapes, then the common ones."""
    _load()
    return [s for s in (_REGISTRY.get(platform), _REGISTRY.get("common")) if s is not None]


def names() -> list[str]:
    _load()
    return sorted(_REGISTRY)
