"""Generating one portal's catalog, deterministically from (seed number, host).

Every draw comes from ``random.Random(f"{seed_number}:{host}")`` in a fixed order, so a portal's
catalog does not depend on which other portals were generated, nor when. Nothing reads the wall
clock: dates are laid out backwards from the simulator's "now".
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import urljoin

from catalog.vocabulary import Category
from simulator.dataset import FREQUENCIES, SimColumn, SimDataset, slugify
from simulator.dates import EARLIEST, between
from simulator.rest_layout import ServiceLayout
from simulator.spec import JurisdictionInfo, PortalSpec
from simulator.vocab import Kind, agency_abbreviation, city_kinds, column, kinds_by_category, vocabulary_columns

POLICE_SHARE = (0.17, 0.28)  # of each portal's datasets; the tests allow 15-30 %
#: a department web page lists a handful of files, mostly police releases, whatever the portal size
HTML_PAGE_SIZE = (10, 18)
HTML_POLICE_SHARE = (0.55, 0.75)
#: file types of the files a department page links to (police releases, agendas, budgets)
HTML_EXTENSIONS = ("pdf", "pdf", "xlsx", "csv", "xls", "zip")
_SUFFIXES = (" (Archived)", " - Historical", " by District", " Summary", " - Open Data", " (Legacy)")
# Socrata catalogs mix derived views and links with datasets; Cetera's only=dataset leaves them out
_SOCRATA_ASSETS = (("dataset", 90), ("filter", 3), ("chart", 2), ("map", 2), ("href", 2), ("file", 1))
_EXTRA_SENTENCES = (
    "Data is subject to change as records are reviewed and corrected.",
    "Addresses are generalised to the block level.",
    "See the attached data dictionary for field definitions.",
    "Questions about this dataset can be sent to the open data team.",
    "Records are published after supervisory review.",
    "Use the API endpoint to filter by date.",
)
_HOSTILE = ("<script>alert(1)</script>", '<img src="x" onerror="alert(document.cookie)">')
_LICENSES = ("public-domain", "cc-by-4.0", "odc-pddl", "cc0-1.0", "")


@dataclass
class _Draft:
    kind: Kind
    title: str
    jurisdiction: JurisdictionInfo | None
    year: int | None = None  # member of a yearly series
    closed: bool = False  # a past member of a series: published once, never refreshed
    part: str | None = None  # incidents / subjects / officers table of a split


class IdMaker:
    """Remote ids, identifiers and slugs in the platform's style, unique within one portal."""

    def __init__(
        self, rng: random.Random, platform: str, taken: set[str] | None = None, layout: ServiceLayout | None = None
    ) -> None:
        self.rng = rng
        self.platform = platform
        self.taken = set(taken or ())
        self.slugs: set[str] = set()
        self.layout = layout
        self.files_url = ""  # html: the folder the department page's files live in

    @classmethod
    def for_portal(cls, rng: random.Random, spec: PortalSpec, taken: set[str] | None = None) -> IdMaker:
        """An id maker for ``spec``'s platform; ArcGIS Server portals get a directory layout."""
        layout = None
        if spec.platform == "arcgis_server":
            agency = agency_abbreviation(spec.jurisdictions[0].agency) if spec.jurisdictions else ""
            layout = ServiceLayout(rng, spec.source_path, agency, taken)
        ids = cls(rng, spec.platform, taken, layout)
        if spec.platform == "html":
            ids.files_url = urljoin(spec.source_url, "files/")
        return ids

    def new(self, title: str = "", police: bool = False, group: str | None = None) -> tuple[str, str]:
        """(remote id, served identifier). ``title``, ``police`` and ``group`` (the collection a
        table belongs to) place an ArcGIS Server layer and name an OpenDataSoft dataset."""
        while True:
            if self.layout is not None:
                rid = ident = self.layout.new(title, police, group)
            elif self.platform == "opendatasoft":
                base = slugify(title)[:80].strip("-") or "dataset"
                rid, n = base, 1
                while rid in self.taken:
                    n += 1
                    rid = f"{base}-{n}"
                ident = rid
            elif self.platform == "html":
                base = slugify(title)[:80].strip("-") or "document"
                rid = ident = f"{self.files_url}{base}.{self.rng.choice(HTML_EXTENSIONS)}"
                n = 1
                while rid in self.taken:
                    n += 1
                    rid = ident = f"{self.files_url}{base}-{n}.{rid.rsplit('.', 1)[-1]}"
            elif self.platform == "socrata":
                alphabet = "23456789abcdefghijkmnpqrstuvwxyz"
                rid = "".join(self.rng.choice(alphabet) for _ in range(4)) + "-"
                rid += "".join(self.rng.choice(alphabet) for _ in range(4))
                ident = rid
            elif self.platform == "ckan":
                rid = ident = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            else:
                item = f"{self.rng.getrandbits(128):032x}"
                layer = self.rng.choice((0, 0, 0, 0, 1, 2))
                rid = ident = f"https://www.arcgis.com/home/item.html?id={item}&sublayer={layer}"
            if rid not in self.taken:
                self.taken.add(rid)
                return rid, ident

    def slug(self, title: str) -> str:
        base = slugify(title)[:90] or "dataset"
        slug, n = base, 0
        while slug in self.slugs:
            n += 1
            slug = f"{base}-{n}"
        self.slugs.add(slug)
        return slug


