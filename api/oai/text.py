"""Portal text made safe for XML. lxml escapes ``<``, ``&`` and quotes itself; what it cannot write
are characters XML 1.0 forbids (most C0 controls, lone surrogates, U+FFFE/U+FFFF), which portals do
send. They become U+FFFD, so one odd character never breaks a harvester's whole page."""

from __future__ import annotations

import html
import re

from index.documents import plain_text

_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def plain_xml_text(value: str) -> str:
    """A description as plain text (portals send HTML: tags dropped, entities read), safe for XML."""
    return xml_text(html.unescape(plain_text(value)))
