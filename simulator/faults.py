"""Named faults the simulator can serve, and the book of which requests get which.

A fault is armed for a host (or every host with ``"*"``), optionally only for paths containing a
string, for a number of requests or until cleared. A request may also pick a fault by URL:
``/_fault/<name>/<host>/...`` serves that one request with the fault, without arming anything.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from simulator.spec import host_of


class Fault(StrEnum):
    """What can go wrong at a real portal."""

    TIMEOUT = "timeout"  # answer only after ``fault_delay_s`` (longer than a client's timeout)
    SERVER_ERROR = "500"  # an HTML 500 page
    RATE_LIMITED = "429"  # 429 with ``Retry-After: 1``
    MALFORMED = "malformed"  # 200 with a body that is not valid JSON
    TRUNCATED = "truncated"  # Content-Length larger than the body, then the connection closes
    PAGING_LOOP = "paging_loop"  # every page is the first page
    OVERSIZE = "oversize"  # a huge body, streamed (chunked, no Content-Length)
    SCHEMA_DRIFT = "schema_drift"  # fields renamed or missing


@dataclass
class FaultRule:
    host: str  # "*" for every host
    fault: Fault
    remaining: int | None  # None: until cleared
    path_contains: str | None

    def matches(self, host: str, target: str) -> bool:
        if self.host not in ("*", host):
            return False
        return self.path_contains is None or self.path_contains in target


class FaultBook:
    """The armed faults; thread-safe. The first matching rule wins and is counted down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def inject(
        self, host: str, fault: str | Fault, count: int | None = None, path_contains: str | None = None
    ) -> FaultRule:
        try:
            kind = Fault(str(fault))
        except ValueError:
            known = ", ".join(f.value for f in Fault)
            raise ValueError(f"unknown fault {fault!r} (known: {known})") from None
        if count is not None and count < 1:
            raise ValueError("count must be at least 1 (or None for until cleared)")
        rule = FaultRule("*" if host == "*" else host_of(host), kind, count, path_contains)
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(self, host: str, target: str) -> Fault | None:
        """The fault this request gets, if any, counting it against its rule."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(host, target):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._rules.remove(rule)
                    return rule.fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def armed(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)


def malformed(body: bytes) -> bytes:
    """A body that starts like the real one and is not valid JSON."""
    return body[: max(1, len(body) // 2)] + b'\n<html><body>upstream error</body></html>\n{"'


def oversize_chunks(total: int, chunk: int = 256 * 1024) -> Iterator[bytes]:
    """About ``total`` bytes of a JSON-looking document, produced a chunk at a time."""
    head, tail = b'{"results":[', b'{"end":true}]}'
    yield head
    sent = len(head) + len(tail)
    filler = b'{"padding":"' + b"x" * (chunk - 16) + b'"},'
    while sent + len(filler) <= total:
        yield filler
        sent += len(filler)
    yield tail
