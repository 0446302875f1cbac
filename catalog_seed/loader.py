"""Loading and validating the catalog seed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from catalog.ids import source_id
from catalog.vocabulary import Category, PortalPlatform


class SeedError(ValueError):
    """A seed file that cannot be used; the message names the file and the field."""


class _SeedModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or " " in value:
        raise ValueError("must be an absolute http(s) URL")
    return value


class SeedSource(_SeedModel):
    """One harvestable endpoint of a portal: which harvester platform reads it, and where."""

    platform: str
    url: str

    _url = field_validator("url")(_check_url)


class Portal(_SeedModel):
    platform: PortalPlatform
    url: str
    scope: Literal["jurisdiction", "state"] = "jurisdiction"
    confidence: Literal["high", "medium", "low"] = "medium"
    known_categories: list[Category] = Field(default_factory=list)
    example_dataset_ids: list[str] = Field(default_factory=list)
    sources: list[SeedSource] = Field(default_factory=list)
    not_harvested: str | None = None
    notes: str = ""
    provenance: list[str] = Field(default_factory=list)

    _url = field_validator("url")(_check_url)


class Jurisdiction(_SeedModel):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str = Field(min_length=1)
    state: str = Field(pattern=r"^[A-Z]{2}$")
    agency: str = Field(min_length=1)
    in_original_21: bool
    committed_categories: list[Category] = Field(default_factory=list)
    portals: list[Portal] = Field(default_factory=list)
    no_portal_known: str | None = None
    population: int | None = Field(default=None, ge=0)
    fips: str | None = Field(default=None, pattern=r"^\d{5,10}$")
    harvest_schedule: str | None = None  # a hint for the scheduler, e.g. "daily"


@dataclass(frozen=True)
class SourcePlan:
    """A source as the harvest sees it: shared by every jurisdiction whose seed lists it."""

    source_id: str
    platform: str
    url: str
    portal_platform: PortalPlatform
    portal_url: str
    scope: str
    jurisdictions: tuple[str, ...]


@dataclass(frozen=True)
class Seed:
    directory: Path
    jurisdictions: tuple[Jurisdiction, ...]

    def get(self, jurisdiction_id: str) -> Jurisdiction | None:
        return next((j for j in self.jurisdictions if j.id == jurisdiction_id), None)

    def __iter__(self) -> Iterator[Jurisdiction]:
        return iter(self.jurisdictions)

    def __len__(self) -> int:
        return len(self.jurisdictions)

    def sources(self, only: Iterable[str] | None = None) -> list[SourcePlan]:
        """Every harvestable source, once each, with all the jurisdictions that list it.

        A statewide portal (``scope: state``) listed by four jurisdictions is one source.
        ``only`` restricts the result to sources listed by those jurisdiction ids.
        """
        wanted = set(only) if only is not None else None
        merged: dict[str, tuple[SeedSource, Portal, list[str]]] = {}
        for j in self.jurisdictions:
            for portal in j.portals:
                for src in portal.sources:
                    sid = source_id(src.platform, src.url)
                    entry = merged.setdefault(sid, (src, portal, []))
                    if j.id not in entry[2]:
                        entry[2].append(j.id)
        plans = []
        for sid, (src, portal, jids) in merged.items():
            if wanted is not None and not wanted.intersection(jids):
                continue
            plans.append(
                SourcePlan(
                    source_id=sid,
                    platform=src.platform,
                    url=src.url,
                    portal_platform=portal.platform,
                    portal_url=portal.url,
                    scope=portal.scope,
                    jurisdictions=tuple(sorted(jids)),
                )
            )
        return plans


def default_seed_dir() -> Path:
    return Path(__file__).resolve().parent / "jurisdictions"


def _field_path(loc: tuple[int | str, ...], data: object) -> str:
    """Turn a pydantic location into ``portals[1].sources[0].platform``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(entry)"


def load_seed(directory: Path | str | None = None, platforms: Iterable[str] | None = None) -> Seed:
    """Load and validate every ``*.yaml`` file of ``directory`` (default: the bundled seed).

    ``platforms`` are the harvester platforms a source may name; by default, the registered ones.
    Raises :class:`SeedError` with the file and field at the first bad entry.
    """
    seed_dir = Path(directory) if directory is not None else default_seed_dir()
    if not seed_dir.is_dir():
        raise SeedError(f"{seed_dir}: seed directory not found")
    if platforms is None:
        from harvesters import registry

        platforms = registry.names()
    known = set(platforms)
    jurisdictions: list[Jurisdiction] = []
    seen: dict[str, Path] = {}
    files = sorted(seed_dir.glob("*.yaml"))
    if not files:
        raise SeedError(f"{seed_dir}: no *.yaml seed files")
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SeedError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise SeedError(f"{path}: expected a mapping of fields, got {type(data).__name__}")
        try:
            j = Jurisdiction.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = _field_path(tuple(err["loc"]), data)
            raise SeedError(f"{path}: field '{field}': {err['msg']}") from None
        if j.id != path.stem:
            raise SeedError(f"{path}: field 'id': '{j.id}' does not match the file name '{path.stem}'")
        if j.id in seen:
            raise SeedError(f"{path}: field 'id': '{j.id}' already defined in {seen[j.id]}")
        for pi, portal in enumerate(j.portals):
            for si, src in enumerate(portal.sources):
                if src.platform not in known:
                    raise SeedError(
                        f"{path}: field 'portals[{pi}].sources[{si}].platform': unknown harvester "
                        f"platform '{src.platform}' (known: {', '.join(sorted(known))})"
                    )
        if not j.portals and not j.no_portal_known:
            raise SeedError(f"{path}: field 'portals': empty; say why in 'no_portal_known'")
        seen[j.id] = path
        jurisdictions.append(j)
    return Seed(directory=seed_dir, jurisdictions=tuple(jurisdictions))
