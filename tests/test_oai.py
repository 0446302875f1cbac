"""OAI-PMH at /oai, harvested by a real OAI-PMH client (sickle) from a real uvicorn server.

The catalog is a harvest of the whole demo seed (every jurisdiction's sources, from the portal
simulator, with small portals so it takes seconds). Every response a test reads is validated
against the official OAI-PMH schema (tests/oai_xsd.py says how, and what for DDI).
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from lxml import etree
from sickle import Sickle
from sickle.oaiexceptions import NoRecordsMatch

from api.app import create_app
from api.oai import tokens
from api.oai.dc import DC_NS, OAI_DC_NS
from api.oai.ddi import DDI_NS
from api.oai.formats import MappingContext
from api.oai.protocol import OAI_NS, SET_SPEC, IdentifierScheme
from api.oai.responses import Repository, respond
from catalog.vocabulary import Category, RecordStatus
from harvesters.http import HttpClient
from index.sqlite_fts import SqliteFtsIndex
from pdi.runtime import jurisdiction_lookup, rebuild_index
from scheduler.run import HarvestRun
from simulator.server import PortalSimulator
from store import Store
from tests.factories import make_record
from tests.live_server import serve
from tests.oai_xsd import validate, validate_lax_payload

NS = {"o": OAI_NS, "oai_dc": OAI_DC_NS, "dc": DC_NS, "ddi": DDI_NS}
PAGE = 40  # PDI_OAI_PAGE_SIZE of the fixture: the catalog spans several pages
REPOSITORY = "pdi-catalog.local"


@dataclass
class Catalog:
    url: str
    store: Store
    total: int  # /api/search's total

    def identifier(self, record_id: str) -> str:
        return f"oai:{REPOSITORY}:{record_id}"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory, seed):
    from pdi.settings import load_settings

    data = tmp_path_factory.mktemp("oai")
    settings = load_settings(data_dir=data, oai_page_size=PAGE)
    store = Store(settings.store_url)
    store.create_schema()
    lookup = jurisdiction_lookup(seed)
    with PortalSimulator(seed, seed_number=3, datasets_per_portal=(12, 24)) as sim:
        summary = HarvestRun(store, None, lookup, HttpClient(route=sim.route)).run(seed.sources())
    assert summary.sources_failed == 0 and summary.sources_ok == len(seed.sources())
    assert summary.records_new > 5 * PAGE
    index = SqliteFtsIndex(data / "index.sqlite")
    rebuild_index(store, index, lookup)
    with serve(create_app(settings, store, index, seed)) as url:
        total = requests.get(f"{url}/api/search", params={"size": 1}, timeout=30).json()["total"]
        assert total == summary.records_new
        yield Catalog(url=url, store=store, total=total)
    index.close()
    store.close()


def oai(base: str, params: Any, *, method: str = "GET", lax: bool = False) -> etree._Element:
    """One OAI-PMH request over HTTP; the response must be valid before anything else is read."""
    if method == "GET":
        r = requests.get(f"{base}/oai", params=params, timeout=30)
    else:
        r = requests.post(f"{base}/oai", data=params, timeout=30)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/xml")
    (validate_lax_payload if lax else validate)(r.content)
    return etree.fromstring(r.content)


def harvest(base: str, verb: str, **params: Any) -> tuple[list[Any], list[bytes]]:
    """Everything sickle harvests with ``verb``, and every raw response page it read."""
    pages: list[bytes] = []
    client = Sickle(f"{base}/oai", hooks={"response": [lambda r, *a, **k: pages.append(r.content)]}, timeout=30)
    return list(getattr(client, verb)(**params)), pages


def error_code(doc: etree._Element) -> str | None:
    err = doc.find("o:error", NS)
    return None if err is None else err.get("code")


def active_ids(store: Store) -> set[str]:
    return {s.record.id for s in store.iter_records(status=RecordStatus.ACTIVE)}


# ---- a real harvester syncs the whole catalog ------------------------------------------------


@pytest.mark.parametrize(("prefix", "check"), [("oai_dc", validate), ("oai_ddi25", validate_lax_payload)])
def test_sickle_syncs_the_whole_catalog_with_the_search_total(catalog, prefix, check):
    records, pages = harvest(catalog.url, "ListRecords", metadataPrefix=prefix, ignore_deleted=True)
    assert len(records) == catalog.total
    assert {r.header.identifier for r in records} == {catalog.identifier(i) for i in active_ids(catalog.store)}
    assert all(not r.header.deleted and r.metadata for r in records)
    assert len(pages) == math.ceil(catalog.total / PAGE)
    for page in pages:
        check(page)


def test_sickle_lists_every_identifier(catalog):
    headers, pages = harvest(catalog.url, "ListIdentifiers", metadataPrefix="oai_dc", ignore_deleted=True)
    assert len(headers) == catalog.total
    assert len({h.identifier for h in headers}) == catalog.total
    assert len(pages) == math.ceil(catalog.total / (5 * PAGE))  # identifiers come 5 times as many per page
    for page in pages:
        validate(page)


@pytest.mark.parametrize(
    ("set_spec", "search"),
    [
        ("jurisdiction:seattle-wa", {"jurisdiction": "seattle-wa"}),
        ("jurisdiction:hampton-va", {"jurisdiction": "hampton-va"}),  # a statewide portal's records too
        ("category:use_of_force", {"category": "use_of_force"}),
        ("category:calls_for_service", {"category": "calls_for_service"}),
        ("jurisdiction", {}),
    ],
)
def test_a_set_selects_what_search_finds_with_that_filter(catalog, set_spec, search):
    expected = requests.get(f"{catalog.url}/api/search", params={**search, "size": 1}, timeout=30).json()["total"]
    assert expected > 0
    headers, pages = harvest(catalog.url, "ListIdentifiers", metadataPrefix="oai_dc", set=set_spec)
    assert len(headers) == expected
    for h in headers:
        assert any(spec == set_spec or spec.startswith(f"{set_spec}:") for spec in h.setSpecs)
    for page in pages:
        validate(page)


# ---- the verbs ---------------------------------------------------------------------------------


def test_identify(catalog):
    doc = oai(catalog.url, {"verb": "Identify"})
    ident = doc.find("o:Identify", NS)
    assert ident.findtext("o:baseURL", namespaces=NS) == f"{catalog.url}/oai"
    assert ident.findtext("o:protocolVersion", namespaces=NS) == "2.0"
    assert ident.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    assert ident.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert ident.findtext("o:adminEmail", namespaces=NS) == f"admin@{REPOSITORY}"
    earliest = min(s.last_changed for s in catalog.store.iter_records())
    assert ident.findtext("o:earliestDatestamp", namespaces=NS) == earliest.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert doc.find("o:request", NS).attrib == {"verb": "Identify"}


def test_list_metadata_formats(catalog):
    any_id = catalog.identifier(next(iter(active_ids(catalog.store))))
    for params in ({"verb": "ListMetadataFormats"}, {"verb": "ListMetadataFormats", "identifier": any_id}):
        doc = oai(catalog.url, params)
        formats = {
            f.findtext("o:metadataPrefix", namespaces=NS): f.findtext("o:metadataNamespace", namespaces=NS)
            for f in doc.iterfind("o:ListMetadataFormats/o:metadataFormat", NS)
        }
        assert formats == {"oai_dc": OAI_DC_NS, "oai_ddi25": DDI_NS}


def test_list_sets_names_every_jurisdiction_and_category(catalog, seed):
    doc = oai(catalog.url, {"verb": "ListSets"})
    specs = [s.findtext("o:setSpec", namespaces=NS) for s in doc.iterfind("o:ListSets/o:set", NS)]
    assert len(specs) == len(set(specs))
    assert set(specs) == {
        "jurisdiction",
        "category",
        *(f"jurisdiction:{j.id}" for j in seed),
        *(f"category:{c.value}" for c in Category),
    }
    assert all(SET_SPEC.match(s) for s in specs)
    names = {
        s.findtext("o:setSpec", namespaces=NS): s.findtext("o:setName", namespaces=NS)
        for s in doc.iterfind("o:ListSets/o:set", NS)
    }
    assert names["jurisdiction:seattle-wa"] == "Seattle, WA (Seattle Police Department)"
    assert names["category:use_of_force"] == "Use of force"


def _with_columns(store: Store):
    return next(
        s.record
        for s in store.iter_records(status=RecordStatus.ACTIVE)
        if s.record.pdi.columns and s.record.pdi.record_count
    )


def test_get_record_in_dublin_core(catalog):
    record = _with_columns(catalog.store)
    doc = oai(
        catalog.url, {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": catalog.identifier(record.id)}
    )
    rec = doc.find("o:GetRecord/o:record", NS)
    assert rec.findtext("o:header/o:identifier", namespaces=NS) == catalog.identifier(record.id)
    assert rec.find("o:header", NS).get("status") is None
    dc = rec.find("o:metadata/oai_dc:dc", NS)

    def values(name: str) -> list[str]:
        return [e.text for e in dc.iterfind(f"dc:{name}", NS)]

    assert values("title") == [record.title]
    assert values("type") == ["Dataset"]
    assert values("identifier") == [record.landingPage]
    assert values("publisher") == [record.publisher.name]
    assert set(record.keyword) <= set(values("subject"))
    assert {c.replace("_", " ").capitalize() for c in record.pdi.category_ids} <= set(values("subject"))
    labels = jurisdiction_lookup_labels(record.pdi.jurisdictions)
    assert labels <= set(values("coverage"))
    assert {d.downloadURL or d.accessURL for d in record.distribution} == set(values("relation"))
    specs = [e.text for e in rec.iterfind("o:header/o:setSpec", NS)]
    assert specs == [f"jurisdiction:{j}" for j in record.pdi.jurisdictions] + [
        f"category:{c}" for c in record.pdi.category_ids
    ]


def jurisdiction_lookup_labels(ids: list[str]) -> set[str]:
    from catalog_seed import load_seed

    lookup = jurisdiction_lookup(load_seed())
    return {f"{lookup[j].name}, {lookup[j].state}" for j in ids}


def test_get_record_in_ddi_has_the_columns_as_variables(catalog):
    record = _with_columns(catalog.store)
    params = {"verb": "GetRecord", "metadataPrefix": "oai_ddi25", "identifier": catalog.identifier(record.id)}
    doc = oai(catalog.url, params, lax=True)
    book = doc.find("o:GetRecord/o:record/o:metadata/ddi:codeBook", NS)
    assert book.get("version") == "2.5"
    assert [etree.QName(c).localname for c in book] == ["stdyDscr", "fileDscr", "dataDscr"]
    assert book.findtext("ddi:stdyDscr/ddi:citation/ddi:titlStmt/ddi:titl", namespaces=NS) == record.title
    assert book.findtext("ddi:stdyDscr/ddi:stdyInfo/ddi:abstract", namespaces=NS)
    assert book.findtext("ddi:fileDscr/ddi:fileTxt/ddi:dimensns/ddi:caseQnty", namespaces=NS) == str(
        record.pdi.record_count
    )
    variables = book.findall("ddi:dataDscr/ddi:var", NS)
    assert [v.get("name") for v in variables] == [c.field_name or c.name for c in record.pdi.columns]
    assert [v.findtext("ddi:labl", namespaces=NS) for v in variables] == [c.name for c in record.pdi.columns]
    file_id = book.find("ddi:fileDscr", NS).get("ID")
    assert {v.get("files") for v in variables} == {file_id}
    for var, column in zip(variables, record.pdi.columns, strict=True):
        fmt = var.find("ddi:varFormat", NS)
        assert fmt.get("type") in ("numeric", "character")
        assert fmt.get("formatname") == column.type
    kinds = {
        c.type: v.find("ddi:varFormat", NS).get("type") for v, c in zip(variables, record.pdi.columns, strict=True)
    }
    assert kinds.get("number", "numeric") == "numeric" and kinds.get("text", "character") == "character"


def test_post_answers_as_get(catalog):
    params = {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "jurisdiction:seattle-wa"}
    a, b = oai(catalog.url, params), oai(catalog.url, params, method="POST")
    ids = [[e.text for e in d.iterfind("o:ListIdentifiers/o:header/o:identifier", NS)] for d in (a, b)]
    assert ids[0] == ids[1] and ids[0]


# ---- resumption tokens ---------------------------------------------------------------------------


def test_resumption_tokens_page_with_complete_list_size_and_cursor(catalog):
    doc = oai(catalog.url, {"verb": "ListRecords", "metadataPrefix": "oai_dc"})
    now = datetime.now(UTC)
    pages: list[tuple[int, int]] = []
    ids: list[str] = []
    while True:
        token = doc.find("o:ListRecords/o:resumptionToken", NS)
        ids += [e.text for e in doc.iterfind("o:ListRecords/o:record/o:header/o:identifier", NS)]
        pages.append((int(token.get("cursor")), len(doc.findall("o:ListRecords/o:record", NS))))
        assert int(token.get("completeListSize")) == catalog.total
        if not token.text:  # the last page: an empty token, and no expiry
            assert token.get("expirationDate") is None
            break
        expires = datetime.strptime(token.get("expirationDate"), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert now + timedelta(hours=23) < expires <= now + timedelta(hours=24, minutes=1)
        doc = oai(catalog.url, {"verb": "ListRecords", "resumptionToken": token.text})
        assert doc.find("o:request", NS).attrib == {"verb": "ListRecords", "resumptionToken": token.text}
    assert [cursor for cursor, _ in pages] == list(range(0, catalog.total, PAGE))
    assert sum(n for _, n in pages) == catalog.total == len(set(ids))


def _first_token(catalog, verb: str = "ListRecords") -> str:
    doc = oai(catalog.url, {"verb": verb, "metadataPrefix": "oai_dc"})
    return doc.findtext(f"o:{verb}/o:resumptionToken", namespaces=NS)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_a_tampered_expired_or_foreign_token_is_a_bad_resumption_token(catalog):
    token = _first_token(catalog)
    payload, tag = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["c"] = 0  # move the cursor, keep the tag
    forged = f"{_b64(json.dumps(body, separators=(',', ':')).encode())}.{tag}"
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    now = datetime.now(UTC)
    expired = tokens.encode(replace(tokens.decode(token, "ListRecords", now), expires=now - timedelta(seconds=1)))
    cases = {
        "forged": (forged, "altered"),
        "flipped": (flipped, "altered"),
        "cut short": (token[: len(token) // 2], "not one of ours"),
        "garbage": ("hello", "not one of ours"),
        "expired": (expired, "expired"),
    }
    for name, (value, why) in cases.items():
        doc = oai(catalog.url, {"verb": "ListRecords", "resumptionToken": value})
        assert error_code(doc) == "badResumptionToken", name
        assert why in doc.findtext("o:error", namespaces=NS), name
    # a ListRecords token does not continue ListIdentifiers
    doc = oai(catalog.url, {"verb": "ListIdentifiers", "resumptionToken": token})
    assert error_code(doc) == "badResumptionToken"
    # the genuine token still works
    doc = oai(catalog.url, {"verb": "ListRecords", "resumptionToken": token})
    assert error_code(doc) is None and doc.find("o:ListRecords/o:record", NS) is not None


# ---- errors --------------------------------------------------------------------------------------

ANY = "{any}"  # replaced by the identifier of a dataset in the catalog
ERRORS = [
    ([], "badVerb"),
    ([("verb", "ListStuff")], "badVerb"),
    ([("verb", "Identify"), ("verb", "Identify")], "badVerb"),
    ([("verb", "Identify"), ("metadataPrefix", "oai_dc")], "badArgument"),
    ([("verb", "ListRecords")], "badArgument"),
    ([("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("metadataPrefix", "oai_dc")], "badArgument"),
    ([("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2026-13-45")], "badArgument"),
    ([("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2026-01-01T00:00:00")], "badArgument"),
    (
        [
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("from", "2026-01-01"),
            ("until", "2026-02-01T00:00:00Z"),
        ],
        "badArgument",
    ),
    (
        [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2026-02-01"), ("until", "2026-01-01")],
        "badArgument",
    ),
    ([("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("resumptionToken", "x")], "badArgument"),
    ([("verb", "ListRecords"), ("metadataPrefix", "oai dc")], "badArgument"),
    ([("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc"), ("set", "jurisdiction::x")], "badArgument"),
    ([("verb", "GetRecord"), ("metadataPrefix", "oai_dc")], "badArgument"),
    ([("verb", "GetRecord"), ("metadataPrefix", "oai_dc"), ("identifier", "no spaces allowed")], "badArgument"),
    ([("verb", "ListRecords"), ("resumptionToken", "not-a-token")], "badResumptionToken"),
    ([("verb", "ListSets"), ("resumptionToken", "x")], "badResumptionToken"),
    ([("verb", "ListRecords"), ("metadataPrefix", "marc21")], "cannotDisseminateFormat"),
    ([("verb", "ListIdentifiers"), ("metadataPrefix", "marc21")], "cannotDisseminateFormat"),
    ([("verb", "GetRecord"), ("metadataPrefix", "marc21"), ("identifier", ANY)], "cannotDisseminateFormat"),
    (
        [("verb", "GetRecord"), ("metadataPrefix", "oai_dc"), ("identifier", f"oai:{REPOSITORY}:no-such")],
        "idDoesNotExist",
    ),
    ([("verb", "GetRecord"), ("metadataPrefix", "oai_dc"), ("identifier", "oai:elsewhere.org:x")], "idDoesNotExist"),
    ([("verb", "ListMetadataFormats"), ("identifier", f"oai:{REPOSITORY}:no-such")], "idDoesNotExist"),
    ([("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2999-01-01")], "noRecordsMatch"),
    ([("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("until", "2000-01-01T00:00:00Z")], "noRecordsMatch"),
    ([("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc"), ("set", "jurisdiction:gotham-nj")], "noRecordsMatch"),
    ([("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc"), ("set", "colour:blue")], "noRecordsMatch"),
]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(("params", "code"), ERRORS, ids=lambda p: str(p) if isinstance(p, str) else None)
def test_protocol_errors(catalog, params, code, method):
    any_id = catalog.identifier(next(iter(active_ids(catalog.store))))
    params = [(k, any_id if v == ANY else v) for k, v in params]
    doc = oai(catalog.url, params, method=method)
    assert error_code(doc) == code
    assert doc.findtext("o:error", namespaces=NS)
    request = doc.find("o:request", NS)
    assert request.text == f"{catalog.url}/oai"
    if code in ("badVerb", "badArgument"):
        assert request.attrib == {}  # the protocol forbids echoing arguments then
    else:
        assert request.attrib == dict(params)


def test_sickle_reports_no_records_match(catalog):
    with pytest.raises(NoRecordsMatch):
        harvest(catalog.url, "ListRecords", metadataPrefix="oai_dc", **{"from": "2999-01-01"})


# ---- portal text is escaped ------------------------------------------------------------------------


def test_portal_text_is_escaped_and_made_xml_safe(store, seed):
    hostile = 'Use of Force <b>&amp; "Shootings"</b> \x00\x0b\x1f ]]>'
    record = make_record(
        "x1", hostile, description="<script>alert(1)</script> use of force & more", columns=["Date <b>", "Q&A"]
    )
    store.upsert_record(
        record, source_url="https://x.invalid", raw_content={}, fetched_at=datetime.now(UTC), run_id=None
    )
    repo = Repository(
        store=store,
        seed=seed,
        context=MappingContext(jurisdiction_lookup(seed)),
        identifiers=IdentifierScheme(REPOSITORY),
        base_url="http://127.0.0.1/oai",
        admin_email=f"admin@{REPOSITORY}",
        page_size=10,
    )
    identifier = f"oai:{REPOSITORY}:{record.id}"
    dc_doc = respond(repo, [("verb", "GetRecord"), ("metadataPrefix", "oai_dc"), ("identifier", identifier)])
    validate(dc_doc)
    tree = etree.fromstring(dc_doc)
    title = tree.findtext(".//dc:title", namespaces=NS)
    assert title == 'Use of Force <b>&amp; "Shootings"</b> \ufffd\ufffd\ufffd ]]>'
    description = tree.findtext(".//dc:description", namespaces=NS)
    assert description == "alert(1) use of force & more"
    assert not tree.xpath("//*[local-name()='script' or local-name()='b']")
    ddi_doc = respond(repo, [("verb", "GetRecord"), ("metadataPrefix", "oai_ddi25"), ("identifier", identifier)])
    validate_lax_payload(ddi_doc)
    tree = etree.fromstring(ddi_doc)
    assert tree.findtext(".//ddi:titl", namespaces=NS) == title
    assert [v.findtext("ddi:labl", namespaces=NS) for v in tree.iterfind(".//ddi:var", NS)] == ["Date <b>", "Q&A"]


def test_validation_is_not_vacuous():
    """The validators used above do reject what the schemas forbid."""
    doc = (
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-01-01T00:00:00Z</responseDate>'
        '<request verb="GetRecord">http://x/oai</request><GetRecord><record><header><identifier>oai:a.b:c</identifier>'
        "<datestamp>2026-01-01T00:00:00Z</datestamp></header><metadata>{}</metadata></record></GetRecord></OAI-PMH>"
    )
    good_dc = f'<oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}"><dc:title>t</dc:title></oai_dc:dc>'
    bad_dc = f'<oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}"><dc:colour>t</dc:colour></oai_dc:dc>'
    ddi = f'<codeBook xmlns="{DDI_NS}"><stdyDscr/></codeBook>'
    validate(doc.format(good_dc).encode())
    validate_lax_payload(doc.format(ddi).encode())
    for bad, check in ((doc.format(bad_dc), validate), (doc.format(bad_dc), validate_lax_payload)):
        with pytest.raises(Exception, match="colour"):
            check(bad.encode())
    with pytest.raises(Exception):  # noqa: B017 - any validation error: strict needs the DDI schema
        validate(doc.format(ddi).encode())
    broken_envelope = doc.format(ddi).replace("<datestamp>2026-01-01T00:00:00Z", "<datestamp>yesterday")
    with pytest.raises(Exception, match="datestamp"):
        validate_lax_payload(broken_envelope.encode())


def test_openapi_documents_the_sync_endpoints(catalog):
    doc = requests.get(f"{catalog.url}/openapi.json", timeout=30).json()
    assert set(doc["paths"]["/oai"]) == {"get", "post"}
    assert "resumptionToken" in doc["paths"]["/oai"]["get"]["description"]
    changes = doc["paths"]["/api/changes"]["get"]
    assert "withdrawn" in changes["description"] and {p["name"] for p in changes["parameters"]} == {
        "since",
        "cursor",
        "size",
    }


# ---- settings: the public address and the repository identifier --------------------------------------


def test_public_url_sets_the_base_url_and_the_repository_identifier(tmp_path, store, embedded_index, seed):
    from fastapi.testclient import TestClient

    from pdi.settings import load_settings

    rec = make_record("x1", "Use of Force Incidents")
    store.upsert_record(rec, source_url="https://x.invalid", raw_content={}, fetched_at=datetime.now(UTC), run_id=None)
    settings = load_settings(data_dir=tmp_path, public_url="https://pdi.example.org/")
    assert (settings.oai_repository, settings.oai_admin) == ("pdi.example.org", "admin@pdi.example.org")
    with TestClient(create_app(settings, store, embedded_index, seed)) as client:
        doc = client.get("/oai", params={"verb": "Identify"}).content
        validate(doc)
        assert etree.fromstring(doc).findtext(".//o:baseURL", namespaces=NS) == "https://pdi.example.org/oai"
        doc = client.get("/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}).content
        assert etree.fromstring(doc).findtext(".//o:identifier", namespaces=NS) == f"oai:pdi.example.org:{rec.id}"
    # an explicit identifier wins; an address that is no domain name falls back to the default
    assert load_settings(public_url="https://a.example.org", oai_repository_id="b.example.org").oai_repository == (
        "b.example.org"
    )
    assert load_settings(public_url="http://127.0.0.1:8000").oai_repository == REPOSITORY


@pytest.mark.parametrize(
    "overrides",
    [
        {"public_url": "pdi.example.org"},
        {"public_url": "ftp://pdi.example.org"},
        {"public_url": "https://pdi.example.org/?x=1"},
        {"oai_repository_id": "localhost"},
        {"oai_repository_id": "pdi catalog.org"},
        {"oai_admin_email": "nobody"},
        {"oai_page_size": 0},
    ],
)
def test_bad_sync_settings_are_refused(settings, overrides):  # settings: clears PDI_* variables
    from pdi.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match=f"PDI_{next(iter(overrides)).upper()}"):
        load_settings(**overrides)
