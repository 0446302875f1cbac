"""The crawl process the department-page gathers of one harvest process share.

Scrapy runs on Twisted, whose reactor cannot be restarted inside a process, so crawls run in a
process of their own: ``python -m harvesters.html_crawl --serve`` (see
:func:`harvesters.html_crawl.serve`). Starting one such process per crawl cost each crawl the start
of a Python interpreter and the import of Scrapy and Twisted — about 0.7 s of CPU for a page of a
few requests, most of a department page's cost in a harvest. :class:`CrawlWorker` starts the
process on first use, sends it every crawl of this process as one JSON line, runs them side by
side and hands each caller its own answer; the harvest process itself never loads Twisted.

- A crawl that does not finish in time is cancelled; if the process does not end it within
  :data:`CANCEL_GRACE_S` (a page that does not answer holds Scrapy until its download timeout), the
  process is killed, and the other crawls it was running are sent once more to a new process.
- A process that dies fails the crawls it was running, with its exit status and last stderr line;
  the next crawl starts a new one.
- After :data:`IDLE_S` without crawls the process is told to end (a scheduler between runs
  keeps no idle Scrapy process), and it ends when this process does.
"""

from __future__ import annotations

import atexit
import json
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import IO, Any

#: seconds a cancelled crawl gets to stop before its process is killed
CANCEL_GRACE_S = 5.0
#: seconds without crawls after which the crawl process is told to end
IDLE_S = 60.0


@dataclass
class CrawlResult:
    """What one crawl ended with: the exit status a crawl of its own would have had (0 whole, 2
    start page unreadable, 3 not whole, 1 anything else), its JSON summary and what went wrong."""

    status: int
    summary: dict[str, Any] = field(default_factory=dict)
    message: str | None = None


@dataclass
class _Waiting:
    process: subprocess.Popen[str]
    done: threading.Event = field(default_factory=threading.Event)
    result: CrawlResult | None = None
    culprit: bool = False  # cancelled for running too long
    bystander: bool = False  # its process was killed for another crawl


