"""The platform registry: each harvester module registers its class here under its platform name."""

from __future__ import annotations

from harvesters.base import Harvester

_REGISTRY: dict[str, type[Harvester]] = {}


class UnknownPlatformError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def register(cls: type[Harvester]) -> type[Harvester]:
    """Class decorator: add a harvester under ``cls.platform``; a duplicate name is an error."""
    name = getattr(cls, "platform", None)
    if not name:
        raise TypeError(f"{cls.__name__} has no 'platform' name")
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"platform '{name}' registered twice: {_REGISTRY[name].__name__} and {cls.__name__}")
    _REGISTRY[name] = cls
    return cls


def _load_builtin() -> None:
    # Built-in harvesters register themselves on import, the same way a later one would.
    import harvesters.builtin  # noqa: F401


def names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def get(name: str) -> Harvester:
    _load_builtin()
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise UnknownPlatformError(f"unknown platform '{name}' (known: {', '.join(sorted(_REGISTRY))})") from None


def all_harvesters() -> list[Harvester]:
    _load_builtin()
    return [cls() for _, cls in sorted(_REGISTRY.items())]
