"""harvesters.fanout.ordered_map: order, bounded look-ahead, errors where they belong."""

from __future__ import annotations

import threading
import time

import pytest

from harvesters.fanout import ordered_map


def test_results_come_in_input_order_with_calls_overlapping():
    running, peak, lock = 0, 0, threading.Lock()

    def slow(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02 if n % 2 else 0.005)  # odd items finish later than the even ones after them
        with lock:
            running -= 1
        return n * n

    assert list(ordered_map(slow, range(20), workers=3)) == [n * n for n in range(20)]
    assert 2 <= peak <= 3


def test_look_ahead_is_bounded():
    pulled = 0

    def items():
        nonlocal pulled
        for n in range(1000):
            pulled += 1
            yield n

    results = ordered_map(lambda n: n, items(), workers=2)
    assert next(results) == 0
    assert pulled <= 2 * 2  # never more than 2 x workers in flight ahead of the consumer
    results.close()


def test_an_error_of_the_items_comes_after_the_results_before_it():
    def items():
        yield from range(5)
        raise RuntimeError("page 2 failed")

    got: list[int] = []
    with pytest.raises(RuntimeError, match="page 2 failed"):
        for n in ordered_map(lambda n: n + 1, items(), workers=2):
            got.append(n)
    assert got == [1, 2, 3, 4, 5]


def test_an_error_of_the_function_is_raised_at_its_place():
    def f(n: int) -> int:
        if n == 3:
            raise ValueError("bad 3")
        return n

    got: list[int] = []
    with pytest.raises(ValueError, match="bad 3"):
        for n in ordered_map(f, range(10), workers=2):
            got.append(n)
    assert got == [0, 1, 2]


def test_one_worker_is_a_plain_map():
    assert list(ordered_map(str, [1, 2], workers=1)) == ["1", "2"]
