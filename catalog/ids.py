"""Stable identifiers: the same dataset from the same source gets the same id on every harvest."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlsplit

_NON_SLUG = re.compile(r"[^a-z0-9]+")
MAX_ID_LENGTH = 120


def _slug(text: str) -> str:
    return _NON_SLUG.sub("-", text.lower()).strip("-")


def _readable_remote(remote_id: str) -> str:
    """The telling part of a remote id that is a URL (Hub identifiers are item URLs): its ``id``-like
    query values, else its last path segments. The hash in :func:`record_id` keeps it unique."""
    if not remote_id.startswith(("http://", "https://")):
        return remote_id
    parts = urlsplit(remote_id)
    values = [v for _, v in parse_qsl(parts.query) if v]
    if values:
        return "-".join(values)
    segments = [s for s in parts.path.split("/") if s]
    return "-".join(segments[-2:]) or parts.netloc


def source_id(platform: str, url: str) -> str:
    """Our id of a harvestable endpoint: ``<platform>:<host><path>`` (scheme and query dropped)."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    return f"{platform}:{parts.netloc.lower()}{path}"


def record_id(source: str, remote_id: str) -> str:
    """A record id from its source id and the portal's own id of the dataset.

    Readable (``data-seattle-gov--3k2p-39jp-5c1e0a9b``), URL-safe and stable across harvests: the
    host and the slugged remote id, then 8 hex digits of a hash of the exact (source, remote id)
    pair, so two sources on one host, or two remote ids that slug alike, never collide. Past
    ``MAX_ID_LENGTH`` the readable part is cut.
    """
    host_part = _slug(source.split(":", 1)[-1].split("/", 1)[0]) or "source"
    remote_slug = _slug(_readable_remote(remote_id)) or "dataset"
    digest = hashlib.sha1(f"{source}\x00{remote_id}".encode(), usedforsecurity=False).hexdigest()[:8]
    readable = f"{host_part}--{remote_slug}"[: MAX_ID_LENGTH - 9].rstrip("-")
    return f"{readable}-{digest}"
