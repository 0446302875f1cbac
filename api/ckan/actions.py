"""The CKAN action API subset: what ``ckanapi`` and CKAN's own harvester call to sync from us.

Each action is a plain function ``(context, data_dict) -> result`` registered by name; the HTTP
layer (:mod:`api.ckan.routes`) wraps results and errors in CKAN's envelope. Actions read the
search index for what to list (so counts agree with ``/api/search``) and the store for the full
records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from api.ckan.package import (
    category_title,
    group_dict,
    name_prefix,
    organization_dict,
    package_dict,
    package_name,
)
from api.ckan.query import (
    FACET_FIELDS,
    MAX_ROWS,
    ParameterError,
    boolean,
    natural,
    parse_package_search,
    string_list,
)
from catalog.vocabulary import Category, RecordStatus
from catalog_seed import Jurisdiction, Seed
from index.base import SearchIndex, SearchPage, SearchQuery, SortOrder
from store import Store

LIST_BATCH = 1000
ACTIVE = {"status": ["active"]}


@dataclass(frozen=True)
class Context:
    store: Store
    index: SearchIndex
    seed: Seed
    api_url: str  # our base URL, without a trailing slash

    @property
    def jurisdictions(self) -> dict[str, Jurisdiction]:
        return {j.id: j for j in self.seed}


class CkanError(Exception):
    """An error CKAN would answer with: ``__type``, HTTP status, message and per-field messages."""

    status = 400
    type = "Bad Request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}

    def body(self) -> dict[str, Any]:
        return {"__type": self.type, **self.fields, "message": self.message}


class NotFound(CkanError):
    status = 404
    type = "Not Found Error"


class ValidationError(CkanError):
    status = 409  # what CKAN answers a Validation Error with
    type = "Validation Error"

    @classmethod
    def of(cls, exc: ParameterError) -> ValidationError:
        return cls(str(exc), {exc.field: [exc.message]})


Action = Callable[[Context, dict[str, Any]], Any]
ACTIONS: dict[str, Action] = {}


def action(fn: Action) -> Action:
    """Register ``fn`` under its name; its docstring is what ``help_show`` and the OpenAPI say."""
    name = getattr(fn, "__name__", "")
    if name in ACTIONS:
        raise ValueError(f"CKAN action {name!r} registered twice")
    ACTIONS[name] = fn
    return fn


def _required(data: dict[str, Any], *names: str) -> str:
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    raise ParameterError(names[0], "Missing value")


def _facet_counts(ctx: Context, facet: str) -> dict[str, int]:
    page = ctx.index.search(SearchQuery(filters=ACTIVE, size=0, facet_size=10_000))
    return {f.value: f.count for f in page.facets.get(facet, [])}


def _display(ctx: Context, field: str, value: str) -> str:
    if field == "organization":
        j = ctx.seed.get(value)
        return f"{j.name}, {j.state}" if j else value
    if field == "groups" and value in Category.__members__.values():
        return category_title(value)
    return value


def _facets(ctx: Context, page: SearchPage, fields: list[str], mincount: int) -> tuple[dict[str, Any], dict[str, Any]]:
    facets: dict[str, Any] = {}
    search_facets: dict[str, Any] = {}
    for name in fields:
        values = [f for f in page.facets.get(FACET_FIELDS[name], []) if f.count >= mincount]
        facets[name] = {f.value: f.count for f in values}
        search_facets[name] = {
            "title": name,
            "items": [
                {"name": f.value, "display_name": _display(ctx, name, f.value), "count": f.count} for f in values
            ],
        }
    return facets, search_facets


def _packages(ctx: Context, ids: list[str]) -> list[dict[str, Any]]:
    records = ctx.store.get_many(ids)
    jurisdictions = ctx.jurisdictions
    return [
        package_dict(records[i], jurisdictions, ctx.api_url)
        for i in ids
        if i in records and records[i].status is RecordStatus.ACTIVE
    ]


@action
def package_search(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Search the catalog's active datasets; answers ``{count, sort, facets, search_facets, results}``.

    Parameters: ``q`` (words; ``*:*`` for all), ``fq`` (filters: ``organization:<jurisdiction id>``,
    ``groups:<PDI category>``, ``tags:<keyword>``, ``res_format:<format>``, ``state:active``,
    ``metadata_modified:[<ISO date> TO *]``; values of one field joined with ``OR``; anything else
    is a Validation Error), ``fq_list``, ``rows`` (default 10, at most 1000), ``start`` (offset),
    ``sort`` (``score desc``, ``metadata_modified desc``, ``name asc`` or ``id asc``),
    ``facet.field`` (JSON list of ``organization``, ``groups``, ``tags``, ``res_format``),
    ``facet.limit`` (default 50, -1 for all), ``facet.mincount``.
    """
    ps = parse_package_search(data)
    page = ctx.index.search(ps.query)
    facets, search_facets = _facets(ctx, page, ps.facet_fields, ps.facet_mincount)
    return {
        "count": page.total,
        "sort": ps.sort,
        "facets": facets,
        "search_facets": search_facets,
        "results": _packages(ctx, [h.id for h in page.hits]),
    }


