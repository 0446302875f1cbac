"""One dataset seen through several sources: how the store groups records and composes the one
record a search shows. Pure functions over stored member records; the store does the I/O.

Each source keeps its own record (its own id, raw document, history, and withdrawal count, so
withdrawing stays per source). Records sharing a dataset identity key
(:func:`catalog.identity.dataset_key`) form a group, unless one source gave that key to more than
one of its records (then the key is ambiguous and none of them merge). A group is shown as one
dataset:

- its **canonical** member is the first by (active before withdrawn, platform rank — a portal's
  own API before ``data.json`` before a web page — earliest first seen, id); the dataset's id is
  that member's id, and the other members' ids are **aliases** of it;
- its record is the canonical member's record, with ``pdi.sources`` listing the source of every
  *listed* member (the active ones; all of them once every one is withdrawn), ``pdi.source`` the
  canonical's, ``pdi.jurisdictions`` the union of the listed members' jurisdictions;
- it is active while any member is: one source dropping the dataset removes that source from
  ``pdi.sources``; the dataset is withdrawn only when every source has dropped it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from catalog.identity import platform_rank
from catalog.record import CatalogRecord
from catalog.vocabulary import RecordStatus


@dataclass(frozen=True)
class Member:
    """One source's record of a dataset, as stored (source times filled in from the row)."""

    id: str
    record: CatalogRecord
    status: RecordStatus
    first_seen: datetime
    last_seen: datetime
    last_changed: datetime

    @property
    def active(self) -> bool:
        return self.status is RecordStatus.ACTIVE


@dataclass(frozen=True)
class Dataset:
    """A group of members composed into the record a search shows."""

    record: CatalogRecord  # id = the canonical member's id
    status: RecordStatus
    first_seen: datetime
    last_seen: datetime
    last_changed: datetime
    members: tuple[Member, ...]  # canonical first, then in canonical order

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def aliases(self) -> list[str]:
        """Ids of the other members' records, which resolve to this dataset."""
        return [m.id for m in self.members if m.id != self.id]


def canonical_order(members: Sequence[Member]) -> list[Member]:
    """Members best first: active, then by platform rank, then first seen, then id."""
    return sorted(
        members,
        key=lambda m: (not m.active, platform_rank(m.record.pdi.source.platform), m.first_seen, m.id),
    )


def compose(members: Sequence[Member]) -> Dataset:
    """The dataset a group of members shows (``members`` non-empty)."""
    if not members:
        raise ValueError("a dataset needs at least one member")
    ordered = canonical_order(members)
    canonical = ordered[0]
    active = canonical.active
    listed = [m for m in ordered if m.active] if active else ordered
    jurisdictions: list[str] = []
    for m in listed:
        for j in m.record.pdi.jurisdictions:
            if j not in jurisdictions:
                jurisdictions.append(j)
    status = RecordStatus.ACTIVE if active else RecordStatus.WITHDRAWN
    pdi = canonical.record.pdi.model_copy(
        update={
            "sources": [m.record.pdi.source for m in listed],
            "jurisdictions": jurisdictions,
            "jurisdiction": canonical.record.pdi.jurisdiction or (jurisdictions[0] if jurisdictions else None),
            "status": status,
        }
    )
    return Dataset(
        record=canonical.record.model_copy(update={"pdi": pdi}),
        status=status,
        first_seen=min(m.first_seen for m in ordered),
        last_seen=max(m.last_seen for m in listed),
        last_changed=max(m.last_changed for m in ordered),  # a source dropping it is a change too
        members=tuple(ordered),
    )
