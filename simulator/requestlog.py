"""What the simulator was asked, so tests can assert what a harvester fetched."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestRecord:
    """One request: method, portal host, path after the host, query string, status, fault served,
    and ``at``, when it was answered (``time.monotonic()``), so tests can measure a client's waits."""

    method: str
    host: str
    path: str
    query: str
    status: int
    fault: str | None = None
    at: float = field(default_factory=time.monotonic, compare=False)

    @property
    def target(self) -> str:
        """``/<host><path>?<query>`` as requested."""
        return f"/{self.host}{self.path}" + (f"?{self.query}" if self.query else "")


class RequestLog:
    """A bounded, thread-safe log of requests."""

    def __init__(self, limit: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._records: deque[RequestRecord] = deque(maxlen=limit)

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def records(self, host: str | None = None, path_contains: str | None = None) -> list[RequestRecord]:
        with self._lock:
            records = list(self._records)
        return [
            r
            for r in records
            if (host is None or r.host == host) and (path_contains is None or path_contains in r.target)
        ]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
