"""Finds the harvester modules of this package and imports them so that they register.

Every module of ``harvesters`` that is not infrastructure is a platform module; a new platform is
a new file and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil

import harvesters

INFRASTRUCTURE = {"base", "builtin", "registry", "http", "runner", "detect", "convert", "html_crawl", "fanout"}

for _info in pkgutil.iter_modules(harvesters.__path__):
    if _info.name not in INFRASTRUCTURE and not _info.name.startswith("_"):
        importlib.import_module(f"harvesters.{_info.name}")
