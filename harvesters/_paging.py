"""The paging guard the paged gathers share (Socrata offsets, CKAN starts).

A gather that loops forever, or stops early and calls itself complete, is worse than one that
fails: the first never ends, the second withdraws datasets that still exist. So every way paging
can go wrong ends the gather with :class:`GatherError`, which withdraws nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from harvesters.base import GatherError


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
