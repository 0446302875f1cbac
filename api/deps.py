"""Dependencies routes declare: the store, the index, the seed."""

from __future__ import annotations

from dataclasses import dataclass

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


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.pdi
    return state


def get_store(request: Request) -> Store:
    return get_state(request).store


def get_index(request: Request) -> SearchIndex:
    return get_state(request).index


def get_seed(request: Request) -> Seed:
    return get_state(request).seed