def _resolve(ctx: Context, name_or_id: str) -> str | None:
    """The record id of a package id or name, or None."""
    stored = ctx.store.get(name_or_id)
    if stored is not None:
        return name_or_id
    prefix = name_prefix(name_or_id)
    if prefix is None:
        return None
    return next((i for i in ctx.store.ids_starting_with(prefix) if package_name(i) == name_or_id), None)


@action
def package_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """One dataset as a CKAN package dict. Parameters: ``id`` (its id or name)."""
    wanted = _required(data, "id", "name_or_id")
    record_id = _resolve(ctx, wanted) if len(wanted) <= 200 else None
    stored = ctx.store.get(record_id) if record_id else None
    if stored is None:
        raise NotFound(f"Not found: no dataset with id or name {wanted!r}")
    if stored.status is not RecordStatus.ACTIVE:
        raise NotFound(f"Not found: dataset {wanted!r} was withdrawn (it is no longer at its portal)")
    return package_dict(stored, ctx.jurisdictions, ctx.api_url)


@action
def package_list(ctx: Context, data: dict[str, Any]) -> list[str]:
    """The names of every active dataset, in id order. Parameters: ``limit``, ``offset``."""
    limit = natural(data, "limit", -1) if data.get("limit") not in (None, "") else None
    offset = natural(data, "offset", 0)
    names: list[str] = []
    query = SearchQuery(filters=ACTIVE, sort=SortOrder.ID, size=LIST_BATCH, offset=offset, facet_size=0)
    while limit is None or len(names) < limit:
        if limit is not None:
            query = replace(query, size=min(LIST_BATCH, limit - len(names)))
        page = ctx.index.search(query)
        names += [package_name(h.id) for h in page.hits]
        if page.next_cursor is None:
            break
        query = replace(query, offset=0, cursor=page.next_cursor)
    return names


def _sorted(items: list[dict[str, Any]], sort: Any) -> list[dict[str, Any]]:
    text = " ".join(str(sort or "title asc").lower().split())
    key, _, direction = text.partition(" ")
    if key not in ("name", "title", "package_count") or direction not in ("", "asc", "desc"):
        raise ParameterError("sort", f"cannot sort by {sort!r}; use name, title or package_count with asc or desc")
    return sorted(items, key=lambda d: (d[key], d["name"]), reverse=direction == "desc")


def _listing(items: list[dict[str, Any]], data: dict[str, Any], selector: str) -> list[Any]:
    wanted = set(string_list(data, selector))
    if wanted:
        items = [d for d in items if d["name"] in wanted]
    items = _sorted(items, data.get("sort"))
    offset = natural(data, "offset", 0)
    limit = natural(data, "limit", len(items))
    items = items[offset : offset + limit]
    if not boolean(data, "all_fields", False):
        return [d["name"] for d in items]
    if not boolean(data, "include_dataset_count", True):
        for d in items:
            d.pop("package_count", None)
    return items


@action
def organization_list(ctx: Context, data: dict[str, Any]) -> list[Any]:
    """The participating jurisdictions, one organization each (named by jurisdiction id).

    Parameters: ``all_fields`` (dicts with ``package_count`` instead of names), ``sort``
    (``title asc`` by default; ``name`` or ``package_count``, ``asc`` or ``desc``), ``limit``,
    ``offset``, ``organizations`` (only these names).
    """
    counts = _facet_counts(ctx, "jurisdiction")
    return _listing([organization_dict(j, counts.get(j.id, 0)) for j in ctx.seed], data, "organizations")


def _with_datasets(ctx: Context, data: dict[str, Any], out: dict[str, Any], fq: str) -> dict[str, Any]:
    if boolean(data, "include_datasets", False):
        found = package_search(ctx, {"fq": fq, "rows": MAX_ROWS, "sort": "name asc"})
        out["packages"] = found["results"]
    return out


@action
def organization_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """One jurisdiction as an organization. Parameters: ``id``; ``include_datasets`` (up to 1000)."""
    wanted = _required(data, "id")
    j = ctx.seed.get(wanted)
    if j is None:
        raise NotFound(f"Not found: no organization {wanted!r}; see organization_list")
    out = organization_dict(j, _facet_counts(ctx, "jurisdiction").get(j.id, 0))
    return _with_datasets(ctx, data, out, f"organization:{j.id}")


@action
def group_list(ctx: Context, data: dict[str, Any]) -> list[Any]:
    """The PDI categories, one group each (named by category id). Parameters as organization_list,
    with ``groups`` to select."""
    counts = _facet_counts(ctx, "category")
    return _listing([group_dict(c.value, counts.get(c.value, 0)) for c in Category], data, "groups")


@action
def group_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """One PDI category as a group. Parameters: ``id``; ``include_datasets`` (up to 1000)."""
    wanted = _required(data, "id")
    if wanted not in Category.__members__.values():
        raise NotFound(f"Not found: no group {wanted!r}; see group_list")
    out = group_dict(wanted, _facet_counts(ctx, "category").get(wanted, 0))
    return _with_datasets(ctx, data, out, f"groups:{wanted}")


@action
def help_show(ctx: Context, data: dict[str, Any]) -> str:
    """What an action does and takes. Parameters: ``name``."""
    wanted = _required(data, "name")
    fn = ACTIONS.get(wanted)
    if fn is None:
        raise NotFound(f"Not found: no action {wanted!r}; known: {', '.join(sorted(ACTIONS))}")
    return " ".join((fn.__doc__ or "").split())
