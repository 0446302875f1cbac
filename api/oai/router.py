"""The ``/oai`` endpoint: GET with a query string or POST with a form body, as the protocol allows.

Protocol errors are OAI-PMH ``<error>`` elements in an HTTP 200 response, as the protocol says, not
the JSON errors of ``/api/*``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import get_state
from api.oai.formats import MappingContext
from api.oai.protocol import IdentifierScheme
from api.oai.responses import Repository, respond
from pdi.runtime import jurisdiction_lookup

router = APIRouter()

MAX_BODY = 64 * 1024
DESCRIPTION = """
OAI-PMH 2.0 repository of the catalog's datasets. Verbs: `Identify`, `ListMetadataFormats`,
`ListSets`, `GetRecord`, `ListIdentifiers`, `ListRecords`.

- Metadata formats: `oai_dc` (Dublin Core) and `oai_ddi25` (DDI Codebook 2.5, the dataset's columns
  as variables).
- Sets: `jurisdiction:<id>` (e.g. `jurisdiction:seattle-wa`) and `category:<id>` (e.g.
  `category:use_of_force`), under the parent sets `jurisdiction` and `category`.
- Identifiers: `oai:<repository identifier>:<dataset id>` (`PDI_OAI_REPOSITORY_ID`).
- Datestamps are the time a record last changed in the catalog (new, changed, withdrawn), at
  second granularity; `from`/`until` select on them.
- Withdrawn datasets are listed with `<header status="deleted">` for good (`deletedRecord`:
  persistent).
- Lists are paged with `resumptionToken` (with `completeListSize` and `cursor`); tokens expire
  after 24 hours.

Errors are the protocol's own codes in an HTTP 200 XML response.
"""


def _repository(request: Request, base_url: str) -> Repository:
    state = get_state(request)
    settings = state.settings
    return Repository(
        store=state.store,
        seed=state.seed,
        context=MappingContext(jurisdiction_lookup(state.seed)),
        identifiers=IdentifierScheme(settings.oai_repository),
        base_url=base_url,
        admin_email=settings.oai_admin,
        page_size=settings.oai_page_size,
    )


async def oai(request: Request) -> Response:
    pairs = list(request.query_params.multi_items())
    if request.method == "POST":
        body = await request.body()
        pairs = parse_qsl(body[:MAX_BODY].decode("utf-8", errors="replace"), keep_blank_values=True)
    settings = get_state(request).settings
    base_url = f"{settings.public_url}/oai" if settings.public_url else str(request.url.replace(query="", fragment=""))
    document = await run_in_threadpool(respond, _repository(request, base_url), pairs)
    return Response(content=document, media_type="text/xml; charset=utf-8")


_WHERE = {"GET": "arguments in the query string", "POST": "arguments as a form body"}
for _method in ("GET", "POST"):  # one operation each, so each has its own OpenAPI operation id
    router.add_api_route(
        "/oai",
        oai,
        methods=[_method],
        operation_id=f"oai_{_method.lower()}",
        tags=["sync"],
        summary=f"OAI-PMH 2.0 repository (oai_dc, DDI Codebook 2.5), {_WHERE[_method]}",
        description=DESCRIPTION,
        response_class=Response,
        responses={200: {"description": "an OAI-PMH response document", "content": {"text/xml": {}}}},
    )
