"""The paging guard the paged gathers share (Socrata offsets, CKAN starts).

A gather that loops forever, or stops early and calls itself complete, is worse than one that
fails: the first never ends, the second withdraws datasets that still exist. So every way paging
can go wrong ends the gather with :class:`GatherError`, which withdraws nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from harvesters.base import GatherError, GatherStats
from harvesters.http import FetchError, HttpClient


def fetch_page(
    http: HttpClient,
    endpoint: str,
    params: Mapping[str, Any],
    stats: GatherStats,
    *,
    list_key: str,
    api: str,
) -> tuple[dict[str, Any], list[Any], str]:
    """One page of an offset-paged JSON catalog: (body, its list of entries, the page URL).

    Counts the request and the page in ``stats``; a failed fetch, or a body without the list,
    ends the gather with :class:`GatherError` naming the page.
    """
    page_url = f"{endpoint}?{urlencode(params)}"
    try:
        body = http.get_json(endpoint, params=params)
    except FetchError as exc:
        raise GatherError(f"catalog page at offset {params.get('offset')} could not be read: {exc}", page_url) from exc
    finally:
        stats.requests += 1
    if not isinstance(body, dict) or not isinstance(body.get(list_key), list):
        raise GatherError(f"catalog page has no '{list_key}' list; the {api} response changed shape", page_url)
    stats.pages += 1
    return body, body[list_key], page_url


def announced_total(value: Any) -> int | None:
    """A catalog size the portal announced, if it is an integer."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class PageGuard:
    """Checks each page of one gather against the pages before it."""

    def __init__(self) -> None:
        self._previous: list[str | None] | None = None
        self._seen: set[str] = set()

    def check_page(self, ids: Sequence[str | None], url: str) -> None:
        """Raise when a non-empty page cannot be making progress.

        A page whose entries all lack an id means the response changed shape; one that repeats
        the previous page, or holds only ids already read, means the server ignores the offset.
        """
        known = [i for i in ids if i is not None]
        if not known:
            raise GatherError("no entry of this page has a dataset id; the response changed shape", url)
        if self._previous is not None and list(ids) == self._previous:
            raise GatherError("page repeats the previous page (paging loop)", url)
        if all(i in self._seen for i in known):
            raise GatherError("page holds only datasets already read (paging loop)", url)
        self._previous = list(ids)

    def first_time(self, ident: str) -> bool:
        """True the first time ``ident`` is seen in this gather (duplicates are read once)."""
        if ident in self._seen:
            return False
        self._seen.add(ident)
        return True

    def check_end(self, read: int, total: int | None, url: str) -> None:
        """An empty page ends the listing; raise when it comes before the announced total."""
        if total is not None and read < total:
            raise GatherError(f"listing ended after {read} of the {total} datasets it announced", url)
