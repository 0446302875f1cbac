"""The simulator's mutable state: the clock, each portal's catalog (generated lazily) and changes.

One re-entrant lock guards everything. Datasets are immutable, so :meth:`SimWorld.view` hands a
request a consistent snapshot cheaply and renders outside the lock.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from catalog.vocabulary import Category
from simulator.catalog import IdMaker, fill, generate_portal, tick
from simulator.dataset import FREQUENCIES, SimColumn, SimDataset
from simulator.dates import parse_now
from simulator.spec import PortalHabits, PortalSpec, habits_for, host_of
from simulator.vocab import column, kinds_by_category

#: fields a test may not change with ``update_dataset``
_FIXED = {"host", "platform", "remote_id", "position", "update_phase", "base_rows", "base_views"}
#: fields whose change is a data change, not a metadata change
_DATA_FIELDS = {"data_updated_at", "row_count", "updating", "page_views", "download_count"}


class UnknownPortal(KeyError):
    """No served portal has this host."""


class UnknownDataset(KeyError):
    """The portal has no dataset with this id."""


@dataclass(frozen=True)
class PortalView:
    """A consistent snapshot of one portal for one request."""

    spec: PortalSpec
    habits: PortalHabits
    datasets: tuple[SimDataset, ...]  # position (creation) order
    now: datetime

    def find(self, key: str) -> SimDataset | None:
        """A dataset by remote id, identifier or slug."""
        for ds in self.datasets:
            if key in (ds.remote_id, ds.identifier, ds.slug):
                return ds
        return None


class SimWorld:
    """Every served portal, its catalog and the simulated clock."""

    def __init__(self, specs: list[PortalSpec], seed_number: int, size_range: tuple[int, int], now: datetime) -> None:
        self.seed_number = seed_number
        self.size_range = size_range
        self.start = now
        self._now = now
        self._lock = threading.RLock()
        self._specs = {spec.host: spec for spec in specs}
        self._habits: dict[str, PortalHabits] = {}
        self._catalogs: dict[str, dict[str, SimDataset]] = {}
        self._added: dict[str, int] = {}

    @property
    def now(self) -> datetime:
        with self._lock:
            return self._now

    def hosts(self) -> list[str]:
        return list(self._specs)

    def spec(self, host: str) -> PortalSpec | None:
        return self._specs.get(host_of(host))

    def view(self, host: str) -> PortalView | None:
        """The portal's snapshot, or None when no portal has this host."""
        host = host_of(host)
        spec = self._specs.get(host)
        if spec is None:
            return None
        with self._lock:
            catalog = self._catalog(host)
            return PortalView(spec, self._habits[host], tuple(catalog.values()), self._now)

    def datasets(self, host: str) -> list[SimDataset]:
        view = self.view(host)
        if view is None:
            raise UnknownPortal(host)
        return list(view.datasets)

    def advance(self, days: float) -> datetime:
        if days < 0:
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            self._now += timedelta(days=days)
            for catalog in self._catalogs.values():
                for key, ds in catalog.items():
                    catalog[key] = tick(ds, self._now, self.start)
            return self._now

    def update(self, host: str, key: str, **changes: Any) -> SimDataset:
        unknown = set(changes) - {f.name for f in fields(SimDataset)}
        if unknown or _FIXED & set(changes):
            raise TypeError(f"cannot update dataset fields {sorted(unknown | (_FIXED & set(changes)))}")
        for name in ("created_at", "metadata_updated_at", "data_updated_at"):
            if isinstance(changes.get(name), str):
                changes[name] = parse_now(changes[name])
        if "columns" in changes:
            changes["columns"] = [c if isinstance(c, SimColumn) else column(str(c)) for c in changes["columns"]]
        if "categories" in changes:
            changes["categories"] = _checked_categories(changes["categories"])
        if changes.get("frequency") is not None and changes["frequency"] not in FREQUENCIES:
            raise ValueError(f"unknown frequency {changes['frequency']!r} (known: {', '.join(FREQUENCIES)})")
        with self._lock:
            catalog, ds = self._locate(host, key)
            if set(changes) - _DATA_FIELDS and "metadata_updated_at" not in changes:
                changes["metadata_updated_at"] = self._now
            new = replace(ds, **changes)
            if {"data_updated_at", "frequency", "row_count"} & set(changes):
                # the schedule restarts from the new data time
                new = replace(
                    new,
                    update_phase=new.data_updated_at if new.period else None,
                    base_rows=new.row_count,
                    rows_per_update=new.rows_per_update or max(1, new.row_count // 100),
                )
            catalog[ds.remote_id] = new
            return new

    def add(
        self,
        host: str,
        title: str,
        categories: list[str] | tuple[str, ...] = (),
        police: bool | None = None,
        **values: Any,
    ) -> str:
        cats = _checked_categories(categories)
        with self._lock:
            catalog = self._catalog(self._require(host).host)
            spec = self._specs[host_of(host)]
            n = self._added.get(spec.host, 0) + 1
            self._added[spec.host] = n
            ids = IdMaker.for_portal(random.Random(f"{self.seed_number}:{spec.host}:added:{n}"), spec, set(catalog))
            ids.slugs = {d.slug for d in catalog.values()}
            is_police = bool(cats) if police is None else police
            remote_id, identifier = ids.new(title, is_police)
            kind = kinds_by_category()[cats[0]][0] if cats else None
            cols = values.pop("columns", None)
            now = self._now
            base = SimDataset(
                host=spec.host,
                platform=spec.platform,
                remote_id=remote_id,
                identifier=identifier,
                slug=ids.slug(title),
                title=title,
                description=fill(kind.descriptions[0], spec, spec.jurisdictions[0]) if kind else f"{title}.",
                police=is_police,
                categories=cats,
                kind=kind.key if kind else "custom",
                jurisdiction=spec.jurisdictions[0].id,
                publisher=fill(kind.department, spec, spec.jurisdictions[0]) if kind else spec.place,
                domain_category=kind.domain_category if kind else "Government",
                tags=list(kind.tags) if kind else [],
                columns=[c if isinstance(c, SimColumn) else column(str(c)) for c in cols]
                if cols is not None
                else [column(c) for c in (kind.columns if kind else ("ID", "Date", "Value"))],
                frequency="monthly",
                created_at=now,
                metadata_updated_at=now,
                data_updated_at=now,
                row_count=1000,
                spatial=kind.spatial if kind else False,
                position=max((d.position for d in catalog.values()), default=-1) + 1,
                rows_per_update=50,
                base_rows=1000,
                base_views=0,
                views_per_day=5.0,
            )
            ds = replace(base, **values)
            ds = replace(ds, update_phase=ds.data_updated_at if ds.period and ds.updating else None)
            catalog[remote_id] = ds
            return remote_id

    def remove(self, host: str, key: str) -> SimDataset:
        with self._lock:
            catalog, ds = self._locate(host, key)
            del catalog[ds.remote_id]
            return ds

    def stop_updating(self, host: str, key: str) -> SimDataset:
        with self._lock:
            catalog, ds = self._locate(host, key)
            catalog[ds.remote_id] = replace(ds, updating=False, update_phase=None)
            return catalog[ds.remote_id]

    # ------------------------------------------------------------------------------------------
    def _require(self, host: str) -> PortalSpec:
        spec = self._specs.get(host_of(host))
        if spec is None:
            raise UnknownPortal(f"no simulated portal at {host!r}")
        return spec

    def _catalog(self, host: str) -> dict[str, SimDataset]:
        catalog = self._catalogs.get(host)
        if catalog is None:
            spec = self._specs[host]
            generated = generate_portal(spec, self.seed_number, self.start, self.size_range)
            catalog = {d.remote_id: tick(d, self._now, self.start) for d in generated}
            self._catalogs[host] = catalog
            self._habits[host] = habits_for(spec, self.seed_number)
        return catalog

    def _locate(self, host: str, key: str) -> tuple[dict[str, SimDataset], SimDataset]:
        catalog = self._catalog(self._require(host).host)
        ds = catalog.get(key)
        if ds is None:
            ds = next((d for d in catalog.values() if key in (d.identifier, d.slug)), None)
        if ds is None:
            raise UnknownDataset(f"{host_of(host)} has no dataset {key!r}")
        return catalog, ds


def _checked_categories(values: list[str] | tuple[str, ...]) -> list[str]:
    known = {c.value for c in Category}
    bad = [str(v) for v in values if str(v) not in known]
    if bad:
        raise ValueError(f"unknown categories {bad}")
    return [str(v) for v in values]
