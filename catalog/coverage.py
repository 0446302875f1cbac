"""Coverage: what each jurisdiction committed to publish, what it publishes, and how fresh it is.

A pure function of the seed's commitments and the records' freshness at one moment. One cell per
jurisdiction × category:

* ``committed`` — the jurisdiction's seed entry commits it to the category;
* ``published`` — its active police records with the category (withdrawn ones are gone);
* ``fresh`` / ``overdue`` / ``delinquent`` — how many of those have that freshness status.

A record counts once per cell. Every release of a series is a record of its own and counts in
``published``; only the latest release of a series can be stale (older ones are final and count as
fresh), so a series that stopped counts once in ``overdue``/``delinquent``. A record listed under
several jurisdictions (a statewide portal's) counts in each one's cells, and once in the totals.
``missing`` is the number of commitments with nothing published.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from catalog.vocabulary import Category, FreshnessStatus


@dataclass(frozen=True)
class Commitments:
    """A jurisdiction as coverage sees it: who it is and the categories it committed to."""

    id: str
    name: str
    state: str
    committed: tuple[str, ...]


@dataclass(frozen=True)
class RecordState:
    """One active police record at one moment."""

    id: str
    jurisdictions: tuple[str, ...]
    categories: tuple[str, ...]
    status: FreshnessStatus


def category_label(category: str) -> str:
    """``use_of_force`` → ``Use of force``."""
    words = category.replace("_", " ")
    return words[:1].upper() + words[1:]


@dataclass
class _Tally:
    published: set[str] = field(default_factory=set)
    fresh: set[str] = field(default_factory=set)
    overdue: set[str] = field(default_factory=set)
    delinquent: set[str] = field(default_factory=set)

    def add(self, record: RecordState) -> None:
        self.published.add(record.id)
        if record.status is FreshnessStatus.FRESH:
            self.fresh.add(record.id)
        elif record.status is FreshnessStatus.OVERDUE:
            self.overdue.add(record.id)
        elif record.status is FreshnessStatus.DELINQUENT:
            self.delinquent.add(record.id)

    def counts(self) -> dict[str, int]:
        return {
            "published": len(self.published),
            "fresh": len(self.fresh),
            "overdue": len(self.overdue),
            "delinquent": len(self.delinquent),
        }


def compute_coverage(
    jurisdictions: Sequence[Commitments],
    records: Iterable[RecordState],
    categories: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The coverage matrix and its totals over ``jurisdictions`` × ``categories`` (default: the
    whole vocabulary, in its order). The result is the body of ``GET /api/coverage`` less its
    ``generated_at``."""
    cats = list(categories) if categories is not None else [c.value for c in Category]
    wanted = set(cats)
    listed = {j.id for j in jurisdictions}
    cells: dict[tuple[str, str], _Tally] = {}
    per_jurisdiction: dict[str, _Tally] = {j.id: _Tally() for j in jurisdictions}
    per_category: dict[str, _Tally] = {c: _Tally() for c in cats}
    overall = _Tally()
    for record in records:
        in_cats = [c for c in dict.fromkeys(record.categories) if c in wanted]
        in_jurs = [jid for jid in dict.fromkeys(record.jurisdictions) if jid in listed]
        if not in_jurs or (categories is not None and not in_cats):
            continue
        overall.add(record)
        for c in in_cats:
            per_category[c].add(record)
        for jid in in_jurs:
            per_jurisdiction[jid].add(record)
            for c in in_cats:
                cells.setdefault((jid, c), _Tally()).add(record)

    out_jurisdictions = []
    committing: dict[str, list[str]] = {c: [] for c in cats}
    publishing: dict[str, list[str]] = {c: [] for c in cats}
    for j in jurisdictions:
        committed = [c for c in dict.fromkeys(j.committed) if c in wanted]
        row_cells = {}
        for c in cats:
            counts = (cells.get((j.id, c)) or _Tally()).counts()
            row_cells[c] = {"committed": c in committed, **counts}
            if c in committed:
                committing[c].append(j.id)
            if counts["published"]:
                publishing[c].append(j.id)
        missing = sum(1 for c in committed if not row_cells[c]["published"])
        totals = per_jurisdiction[j.id].counts()
        out_jurisdictions.append(
            {
                "id": j.id,
                "name": j.name,
                "state": j.state,
                "committed": len(committed),
                "published": totals["published"],
                "fresh": totals["fresh"],
                "overdue": totals["overdue"],
                "delinquent": totals["delinquent"],
                "missing": missing,
                "cells": row_cells,
            }
        )

    by_category = {}
    for c in cats:
        counts = per_category[c].counts()
        committed_published = len(set(committing[c]) & set(publishing[c]))
        by_category[c] = {
            "committed": len(committing[c]),
            "published": counts["published"],
            "fresh": counts["fresh"],
            "overdue": counts["overdue"],
            "delinquent": counts["delinquent"],
            "jurisdictions_published": len(publishing[c]),
            "committed_published": committed_published,
            "missing": len(committing[c]) - committed_published,
        }
    commitments = sum(v["committed"] for v in by_category.values())
    kept = sum(v["committed_published"] for v in by_category.values())
    totals = overall.counts()
    return {
        "categories": [{"id": c, "label": category_label(c)} for c in cats],
        "jurisdictions": out_jurisdictions,
        "totals": {
            "by_category": by_category,
            "overall": {
                "committed": commitments,
                "committed_published": kept,
                "missing": commitments - kept,
                **totals,
            },
        },
    }


#: columns of the CSV form of coverage, one row per jurisdiction × category
CSV_COLUMNS = (
    "jurisdiction",
    "name",
    "state",
    "category",
    "committed",
    "published",
    "fresh",
    "overdue",
    "delinquent",
)


def coverage_rows(matrix: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The matrix as rows of :data:`CSV_COLUMNS`."""
    rows = []
    for j in matrix["jurisdictions"]:
        for c in matrix["categories"]:
            cell = j["cells"][c["id"]]
            rows.append(
                (
                    j["id"],
                    j["name"],
                    j["state"],
                    c["id"],
                    "yes" if cell["committed"] else "no",
                    cell["published"],
                    cell["fresh"],
                    cell["overdue"],
                    cell["delinquent"],
                )
            )
    return rows