def generate_portal(spec: PortalSpec, seed_number: int, now: datetime, size_range: tuple[int, int]) -> list[SimDataset]:
    """The portal's whole catalog as it stands at ``now``, in creation (position) order.

    A department web page (``html``) lists :data:`HTML_PAGE_SIZE` files, mostly police ones,
    whatever ``size_range`` says.
    """
    rng = random.Random(f"{seed_number}:{spec.host}")
    page = spec.platform == "html"
    total = rng.randint(*(HTML_PAGE_SIZE if page else size_range))
    n_police = round(total * rng.uniform(*(HTML_POLICE_SHARE if page else POLICE_SHARE)))
    used: set[str] = set()
    drafts = _police_drafts(rng, spec, n_police, now.year, used)
    drafts += _city_drafts(rng, spec, total - n_police, now.year, used)
    ids = IdMaker.for_portal(rng, spec)
    datasets = [_realise(rng, spec, draft, now, ids) for draft in drafts]
    datasets = _plant_hostile_text(rng, datasets)
    datasets.sort(key=lambda d: (d.created_at, d.remote_id))
    return [replace(d, position=i) for i, d in enumerate(datasets)]


@lru_cache(maxsize=4096)
def fill(template: str, spec: PortalSpec, j: JurisdictionInfo | None, year: int | None = None) -> str:
    """A title or description template with the jurisdiction's names filled in."""
    first = j or spec.jurisdictions[0]
    agency = first.agency if j else f"{first.state_name} law enforcement agencies"
    return template.format(
        abbr=agency_abbreviation(first.agency) if not spec.shared else first.agency,
        agency=agency,
        city=first.name if not spec.shared else spec.place,
        state=first.state_name,
        year=year if year is not None else "",
        since=year if year is not None else 2014,
    )


def _police_drafts(rng: random.Random, spec: PortalSpec, n: int, year: int, used: set[str]) -> list[_Draft]:
    out: list[_Draft] = []
    for j in spec.jurisdictions:  # every committed category first, so it is there to be found
        for category in j.committed:
            if len(out) < n:
                out += _series(rng, _pick_kind(rng, category, statewide=False), spec, j, year, used)
    categories = [c.value for c in Category]
    misses = 0
    while len(out) < n:
        if spec.shared and rng.random() < 0.15:
            statewide = [k for ks in kinds_by_category().values() for k in ks if k.statewide]
            got = _series(rng, rng.choice(statewide), spec, None, year, used, fallback=misses >= 20)
        else:
            j = rng.choice(spec.jurisdictions)
            category = rng.choice(j.committed) if j.committed and rng.random() < 0.7 else rng.choice(categories)
            kind = _pick_kind(rng, category, statewide=False)
            got = _series(rng, kind, spec, j, year, used, fallback=misses >= 20)
        misses = 0 if got else misses + 1
        out += got
    return out[:n]


