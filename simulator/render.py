"""Small pieces every platform shape needs: stable derived ids, licenses, sample rows."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from simulator.dataset import SimDataset

#: our license keys -> (label, URL, CKAN license_id)
LICENSES: dict[str, tuple[str, str, str]] = {
    "public-domain": ("Public Domain", "https://creativecommons.org/publicdomain/mark/1.0/", "other-pd"),
    "cc-by-4.0": (
        "Creative Commons Attribution 4.0 International",
        "https://creativecommons.org/licenses/by/4.0/",
        "cc-by",
    ),
    "odc-pddl": (
        "Open Data Commons Public Domain Dedication and License",
        "http://opendefinition.org/licenses/odc-pddl/",
        "odc-pddl",
    ),
    "cc0-1.0": (
        "Creative Commons 1.0 Universal (Public Domain Dedication)",
        "https://creativecommons.org/publicdomain/zero/1.0/",
        "cc-zero",
    ),
    "": ("License not specified", "", "notspecified"),
}


def stable_int(*parts: object) -> int:
    """A large int fixed by ``parts`` (never Python's salted ``hash``)."""
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big")


def stable_uuid(*parts: object) -> str:
    """A uuid fixed by ``parts``, for ids a platform derives (resources, organisations, tags)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "\x1f".join(str(p) for p in parts)))


def fourby(*parts: object) -> str:
    """A Socrata-style ``abcd-1234`` id fixed by ``parts``."""
    alphabet = "23456789abcdefghijkmnpqrstuvwxyz"
    n = stable_int(*parts)
    chars = []
    for _ in range(8):
        n, r = divmod(n, len(alphabet))
        chars.append(alphabet[r])
    return "".join(chars[:4]) + "-" + "".join(chars[4:])


def sample_rows(ds: SimDataset, count: int) -> list[dict[str, Any]]:
    """A few made-up rows in the dataset's columns, for download links and SODA previews."""
    rows = []
    for i in range(count):
        row: dict[str, Any] = {}
        for col in ds.columns:
            n = stable_int(ds.remote_id, col.field_name, i)
            if col.datatype == "number":
                row[col.field_name] = str(n % 1000)
            elif col.datatype == "calendar_date":
                row[col.field_name] = f"2026-{1 + n % 10:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00.000"
            elif col.datatype == "checkbox":
                row[col.field_name] = bool(n % 2)
            elif col.datatype in ("point", "location"):
                row[col.field_name] = {
                    "type": "Point",
                    "coordinates": [-120 + (n % 4000) / 100, 30 + (n % 1500) / 100],
                }
            else:
                row[col.field_name] = f"{col.name} {n % 97}"
        rows.append(row)
    return rows


def socrata_words(text: str) -> str:
    """``Use of Force (2019)`` -> ``Use-of-Force-2019`` as in Socrata dataset links."""
    words = "".join(ch if ch.isalnum() else " " for ch in text).split()
    return "-".join(words) or "dataset"
