"""Which platform a recorded response belongs to, asked of every registered harvester."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harvesters import registry
from harvesters.base import Harvester


def _describe(document: Any) -> str:
    if isinstance(document, dict):
        keys = sorted(str(k) for k in document)
        shown = ", ".join(keys[:8]) + (", …" if len(keys) > 8 else "")
        return f"an object with keys [{shown}]"
    if isinstance(document, list):
        return f"an array of {len(document)} item(s)"
    return f"a JSON {type(document).__name__}"


def detect_platform(document: Any, harvesters: Iterable[Harvester] | None = None) -> str:
    """The platform of the one harvester whose ``recognizes`` accepts ``document``.

    ``harvesters`` defaults to every registered one. Raises :class:`ValueError` naming the
    document's shape when no harvester recognizes it, or naming the platforms when several do
    (two harvesters claiming one shape is a bug in one of them, not a choice to make here).
    """
    candidates = list(harvesters) if harvesters is not None else registry.all_harvesters()
    matches = sorted(h.platform for h in candidates if h.recognizes(document))
    if not matches:
        known = ", ".join(sorted(h.platform for h in candidates))
        raise ValueError(f"no harvester recognizes this document ({_describe(document)}); known platforms: {known}")
    if len(matches) > 1:
        raise ValueError(f"several harvesters recognize this document: {', '.join(matches)}")
    return matches[0]