def _city_drafts(rng: random.Random, spec: PortalSpec, n: int, year: int, used: set[str]) -> list[_Draft]:
    kinds = city_kinds()
    weights = [1.0 if k.near_miss else 2.0 for k in kinds]
    owner = None if spec.shared else spec.jurisdictions[0]
    out: list[_Draft] = []
    misses = 0
    while len(out) < n:
        kind = rng.choices(kinds, weights)[0]
        got = _series(rng, kind, spec, owner, year, used, yearly_chance=0.3, fallback=misses >= 20)
        misses = 0 if got else misses + 1
        out += got
    return out[:n]


def _pick_kind(rng: random.Random, category: str, statewide: bool) -> Kind:
    kinds = [k for k in kinds_by_category()[category] if k.statewide == statewide]
    return rng.choice(kinds or list(kinds_by_category()[category]))


def _series(
    rng: random.Random,
    kind: Kind,
    spec: PortalSpec,
    j: JurisdictionInfo | None,
    year: int,
    used: set[str],
    yearly_chance: float = 0.3,
    fallback: bool = True,
) -> list[_Draft]:
    """One dataset, a yearly series, or a split into incident / subject / officer tables.

    Empty when every title of the kind is taken and ``fallback`` (suffixed titles) is off.
    """
    roll = rng.random()
    if kind.yearly_titles and roll < yearly_chance:
        template = rng.choice(kind.yearly_titles)
        drafts = []
        for y in range(rng.randint(year - 9, year - 2), year + 1):
            title = _agency_title(fill(template, spec, j, y), template, spec, kind, j)
            if title.lower() not in used:
                used.add(title.lower())
                drafts.append(_Draft(kind, title, j, year=y, closed=y < year))
        return drafts
    single = _unique_title(rng, kind, spec, j, used, fallback)
    if single is None:
        return []
    if kind.split and roll > 0.8:
        return [_Draft(kind, f"{single} - {part}", j, part=part) for part in ("Incidents", "Subjects", "Officers")]
    return [_Draft(kind, single, j)]


def _agency_title(title: str, template: str, spec: PortalSpec, kind: Kind, j: JurisdictionInfo | None) -> str:
    # on a shared (statewide) portal an agency's dataset names its agency
    if spec.shared and kind.police and j is not None and "{abbr}" not in template and "{agency}" not in template:
        return f"{j.agency} {title}"
    return title


def _unique_title(
    rng: random.Random, kind: Kind, spec: PortalSpec, j: JurisdictionInfo | None, used: set[str], fallback: bool
) -> str | None:
    templates = list(kind.titles or tuple(t.replace("{year}", "").strip() for t in kind.yearly_titles))
    rng.shuffle(templates)
    candidates = [_agency_title(fill(t, spec, j), t, spec, kind, j) for t in templates]
    if fallback:  # portals do keep archived copies and district splits, but not of everything
        candidates += [c + s for s in _SUFFIXES for c in candidates]
    for title in candidates:
        if title.lower() not in used:
            used.add(title.lower())
            return title
    if not fallback:
        return None
    n = 2
    while f"{candidates[0]} ({n})".lower() in used:
        n += 1
    used.add(f"{candidates[0]} ({n})".lower())
    return f"{candidates[0]} ({n})"


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    return int(math.exp(rng.uniform(math.log(max(1, low)), math.log(max(2, high)))))


