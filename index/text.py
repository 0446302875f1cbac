"""Text analysis shared by every index backend: one tokenizer, one stemmer, one jargon list.

Both backends store text already analysed here (lower-case ASCII word stems separated by spaces)
and receive queries parsed here, so the embedded index and Elasticsearch — whose integ-test
distribution has no stemmer or synonym filters — match the same documents for the same query.

A query is a list of *groups* that must all match; a group is a list of *alternatives* (phrases of
stems) of which one must appear, as a phrase, in one searchable field.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from importlib import resources

import snowballstemmer
import yaml

_TOKEN = re.compile(r"[a-z0-9]+")
MAX_PHRASE = 6
MAX_GROUPS = 12
# Words that carry no meaning alone in a query; they still count inside a phrase ("use of force").
STOPWORDS = frozenset(
    "a an and are as at be by for from in into is it of on or the to with data dataset datasets".split()
)


@cache
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


def tokens(text: str) -> list[str]:
    """Lower-case ASCII words of ``text`` (accents folded, punctuation dropped)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return _TOKEN.findall(folded)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    # Catalog vocabulary is small and repetitive; caching makes the pure-Python stemmer cheap.
    return str(_stemmer().stemWord(word))


def analyze(text: str) -> list[str]:
    """The stems that are indexed for ``text``."""
    return [stem(w) for w in tokens(text)]


def analyzed(text: str) -> str:
    return " ".join(analyze(text))


@cache
def synonym_groups() -> tuple[tuple[tuple[str, ...], ...], ...]:
    """The jargon groups, each member analysed to a tuple of stems."""
    raw = yaml.safe_load(resources.files("catalog").joinpath("data/synonyms.yaml").read_text(encoding="utf-8"))
    groups = []
    for group in raw:
        members = tuple(dict.fromkeys(tuple(analyze(str(m))) for m in group if analyze(str(m))))
        groups.append(members)
    return tuple(groups)


@cache
def _phrase_index() -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    index: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for group in synonym_groups():
        for member in group:
            alts = index.setdefault(member, [])
            alts.extend(m for m in group if m not in alts)
    return {k: tuple(v) for k, v in index.items()}


def parse_query(q: str) -> list[list[tuple[str, ...]]]:
    """Turn user text into AND-groups of OR-alternatives (phrases of stems), jargon expanded.

    ``"OIS 2019"`` → ``[[("oi",), ("offic", "involv", "shoot"), …], [("2019",)]]``. Longest jargon
    phrases are matched first; stop words alone are dropped. At most ``MAX_GROUPS`` groups.
    """
    stems = analyze(q)
    stopstems = {s for w in STOPWORDS for s in analyze(w)}
    phrases = _phrase_index()
    groups: list[list[tuple[str, ...]]] = []
    i = 0
    while i < len(stems):
        for size in range(min(MAX_PHRASE, len(stems) - i), 0, -1):
            candidate = tuple(stems[i : i + size])
            if candidate in phrases:
                groups.append(list(phrases[candidate]))
                i += size
                break
        else:
            if stems[i] not in stopstems:
                groups.append([(stems[i],)])
            i += 1
    unique: list[list[tuple[str, ...]]] = []
    for g in groups:
        if g not in unique:
            unique.append(g)
    return unique[:MAX_GROUPS]
