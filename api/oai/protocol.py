"""The OAI-PMH 2.0 protocol itself: verbs and their arguments, error codes, datestamps, identifiers.

Pure functions over request arguments; nothing here reads the store. What a bad request gets is
the protocol's own answer (an ``<error code="...">`` in an HTTP 200 response), raised here as
:class:`OaiError` and written by ``responses.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# Patterns of the OAI-PMH XSD (metadataPrefixType, setSpecType) and the oai-identifier scheme's
# local identifier characters: a value outside them could not even be echoed in a valid response.
METADATA_PREFIX = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")
SET_SPEC = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")
IDENTIFIER = re.compile(r"^[A-Za-z0-9\-_.!~*'();/?:@&=+$,%]+$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"


class ErrorCode(StrEnum):
    BAD_ARGUMENT = "badArgument"
    BAD_RESUMPTION_TOKEN = "badResumptionToken"  # noqa: S105 - a protocol error code, not a secret
    BAD_VERB = "badVerb"
    CANNOT_DISSEMINATE_FORMAT = "cannotDisseminateFormat"
    ID_DOES_NOT_EXIST = "idDoesNotExist"
    NO_METADATA_FORMATS = "noMetadataFormats"
    NO_RECORDS_MATCH = "noRecordsMatch"
    NO_SET_HIERARCHY = "noSetHierarchy"


class OaiError(Exception):
    """A protocol error: its code and a message for the harvester's operator."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def echoes_arguments(self) -> bool:
        """The protocol forbids echoing the request's arguments after badVerb and badArgument."""
        return self.code not in (ErrorCode.BAD_VERB, ErrorCode.BAD_ARGUMENT)


class Verb(StrEnum):
    IDENTIFY = "Identify"
    LIST_METADATA_FORMATS = "ListMetadataFormats"
    LIST_SETS = "ListSets"
    GET_RECORD = "GetRecord"
    LIST_IDENTIFIERS = "ListIdentifiers"
    LIST_RECORDS = "ListRecords"


@dataclass(frozen=True)
class Arguments:
    """The arguments a verb takes: required, optional, and the exclusive resumptionToken."""

    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    resumable: bool = False

    @property
    def allowed(self) -> set[str]:
        return {*self.required, *self.optional, *(("resumptionToken",) if self.resumable else ())}


_LIST = Arguments(required=("metadataPrefix",), optional=("from", "until", "set"), resumable=True)
VERB_ARGUMENTS: dict[Verb, Arguments] = {
    Verb.IDENTIFY: Arguments(),
    Verb.LIST_METADATA_FORMATS: Arguments(optional=("identifier",)),
    Verb.LIST_SETS: Arguments(resumable=True),
    Verb.GET_RECORD: Arguments(required=("identifier", "metadataPrefix")),
    Verb.LIST_IDENTIFIERS: _LIST,
    Verb.LIST_RECORDS: _LIST,
}


@dataclass(frozen=True)
class Request:
    verb: Verb
    args: dict[str, str] = field(default_factory=dict)


def parse_request(pairs: Iterable[tuple[str, str]]) -> Request:
    """Check a request's arguments against its verb, as the protocol says: a missing, repeated or
    unknown verb is badVerb; a repeated, unknown, missing or ill-formed argument is badArgument;
    a resumptionToken comes alone."""
    seen: dict[str, list[str]] = {}
    for name, value in pairs:
        seen.setdefault(name, []).append(value)
    verbs = seen.pop("verb", [])
    if len(verbs) != 1:
        raise OaiError(ErrorCode.BAD_VERB, "the verb argument is missing" if not verbs else "the verb is repeated")
    try:
        verb = Verb(verbs[0])
    except ValueError:
        known = ", ".join(v.value for v in Verb)
        raise OaiError(ErrorCode.BAD_VERB, f"{verbs[0][:100]!r} is not an OAI-PMH verb; known: {known}") from None
    repeated = sorted(name for name, values in seen.items() if len(values) > 1)
    if repeated:
        raise OaiError(ErrorCode.BAD_ARGUMENT, f"repeated argument(s): {', '.join(repeated)}")
    args = {name: values[0] for name, values in seen.items()}
    spec = VERB_ARGUMENTS[verb]
    unknown = sorted(set(args) - spec.allowed)
    if unknown:
        shown = ", ".join(name[:50] for name in unknown)
        raise OaiError(ErrorCode.BAD_ARGUMENT, f"{verb.value} does not take the argument(s) {shown}")
    if "resumptionToken" in args:
        if len(args) > 1:
            raise OaiError(ErrorCode.BAD_ARGUMENT, "resumptionToken is an exclusive argument: give it alone")
    else:
        missing = [name for name in spec.required if name not in args]
        if missing:
            raise OaiError(ErrorCode.BAD_ARGUMENT, f"{verb.value} needs the argument(s) {', '.join(missing)}")
    _check_syntax(args)
    return Request(verb, args)


def _check_syntax(args: dict[str, str]) -> None:
    checks = {"metadataPrefix": METADATA_PREFIX, "set": SET_SPEC, "identifier": IDENTIFIER}
    for name, pattern in checks.items():
        if name in args and not pattern.match(args[name]):
            raise OaiError(ErrorCode.BAD_ARGUMENT, f"{name}: {args[name][:100]!r} is not a valid {name}")
    for name in ("from", "until"):
        if name in args:
            parse_datestamp(name, args[name])
    if "from" in args and "until" in args:
        if (DAY.match(args["from"]) is None) != (DAY.match(args["until"]) is None):
            raise OaiError(ErrorCode.BAD_ARGUMENT, "from and until must have the same granularity")


@dataclass(frozen=True)
class Window:
    """The change times a list covers: ``[since, before)``, from a request's from and until."""

    since: datetime | None = None
    before: datetime | None = None


def parse_datestamp(name: str, value: str) -> tuple[datetime, timedelta]:
    """A from/until argument as a UTC time and its granularity (a day or a second)."""
    try:
        if DAY.match(value):
            return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC), timedelta(days=1)
        if SECOND.match(value):
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC), timedelta(seconds=1)
    except ValueError:
        pass
    raise OaiError(
        ErrorCode.BAD_ARGUMENT, f"{name}: {value[:100]!r} is not a UTC datestamp (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)"
    )


def window(args: dict[str, str]) -> Window:
    """from and until are inclusive at their granularity: until=2026-01-31 covers that whole day."""
    since = parse_datestamp("from", args["from"])[0] if "from" in args else None
    before = None
    if "until" in args:
        until, step = parse_datestamp("until", args["until"])
        before = until + step
    if since is not None and before is not None and since >= before:
        raise OaiError(ErrorCode.BAD_ARGUMENT, "from is later than until")
    return Window(since, before)


def datestamp(value: datetime) -> str:
    """A UTC datestamp at the repository's granularity (seconds)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class IdentifierScheme:
    """``oai:<repository identifier>:<dataset id>``, the protocol's oai-identifier scheme."""

    repository: str

    def identifier(self, record_id: str) -> str:
        return f"oai:{self.repository}:{record_id}"

    def record_id(self, identifier: str) -> str | None:
        prefix = f"oai:{self.repository}:"
        if not identifier.startswith(prefix) or len(identifier) == len(prefix):
            return None
        return identifier[len(prefix) :]
