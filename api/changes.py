"""``GET /api/changes``: the incremental sync feed. Every dataset that changed since a time (new,
changed, restored or withdrawn) in change order, paged by an opaque cursor that a client can also
keep between syncs."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query

from api.deps import get_store
from api.models import ChangeEntry, ChangesResponse
from store import ChangeKey, Store

router = APIRouter()

DESCRIPTION = """
Datasets that changed in the catalog since a time — new, changed, restored, and **withdrawn**
(gone at their portal: `status` is `withdrawn`) — ordered by change time, then id.

Start with `since` (an ISO 8601 date or date-time; omit it for the whole catalog), then follow
`next_cursor` while `has_more` is true. Keep the last `next_cursor`: passing it later returns only
what changed after the last change you received, with nothing missed or repeated even while
harvests write (a record changed meanwhile moves to the end of the order and comes again with its
new content). `since` and `cursor` are exclusive.

Each entry carries the dataset's full record (DCAT-US 1.1 with the `pdi` extension), as
`/api/datasets/{id}` gives it.
"""


def encode_cursor(key: ChangeKey) -> str:
    body = json.dumps({"t": key.changed.astimezone(UTC).isoformat(), "i": key.id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> ChangeKey:
    try:
        body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        changed = datetime.fromisoformat(body["t"])
        if changed.tzinfo is None or not isinstance(body["i"], str):
            raise ValueError
        return ChangeKey(changed.astimezone(UTC), body["i"])
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise HTTPException(400, "cursor: not a cursor this API gave; use next_cursor of a previous page") from None


def parse_since(value: str) -> datetime:
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d")
            return day.replace(tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(
            400, f"since: {value[:100]!r} is not an ISO 8601 date or date-time (e.g. 2026-01-31T12:00:00Z)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.get(
    "/api/changes",
    response_model=ChangesResponse,
    tags=["sync"],
    summary="Datasets changed since a time, withdrawals included, for incremental sync",
    description=DESCRIPTION,
    responses={400: {"description": "bad parameter", "content": {"application/json": {"example": {"error": "..."}}}}},
)
def changes(
    store: Annotated[Store, Depends(get_store)],
    since: Annotated[
        str | None, Query(max_length=40, description="ISO 8601 date or date-time; changes at or after it")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=1000, description="next_cursor of a previous response")] = None,
    size: Annotated[int, Query(ge=1, le=1000, description="changes per page")] = 100,
) -> ChangesResponse:
    if since is not None and cursor is not None:
        raise HTTPException(400, "since and cursor are exclusive: a cursor already says where to go on from")
    after = decode_cursor(cursor) if cursor is not None else None
    start = parse_since(since) if since is not None else None
    rows = store.changes(since=start, after=after, limit=size + 1)
    more, rows = len(rows) > size, rows[:size]
    entries = [
        ChangeEntry(
            id=s.record.id,
            status=s.status.value,
            changed_at=s.last_changed,
            first_seen=s.first_seen,
            withdrawn_at=s.withdrawn_at,
            record=s.record,
        )
        for s in rows
    ]
    if rows:
        next_cursor: str | None = encode_cursor(rows[-1].change_key)
    else:
        next_cursor = cursor  # nothing new: go on from the same place next time
    return ChangesResponse(changes=entries, has_more=more, next_cursor=next_cursor)
