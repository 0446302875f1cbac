"""Several requests of one source at once, within the per-host limit.

A source reads its catalog from one or two hosts, and the HTTP layer lets ``per_host_concurrency``
requests run at once on each. A harvester that fetches one document at a time uses one of those
slots; :func:`ordered_map` lets it use them all without giving up order or bounded memory.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int, ahead: int = 0) -> Iterator[R]:
    """``map(fn, items)`` with up to ``workers`` calls running at once, results in input order.

    At most ``max(2 * workers, ahead)`` calls are started ahead of the consumer (a consumer that
    sometimes stalls, waiting on a lock to write, gets a deeper buffer with ``ahead``), so memory
    stays bounded however many items there are. An exception of ``fn`` is raised where its result would have been. When
    ``items`` itself raises (a gather that fails part-way), the results of the items it gave before
    are yielded first, then its exception. A consumer that stops early cancels the calls not yet
    started; the ones running are waited for.
    """
    if workers <= 1:
        yield from map(fn, items)
        return
    window: deque[Future[R]] = deque()
    source = iter(items)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pdi-fanout") as pool:
        try:
            while True:
                try:
                    item = next(source)
                except StopIteration:
                    break
                except Exception:
                    while window:
                        yield window.popleft().result()
                    raise
                window.append(pool.submit(fn, item))
                if len(window) >= max(2 * workers, ahead):
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:
            for future in window:
                future.cancel()
