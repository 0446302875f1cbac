"""Dependencies routes declare: the store, the index, the seed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request

from catalog_seed import Seed
from index.base import SearchIndex
from pdi.settings import Settings
from store import Store


@dataclass
class AppState:
    settings: Settings
    store: Store
    index: SearchIndex
    seed: Seed
    # starts a harvest now of the given sources (None: all); set by the process that can harvest
    trigger: Callable[[list[str] | None], dict[str, Any]] | None = None
    # "now" for freshness (statuses change with time); tests pass a fixed or simulated clock
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.pdi
    return state


def get_store(request: Request) -> Store:
    return get_state(request).store


def get_index(request: Request) -> SearchIndex:
    return get_state(request).index


def get_seed(request: Request) -> Seed:
    return get_state(request).seed


def get_clock(request: Request) -> Callable[[], datetime]:
    return get_state(request).clock
