"""Opening the parts a command or the API needs, from settings: seed, store, index."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from catalog_seed import Seed, load_seed
from index.base import SearchIndex
from index.documents import JurisdictionInfo, to_document
from index.sqlite_fts import SqliteFtsIndex
from pdi.settings import Settings, SettingsError
from store import Store
from store.store import RecordStatus


@dataclass
class Runtime:
    settings: Settings
    seed: Seed
    store: Store
    index: SearchIndex

    @property
    def jurisdictions(self) -> dict[str, JurisdictionInfo]:
        return jurisdiction_lookup(self.seed)

    def close(self) -> None:
        self.index.close()
        self.store.close()


def jurisdiction_lookup(seed: Seed) -> dict[str, JurisdictionInfo]:
    return {j.id: JurisdictionInfo(id=j.id, name=j.name, state=j.state, agency=j.agency) for j in seed}


def open_index(settings: Settings) -> SearchIndex:
    url = settings.index_url
    if url is None or url.startswith("sqlite:"):
        path = settings.index_path if url is None else url.removeprefix("sqlite:///").removeprefix("sqlite:")
        return SqliteFtsIndex(path)
    raise SettingsError(
        f"PDI_INDEX_URL={url!r}: only the embedded index (unset, or sqlite:///path) is available in this version"
    )


def open_runtime(settings: Settings) -> Runtime:
    seed = load_seed(settings.seed_dir)
    store = Store(settings.store_url)
    store.create_schema()
    index = open_index(settings)
    return Runtime(settings=settings, seed=seed, store=store, index=index)


def rebuild_index(
    store: Store,
    index: SearchIndex,
    jurisdictions: dict[str, JurisdictionInfo],
    progress: Callable[[int], None] | None = None,
    batch: int = 500,
) -> tuple[int, int, float]:
    """Rebuild the index from the store (no re-harvest). Returns (indexed, failed, seconds)."""
    started = time.monotonic()
    index.clear()
    indexed = failed = 0
    docs = []
    for stored in store.iter_records(status=RecordStatus.ACTIVE):
        docs.append(to_document(stored.record, jurisdictions))
        if len(docs) >= batch:
            report = index.upsert(docs)
            indexed += report.indexed
            failed += len(report.failed)
            docs = []
            if progress:
                progress(indexed)
    if docs:
        report = index.upsert(docs)
        indexed += report.indexed
        failed += len(report.failed)
    return indexed, failed, time.monotonic() - started
