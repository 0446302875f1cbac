"""The parameters of a catalog search, shared by every endpoint that takes them.

``/api/search`` pages through results; ``/api/search.csv`` and ``/data.json`` export all of them.
They declare :func:`search_query` as a dependency, so the three parse and check the same
parameters the same way and document them once in the OpenAPI contract.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Query

from api.coverage import checked_statuses
from api.deps import get_seed
from catalog.vocabulary import Category, PortalPlatform
from catalog_seed import Seed
from index.base import SearchQuery, SortOrder

MAX_Q = 500


def split_values(values: list[str] | None) -> list[str]:
    """Repeated and comma-separated values as one list: ``a,b&x=c`` -> ``[a, b, c]``."""
    out: list[str] = []
    for v in values or []:
        out += [p.strip() for p in v.split(",") if p.strip()]
    return out


def parse_when(value: str, name: str = "modified_after") -> datetime:
    """An ISO 8601 date or date-time, timezone-aware (UTC when none is given)."""
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(400, f"{name}: {value!r} is not an ISO 8601 date or date-time (e.g. 2024-01-31)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def search_query(
    seed: Annotated[Seed, Depends(get_seed)],
    q: Annotated[str | None, Query(max_length=MAX_Q, description="words to find (all must match)")] = None,
    jurisdiction: Annotated[list[str] | None, Query(description="jurisdiction id(s), e.g. seattle-wa")] = None,
    state: Annotated[list[str] | None, Query(description="two-letter state code(s)")] = None,
    category: Annotated[list[str] | None, Query(description="PDI category id(s), e.g. use_of_force")] = None,
    platform: Annotated[list[str] | None, Query(description="portal platform(s), e.g. socrata")] = None,
    format: Annotated[list[str] | None, Query(description="distribution format(s), e.g. CSV")] = None,  # noqa: A002
    freshness: Annotated[
        list[str] | None, Query(description="freshness status(es): fresh, due, overdue, delinquent, unknown")
    ] = None,
    modified_after: Annotated[
        str | None, Query(description="only datasets updated on or after this ISO date or date-time")
    ] = None,
    sort: Annotated[SortOrder, Query(description="relevance (default with q), modified (newest first) or id")] = (
        SortOrder.RELEVANCE
    ),
) -> SearchQuery:
    """The search these parameters ask for, over active records only; a bad value is a 400."""
    filters: dict[str, list[str]] = {}
    jurisdictions = split_values(jurisdiction)
    unknown = [j for j in jurisdictions if seed.get(j) is None]
    if unknown:
        raise HTTPException(400, f"jurisdiction: unknown id(s) {', '.join(unknown)}; see /api/jurisdictions")
    categories = split_values(category)
    bad = [c for c in categories if c not in Category.__members__.values()]
    if bad:
        raise HTTPException(
            400, f"category: unknown id(s) {', '.join(bad)}; known: {', '.join(c.value for c in Category)}"
        )
    states = [s.upper() for s in split_values(state)]
    bad = [s for s in states if len(s) != 2 or not s.isalpha()]
    if bad:
        raise HTTPException(400, f"state: expected two-letter codes, got {', '.join(bad)}")
    platforms = [p.lower() for p in split_values(platform)]
    known_platforms = {p.value for p in PortalPlatform} | {"dcat_us"}
    bad = [p for p in platforms if p not in known_platforms]
    if bad:
        raise HTTPException(400, f"platform: unknown {', '.join(bad)}; known: {', '.join(sorted(known_platforms))}")
    formats = [f.upper() for f in split_values(format)]
    statuses = [s.value for s in checked_statuses(freshness)]
    for name, values in (
        ("jurisdiction", jurisdictions),
        ("state", states),
        ("category", categories),
        ("platform", platforms),
        ("format", formats),
        ("freshness", statuses),
    ):
        if values:
            filters[name] = values
    filters["status"] = ["active"]
    return SearchQuery(
        q=q.strip() if q and q.strip() else None,
        filters=filters,
        modified_after=parse_when(modified_after) if modified_after else None,
        sort=sort,
    )
