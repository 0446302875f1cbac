"""Opening the parts a command or the API needs, from settings: seed, store, index."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from catalog.vocabulary import FreshnessStatus
from catalog_seed import Seed, load_seed
from harvesters.http import HttpClient, HttpSettings
from index.base import IndexDocument, SearchIndex
from index.documents import JurisdictionInfo, to_document
from index.sqlite_fts import SqliteFtsIndex
from pdi.settings import Settings, SettingsError
from store import Store
from store.coverage import freshness_statuses
from store.store import RecordStatus, StoreHttpCache


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
    return {
        j.id: JurisdictionInfo(
            id=j.id,
            name=j.name,
            state=j.state,
            agency=j.agency,
            committed=tuple(c.value for c in j.committed_categories),
        )
        for j in seed
    }


def open_index(settings: Settings) -> SearchIndex:
    """The embedded index by default; Elasticsearch when ``PDI_INDEX_URL`` is an http(s) URL."""
    url = settings.index_url
    if url is None or url.startswith("sqlite:"):
        path = settings.index_path if url is None else url.removeprefix("sqlite:///").removeprefix("sqlite:")
        return SqliteFtsIndex(path)
    if url.startswith(("http://", "https://")):
        from index.elasticsearch import ElasticsearchIndex

        return ElasticsearchIndex(url, alias=settings.index_name)
    raise SettingsError(
        f"PDI_INDEX_URL={url!r}: expected an Elasticsearch URL (http://host:9200) or sqlite:///path, or unset"
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
    now: datetime | None = None,
) -> tuple[int, int, float]:
    """Rebuild the index from the store (no re-harvest) with no downtime: searches see the old
    index until the new one is complete; freshness as of ``now`` (default the clock). Returns
    (indexed, failed, seconds)."""
    started = time.monotonic()
    count = 0
    statuses = freshness_statuses(store, now or datetime.now(UTC))

    def documents() -> Iterator[IndexDocument]:
        nonlocal count
        for stored in store.iter_datasets(status=RecordStatus.ACTIVE):
            yield to_document(stored.record, jurisdictions, statuses.get(stored.record.id, FreshnessStatus.UNKNOWN))
            count += 1
            if progress and count % 1000 == 0:
                progress(count)

    report = index.rebuild(documents())
    return report.indexed, len(report.failed), time.monotonic() - started


def harvest_parts(
    settings: Settings, http_settings: HttpSettings, route_base: str | None
) -> tuple[Store, SearchIndex, HttpClient]:
    """A store, index and HTTP client for a harvest shard in another process (see
    :class:`scheduler.run.Shards`): the same as this process's, opened again there. Requests go to
    the simulator at ``route_base`` when given (the demo)."""
    from simulator.server import route_url

    store = Store(settings.store_url)
    route = partial(route_url, route_base) if route_base else None
    return store, open_index(settings), HttpClient(http_settings, route=route, cache=StoreHttpCache(store))