class CrawlWorker:
    """One ``html_crawl --serve`` process, started when first needed; thread-safe."""

    def __init__(self, command: list[str] | None = None, idle_s: float = IDLE_S) -> None:
        self.command = command or [sys.executable, "-m", "harvesters.html_crawl", "--serve"]
        self.idle_s = idle_s
        self.started = 0  # processes started so far
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._waiting: dict[int, _Waiting] = {}
        self._next_id = 0
        self._stderr: dict[int, deque[str]] = {}
        self._idle: threading.Timer | None = None
        atexit.register(self.close)

    @property
    def pid(self) -> int | None:
        """The running crawl process's id, if one runs."""
        with self._lock:
            return self._process.pid if self._process is not None else None

    def crawl(self, url: str, out: str, options: dict[str, Any], limit_s: float) -> CrawlResult:
        """Crawl ``url`` into the JSON lines file ``out``; waits at most ``limit_s`` seconds for it
        (then cancels it: status 1). A crawl whose process was killed for another crawl's sake is
        sent once more to a new process, within what is left of ``limit_s``."""
        deadline = time.monotonic() + limit_s
        while True:
            result, bystander = self._crawl_once(url, out, options, limit_s, max(0.0, deadline - time.monotonic()))
            if not bystander or time.monotonic() >= deadline:
                return result
            bystander = False  # once

    def _crawl_once(
        self, url: str, out: str, options: dict[str, Any], limit_s: float, left_s: float
    ) -> tuple[CrawlResult, bool]:
        """One try: the result, and whether the process died of another crawl (worth one more)."""
        with self._lock:
            if self._idle is not None:
                self._idle.cancel()
                self._idle = None
            process = self._running()
            self._next_id += 1
            ident = self._next_id
            waiting = self._waiting[ident] = _Waiting(process)
            job = {"id": ident, "url": url, "out": out, "options": options}
            if not self._send(process, job):
                del self._waiting[ident]
                return CrawlResult(1, message=f"the crawl process could not be reached ({self._ended(process)})"), False
        if waiting.done.wait(left_s):
            assert waiting.result is not None
            return waiting.result, waiting.bystander
        # Cancel it; a crawl waiting on a page that does not answer cannot be stopped from inside
        # Scrapy before its download timeout, so the process is killed after a short grace, and
        # the other crawls it was running go to a new process.
        with self._lock:
            self._send(process, {"cancel": ident})
            waiting.culprit = True
        if not waiting.done.wait(CANCEL_GRACE_S):
            self._kill(process, f"a crawl did not stop within {CANCEL_GRACE_S:.0f} s of being cancelled")
            waiting.done.wait(CANCEL_GRACE_S)
        return CrawlResult(1, message=f"the crawl did not finish within {limit_s:.0f} s"), False

    def close(self) -> None:
        """Tell the crawl process to end (it finishes the crawls it runs) and wait a little."""
        with self._lock:
            process, self._process = self._process, None
            if self._idle is not None:
                self._idle.cancel()
                self._idle = None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=CANCEL_GRACE_S)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()

    # ---- internals (the callers hold self._lock where noted) ----------------------------------

    def _running(self) -> subprocess.Popen[str]:
        """The live crawl process, started if there is none (lock held)."""
        if self._process is not None and self._process.poll() is None:
            return self._process
        process = subprocess.Popen(  # noqa: S603 - our own module under this interpreter
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self.started += 1
        self._process = process
        self._stderr[process.pid] = deque(maxlen=20)
        threading.Thread(target=self._read_replies, args=(process,), name="pdi-crawl-replies", daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(process,), name="pdi-crawl-stderr", daemon=True).start()
        return process

    @staticmethod
    def _send(process: subprocess.Popen[str], message: dict[str, Any]) -> bool:
        """Write one job line (lock held); False when the process no longer reads."""
        try:
            assert process.stdin is not None
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()
        except (OSError, ValueError):  # a broken pipe, or stdin already closed
            return False
        return True

    def _read_replies(self, process: subprocess.Popen[str]) -> None:
        stdout: IO[str] | None = process.stdout
        assert stdout is not None
        for line in stdout:
            try:
                reply = json.loads(line)
            except ValueError:
                continue  # not a reply (a library printing to stdout): ignored
            if not isinstance(reply, dict):
                continue
            with self._lock:
                ident = reply.get("id")
                waiting = self._waiting.pop(ident, None) if isinstance(ident, int) else None
                if waiting is not None:
                    status = reply.get("status")
                    summary = reply.get("summary")
                    message = reply.get("message")
                    waiting.result = CrawlResult(
                        status if isinstance(status, int) else 1,
                        summary if isinstance(summary, dict) else {},
                        message if isinstance(message, str) else None,
                    )
                    waiting.done.set()
                self._schedule_idle()
        process.wait()
        with self._lock:
            reason = f"the crawl process ended ({self._ended(process)})"
            mine = [self._waiting.pop(i) for i, w in list(self._waiting.items()) if w.process is process]
            killed_for_one = any(w.culprit for w in mine)
            for waiting in mine:
                waiting.bystander = killed_for_one and not waiting.culprit
                waiting.result = CrawlResult(1, message=reason)
                waiting.done.set()
            if self._process is process:
                self._process = None
            self._stderr.pop(process.pid, None)

    def _read_stderr(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            kept = self._stderr.get(process.pid)
            if kept is not None and line.strip():
                kept.append(line.strip())

    def _ended(self, process: subprocess.Popen[str]) -> str:
        """How a crawl process ended: its exit status and last stderr line (lock held)."""
        code = process.poll()
        said = self._stderr.get(process.pid)
        last = f": {said[-1]}" if said else ""
        return f"exit status {code}{last}" if code is not None else f"not reading its jobs{last}"

    def _kill(self, process: subprocess.Popen[str], why: str) -> None:
        stderr = self._stderr.get(process.pid)
        if stderr is not None:
            stderr.append(why)
        process.kill()

    def _schedule_idle(self) -> None:
        """With no crawl running, end the process after :attr:`idle_s` without a new one (lock held)."""
        if self._waiting or self._process is None or self._idle is not None:
            return
        timer = threading.Timer(self.idle_s, self._end_if_idle, args=(self._process,))
        timer.daemon = True
        self._idle = timer
        timer.start()

    def _end_if_idle(self, process: subprocess.Popen[str]) -> None:
        with self._lock:
            if self._process is not process or self._waiting:
                return
            self._process = None
            self._idle = None
            try:
                if process.stdin is not None:
                    process.stdin.close()
            except OSError:
                pass


#: the crawl process of this (harvest) process
WORKER = CrawlWorker()
