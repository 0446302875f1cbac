"""A request as the platform shapes see it, and the reply they give back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

JSON_TYPE = "application/json; charset=utf-8"
PAGING_PARAMS = ("offset", "start", "startindex", "page", "scroll_id", "resultOffset")


@dataclass(frozen=True)
class SimRequest:
    """One request to one portal: ``path`` is what follows ``/<host>`` in the URL."""

    method: str
    host: str
    path: str
    params: dict[str, list[str]]  # query string merged with a form or JSON body
    base_url: str  # http://127.0.0.1:PORT as the client addressed us (Host header)
    json_body: Any = None
    looping: bool = False  # served the ``paging_loop`` fault: paged or walked listings repeat themselves

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of a parameter."""
        values = self.params.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """Every value of a parameter; ``ids=a,b`` counts as two."""
        out: list[str] = []
        for value in self.params.get(name, []) + self.params.get(f"{name}[]", []):
            out += [v for v in value.split(",") if v]
        return out

    def link(self, path: str) -> str:
        """An absolute URL on this portal's simulated site: ``http://127.0.0.1:PORT/<host><path>``."""
        return f"{self.base_url}/{self.host}{path}"

    def first_page(self) -> SimRequest:
        """The same request with every paging parameter removed (the ``paging_loop`` fault).

        Directories that are walked rather than paged (ArcGIS Server folders) read ``looping``
        and list themselves again instead.
        """
        params = {k: v for k, v in self.params.items() if k not in PAGING_PARAMS}
        return replace(self, params=params, looping=True)


@dataclass
class Reply:
    """What a platform shape answers: a JSON payload, or raw bytes with their content type.

    ``document`` names the document kind (``socrata.catalog``, ``ckan.package_search`` …) so the
    schema-drift fault knows what to bend.
    """

    status: int = 200
    payload: Any = None
    body: bytes | None = None
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    document: str = ""

    def encode(self) -> bytes:
        if self.body is not None:
            return self.body
        return json.dumps(self.payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error(status: int, payload: Any, document: str = "error") -> Reply:
    return Reply(status=status, payload=payload, document=document)
