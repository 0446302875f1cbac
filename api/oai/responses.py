"""Answering an OAI-PMH request: one handler per verb (a table, not a ladder), each building its part
of the response under one envelope. Everything is built with lxml, so portal text is escaped by the
serializer and never concatenated into markup."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from api.oai import dc, tokens
from api.oai.formats import MappingContext, MetadataFormat
from api.oai.protocol import (
    GRANULARITY,
    OAI_NS,
    OAI_SCHEMA,
    XSI_NS,
    ErrorCode,
    IdentifierScheme,
    OaiError,
    Request,
    Verb,
    Window,
    datestamp,
    parse_request,
    window,
)
from api.oai.registry import FORMATS
from api.oai.sets import all_sets, facet_filter, set_specs
from catalog.vocabulary import RecordStatus
from catalog_seed import Seed
from store import FacetFilter, Store, StoredRecord

REPOSITORY_NAME = "PDI Catalog: police open data of the Police Data Initiative jurisdictions"
IDENTIFIERS_PER_RECORD = 5  # a ListIdentifiers page holds this many times the records of a ListRecords page


@dataclass(frozen=True)
class Repository:
    """What answering needs: the store, the seed, and the repository's own settings."""

    store: Store
    seed: Seed
    context: MappingContext
    identifiers: IdentifierScheme
    base_url: str
    admin_email: str
    page_size: int
    formats: Mapping[str, MetadataFormat] = field(default_factory=lambda: FORMATS)


def _oai(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{OAI_NS}}}{name}")
    if text is not None:
        element.text = text
    return element