def _realise(rng: random.Random, spec: PortalSpec, draft: _Draft, now: datetime, ids: IdMaker) -> SimDataset:
    kind = draft.kind
    if draft.closed:
        frequency = rng.choice(("annually", None, "irregular", "annually"))
    else:
        choice = rng.choice(kind.frequencies)
        frequency = None if choice == "none" else choice
    period = FREQUENCIES[frequency].days if frequency else None
    if draft.year is not None and draft.closed:
        created = datetime(draft.year + 1, 1, 2, tzinfo=UTC) + timedelta(days=rng.uniform(0, 100))
    elif draft.year is not None:
        created = datetime(draft.year, 1, 2, tzinfo=UTC) + timedelta(days=rng.uniform(0, 40))
    else:
        created = between(EARLIEST, now - timedelta(days=30), rng.random())
    created = min(created, now - timedelta(days=1))
    stale = rng.random() < (0.12 if kind.police else 0.15)
    updating = not draft.closed and not stale
    if draft.closed:
        data_updated = created + timedelta(days=rng.uniform(0, 45))
    elif updating and period:
        data_updated = now - timedelta(days=rng.uniform(0, period))
    elif updating:
        data_updated = now - timedelta(days=rng.uniform(1, 400))
    else:
        data_updated = now - timedelta(days=(period or 90) * rng.uniform(3, 25))
    data_updated = min(max(data_updated, created), now)
    metadata_updated = between(created, data_updated, rng.random())
    age_days = max(30.0, (now - created).total_seconds() / 86400)
    rows = _log_uniform(rng, *kind.rows)
    if draft.year is not None:
        rows = max(1, rows // 8)
    views = _log_uniform(rng, 20, 150_000 if kind.police else 60_000)
    group = draft.title.rsplit(" - ", 1)[0] if draft.part else None
    remote_id, identifier = ids.new(draft.title, kind.police, group)
    title, asset_type = draft.title, "dataset"
    if spec.platform == "socrata":
        asset_type = rng.choices([a for a, _ in _SOCRATA_ASSETS], [w for _, w in _SOCRATA_ASSETS])[0]
        title += {"chart": " by Month", "map": " Map", "filter": " - Last 90 Days"}.get(asset_type, "")
    return SimDataset(
        host=spec.host,
        platform=spec.platform,
        remote_id=remote_id,
        identifier=identifier,
        slug=ids.slug(title),
        title=title,
        description=_description(rng, spec, draft, frequency),
        police=kind.police,
        categories=list(kind.categories),
        kind=kind.key,
        jurisdiction=draft.jurisdiction.id if draft.jurisdiction else None,
        publisher=fill(kind.department, spec, draft.jurisdiction),
        domain_category=kind.domain_category,
        tags=_tags(rng, kind, draft),
        columns=_columns(rng, kind, draft),
        frequency=frequency,
        created_at=created,
        metadata_updated_at=metadata_updated,
        data_updated_at=data_updated,
        row_count=rows,
        asset_type=asset_type,
        updating=updating,
        spatial=kind.spatial,
        year=draft.year,
        page_views=views,
        download_count=int(views * rng.uniform(0.05, 0.4)),
        license=rng.choice(_LICENSES),
        update_phase=data_updated if updating and period else None,
        rows_per_update=max(1, int(rows * (period or 0) / age_days)) if updating and period else 0,
        views_per_day=views / age_days,
        base_rows=rows,
        base_views=views,
    )


def _description(rng: random.Random, spec: PortalSpec, draft: _Draft, frequency: str | None) -> str:
    if rng.random() < 0.04:
        return ""
    kind = draft.kind
    since = draft.year if draft.year is not None else rng.randint(2008, 2018)
    text = rng.choice(kind.descriptions).replace("{since}", str(since))
    sentences = [fill(text, spec, draft.jurisdiction, draft.year)]
    if draft.year is not None:
        sentences.append(f"This file covers calendar year {draft.year}.")
    if draft.part:
        sentences.append(f"One row per {draft.part.lower().rstrip('s')}; join on the incident number.")
    if frequency and rng.random() < 0.5:
        sentences.append(f"Updated {FREQUENCIES[frequency].label.lower()}.")
    sentences += rng.sample(_EXTRA_SENTENCES, rng.randint(0, 2))
    html_share = {
        "dcat_us": 0.8,
        "opendatasoft": 0.85,
        "arcgis_server": 0.3,
        "arcgis_online": 0.8,
        "arcgis_hub_search": 0.8,
    }.get(spec.platform, 0.12)
    if rng.random() >= html_share:
        return " ".join(sentences)
    body = "".join(f"<p>{s}</p>" for s in sentences)
    if rng.random() < 0.35:
        link = f'<a href="https://www.{spec.host}/about" target="_blank">the open data program</a>'
        body += f"<p>More information: {link}.</p>"
    if rng.random() < 0.3:
        body = body.replace(". ", ".&nbsp; ", 1) + "<p><br />&nbsp;</p>"
    return body


def _tags(rng: random.Random, kind: Kind, draft: _Draft) -> list[str]:
    tags = [t for t in kind.tags if rng.random() < 0.8]
    if draft.year is not None:
        tags.append(str(draft.year))
    return tags


def _columns(rng: random.Random, kind: Kind, draft: _Draft) -> list[SimColumn]:
    specs = list(kind.columns[:3]) + [c for c in kind.columns[3:] if rng.random() < 0.8]
    cols = [column(s) for s in specs]
    if kind.police and rng.random() < 0.25:
        extra = rng.choice(vocabulary_columns(kind.categories[0]))
        if extra not in {c.field_name for c in cols}:
            cols.append(column(extra.replace("_", " ").title()))
    out = []
    for col in cols:
        roll = rng.random()
        desc = col.name if roll < 0.4 else (f"{col.name} as recorded in the source system." if roll < 0.6 else "")
        out.append(SimColumn(col.name, col.field_name, col.datatype, desc))
    return out


def _plant_hostile_text(rng: random.Random, datasets: list[SimDataset]) -> list[SimDataset]:
    """Real portals carry markup in free text; one or two datasets per portal carry a hostile one."""
    if len(datasets) < 2:
        return datasets
    picks = rng.sample(range(len(datasets)), 2)
    first = datasets[picks[0]]
    datasets[picks[0]] = replace(
        first, description=f"{first.description}\n{_HOSTILE[0]}".lstrip(), extra={"hostile": "description"}
    )
    page = datasets[0].platform == "html"  # a department page always has one hostile link text
    if page or rng.random() < 0.5:
        second = datasets[picks[1]]
        hostile = _HOSTILE[0] if page else _HOSTILE[1]
        datasets[picks[1]] = replace(second, title=f"{second.title} {hostile}", extra={"hostile": "title"})
    return datasets


def tick(ds: SimDataset, now: datetime, start: datetime) -> SimDataset:
    """The dataset as it stands at ``now``: refreshed on its schedule unless stale; views grown.

    Path-independent: ticking to a time in one step or in many gives the same dataset.
    """
    changes: dict[str, object] = {}
    period = ds.period
    if ds.updating and period and ds.update_phase is not None and now > ds.update_phase:
        k = int((now - ds.update_phase) / period)
        refreshed = ds.update_phase + k * period
        if k > 0 and refreshed > ds.data_updated_at:
            changes["data_updated_at"] = refreshed
            changes["row_count"] = ds.base_rows + k * ds.rows_per_update
    since = max(start, ds.created_at)
    days = max(0.0, (now - since).total_seconds() / 86400)
    views = ds.base_views + int(ds.views_per_day * days)
    if views != ds.page_views:
        changes["page_views"] = views
    return replace(ds, **changes) if changes else ds  # type: ignore[arg-type]
