"""Resumption tokens: where an incomplete list stopped, carried by the harvester, not by us.

A token holds the list's request (verb, metadataPrefix, set, from/until window), the position of
the last record sent in the changes order (last_changed, id), how many were sent, and when it
expires. Nothing is kept on the server, so any API process answers any token and a restart loses
none. The tag is an HMAC over the content: a token changed by hand (or cut short) is refused as
badResumptionToken. It guards integrity, not secrecy — a token only replays a request anyone may
make — so its key is fixed rather than a setting.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from api.oai.protocol import ErrorCode, OaiError, Window
from store import ChangeKey

TOKEN_LIFETIME = timedelta(hours=24)
_KEY = b"pdi-catalog oai-pmh resumption token v1"
_TAG_BYTES = 16


@dataclass(frozen=True)
class ResumptionToken:
    verb: str
    metadata_prefix: str
    set_spec: str | None
    window: Window
    after: ChangeKey
    cursor: int  # records of the complete list sent before the page this token asks for
    expires: datetime


def encode(token: ResumptionToken) -> str:
    def when(value: datetime | None) -> str | None:
        return value.astimezone(UTC).isoformat() if value is not None else None

    body = {
        "v": token.verb,
        "m": token.metadata_prefix,
        "s": token.set_spec,
        "f": when(token.window.since),
        "u": when(token.window.before),
        "t": when(token.after.changed),
        "i": token.after.id,
        "c": token.cursor,
        "e": int(token.expires.timestamp()),
    }
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()
    tag = hmac.new(_KEY, payload, hashlib.sha256).digest()[:_TAG_BYTES]
    return f"{_b64(payload)}.{_b64(tag)}"


def decode(value: str, verb: str, now: datetime) -> ResumptionToken:
    """The token a harvester sent back, or badResumptionToken: altered, expired, or of another verb."""
    try:
        payload_text, tag_text = value.split(".")
        payload, tag = _unb64(payload_text), _unb64(tag_text)
    except (ValueError, binascii.Error):
        raise _bad("it is not one of ours") from None
    if _b64(payload) != payload_text or _b64(tag) != tag_text:  # the decoder skips stray characters
        raise _bad("it has been altered")
    expected = hmac.new(_KEY, payload, hashlib.sha256).digest()[:_TAG_BYTES]
    if not hmac.compare_digest(tag, expected):
        raise _bad("it has been altered")
    try:
        body: dict[str, Any] = json.loads(payload)
        token = ResumptionToken(
            verb=str(body["v"]),
            metadata_prefix=str(body["m"]),
            set_spec=body["s"],
            window=Window(_when(body["f"]), _when(body["u"])),
            after=ChangeKey(_parse(str(body["t"])), str(body["i"])),
            cursor=int(body["c"]),
            expires=datetime.fromtimestamp(int(body["e"]), UTC),
        )
    except (KeyError, TypeError, ValueError):
        raise _bad("it cannot be read") from None
    if token.verb != verb:
        raise _bad(f"it continues a {token.verb} list, not {verb}")
    if now >= token.expires:
        raise _bad(f"it expired at {token.expires:%Y-%m-%dT%H:%M:%SZ}; start the list again")
    return token


def _bad(why: str) -> OaiError:
    return OaiError(ErrorCode.BAD_RESUMPTION_TOKEN, f"the resumptionToken is invalid: {why}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _parse(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("naive time")
    return value.astimezone(UTC)


def _when(text: str | None) -> datetime | None:
    return _parse(text) if text is not None else None