def respond(repo: Repository, pairs: list[tuple[str, str]], now: datetime | None = None) -> bytes:
    """The complete OAI-PMH response document to a request given as (name, value) pairs."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    root = etree.Element(f"{{{OAI_NS}}}OAI-PMH", nsmap={None: OAI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
    _oai(root, "responseDate", datestamp(now))
    request_el = _oai(root, "request", repo.base_url)
    try:
        request = parse_request(pairs)
        for name, value in (("verb", request.verb.value), *sorted(request.args.items())):
            request_el.set(name, value)
        root.append(HANDLERS[request.verb](repo, request, now))
    except OaiError as error:
        if not error.echoes_arguments:
            request_el.attrib.clear()
        err = _oai(root, "error", error.message)
        err.set("code", error.code.value)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


# ---- the verbs ---------------------------------------------------------------------------


def identify(repo: Repository, request: Request, now: datetime) -> etree._Element:
    el = etree.Element(f"{{{OAI_NS}}}Identify")
    _oai(el, "repositoryName", REPOSITORY_NAME)
    _oai(el, "baseURL", repo.base_url)
    _oai(el, "protocolVersion", "2.0")
    _oai(el, "adminEmail", repo.admin_email)
    _oai(el, "earliestDatestamp", datestamp(repo.store.earliest_change() or now))
    # Withdrawn datasets are kept, marked withdrawn, for good: deletions are persistent.
    _oai(el, "deletedRecord", "persistent")
    _oai(el, "granularity", GRANULARITY)
    return el


def list_metadata_formats(repo: Repository, request: Request, now: datetime) -> etree._Element:
    if "identifier" in request.args:
        _stored(repo, request.args["identifier"])  # idDoesNotExist; every format applies to every record
    el = etree.Element(f"{{{OAI_NS}}}ListMetadataFormats")
    for fmt in repo.formats.values():
        item = _oai(el, "metadataFormat")
        _oai(item, "metadataPrefix", fmt.prefix)
        _oai(item, "schema", fmt.schema)
        _oai(item, "metadataNamespace", fmt.namespace)
    return el


def list_sets(repo: Repository, request: Request, now: datetime) -> etree._Element:
    if "resumptionToken" in request.args:
        # Every set fits in one response, so no token was ever issued for ListSets.
        raise OaiError(ErrorCode.BAD_RESUMPTION_TOKEN, "ListSets is answered in one response; no token applies")
    el = etree.Element(f"{{{OAI_NS}}}ListSets")
    for oai_set in all_sets(repo.seed):
        item = _oai(el, "set")
        _oai(item, "setSpec", oai_set.spec)
        _oai(item, "setName", oai_set.name)
        if oai_set.description:
            desc = _oai(item, "setDescription")
            dc_el = etree.SubElement(desc, f"{{{dc.OAI_DC_NS}}}dc", nsmap={"oai_dc": dc.OAI_DC_NS, "dc": dc.DC_NS})
            dc_el.set(f"{{{XSI_NS}}}schemaLocation", f"{dc.OAI_DC_NS} {dc.OAI_DC_SCHEMA}")
            etree.SubElement(dc_el, f"{{{dc.DC_NS}}}description").text = oai_set.description
    return el


def get_record(repo: Repository, request: Request, now: datetime) -> etree._Element:
    stored = _stored(repo, request.args["identifier"])
    fmt = _format(repo, request.args["metadataPrefix"])
    el = etree.Element(f"{{{OAI_NS}}}GetRecord")
    el.append(_record(repo, stored, fmt))
    return el


def list_identifiers(repo: Repository, request: Request, now: datetime) -> etree._Element:
    return _list(repo, request, now, headers_only=True)


def list_records(repo: Repository, request: Request, now: datetime) -> etree._Element:
    return _list(repo, request, now, headers_only=False)


HANDLERS: dict[Verb, Callable[[Repository, Request, datetime], etree._Element]] = {
    Verb.IDENTIFY: identify,
    Verb.LIST_METADATA_FORMATS: list_metadata_formats,
    Verb.LIST_SETS: list_sets,
    Verb.GET_RECORD: get_record,
    Verb.LIST_IDENTIFIERS: list_identifiers,
    Verb.LIST_RECORDS: list_records,
}


# ---- lists and records ----------------------------------------------------------------------


def _list(repo: Repository, request: Request, now: datetime, *, headers_only: bool) -> etree._Element:
    """A page of a list in change order (last_changed, id), with a resumptionToken when more
    follow. Records changed while a harvester pages move to the end of the order, so a harvest
    that follows its tokens to the end misses none."""
    verb = request.verb.value
    token = None
    if "resumptionToken" in request.args:
        token = tokens.decode(request.args["resumptionToken"], verb, now)
        prefix, set_spec, span = token.metadata_prefix, token.set_spec, token.window
    else:
        prefix, set_spec, span = request.args["metadataPrefix"], request.args.get("set"), window(request.args)
    fmt = _format(repo, prefix)
    facets: list[FacetFilter] = [facet_filter(set_spec, repo.seed)] if set_spec else []
    size = repo.page_size * (IDENTIFIERS_PER_RECORD if headers_only else 1)
    rows = repo.store.changes(
        since=span.since, before=span.before, after=token.after if token else None, facets=facets, limit=size + 1
    )
    more, rows = len(rows) > size, rows[:size]
    if not rows:
        raise OaiError(ErrorCode.NO_RECORDS_MATCH, "no records match these arguments")
    el = etree.Element(f"{{{OAI_NS}}}{verb}")
    for stored in rows:
        el.append(_header(repo, stored) if headers_only else _record(repo, stored, fmt))
    cursor = token.cursor if token else 0
    if more or token is not None:
        total = repo.store.count_changes(since=span.since, before=span.before, facets=facets)
        el.append(_resumption(verb, prefix, set_spec, span, rows, cursor, total, more, now))
    return el


def _resumption(
    verb: str,
    prefix: str,
    set_spec: str | None,
    span: Window,
    page: list[StoredRecord],
    cursor: int,
    total: int,
    more: bool,
    now: datetime,
) -> etree._Element:
    el = etree.Element(f"{{{OAI_NS}}}resumptionToken")
    # The list can grow while it is paged (records changed meanwhile are listed again at its end).
    el.set("completeListSize", str(max(total, cursor + len(page))))
    el.set("cursor", str(cursor))
    if more:  # the last page carries an empty token: the list is complete
        expires = now + tokens.TOKEN_LIFETIME
        el.set("expirationDate", datestamp(expires))
        el.text = tokens.encode(
            tokens.ResumptionToken(
                verb=verb,
                metadata_prefix=prefix,
                set_spec=set_spec,
                window=span,
                after=page[-1].change_key,
                cursor=cursor + len(page),
                expires=expires,
            )
        )
    return el


def _header(repo: Repository, stored: StoredRecord) -> etree._Element:
    el = etree.Element(f"{{{OAI_NS}}}header")
    if stored.status is RecordStatus.WITHDRAWN:
        el.set("status", "deleted")
    _oai(el, "identifier", repo.identifiers.identifier(stored.record.id))
    _oai(el, "datestamp", datestamp(stored.last_changed))
    for spec in set_specs(stored.record):
        _oai(el, "setSpec", spec)
    return el


def _record(repo: Repository, stored: StoredRecord, fmt: MetadataFormat) -> etree._Element:
    el = etree.Element(f"{{{OAI_NS}}}record")
    el.append(_header(repo, stored))
    if stored.status is not RecordStatus.WITHDRAWN:  # a deleted record has a header only
        _oai(el, "metadata").append(fmt.build(stored.record, repo.context))
    return el


def _format(repo: Repository, prefix: str) -> MetadataFormat:
    fmt = repo.formats.get(prefix)
    if fmt is None:
        known = ", ".join(repo.formats)
        raise OaiError(ErrorCode.CANNOT_DISSEMINATE_FORMAT, f"no metadata format {prefix!r}; known: {known}")
    return fmt


def _stored(repo: Repository, identifier: str) -> StoredRecord:
    record_id = repo.identifiers.record_id(identifier)
    stored = repo.store.get(record_id) if record_id is not None and len(record_id) <= 200 else None
    if stored is None:
        raise OaiError(ErrorCode.ID_DOES_NOT_EXIST, f"no record has the identifier {identifier[:200]!r}")
    return stored
