"""Which portals the simulator serves, read from the catalog seed, and each portal's habits."""

from __future__ import annotations

import random
from dataclasses import dataclass
from urllib.parse import urlsplit

from catalog_seed.loader import Seed

#: harvester platforms the simulator can serve; a seed source of another platform is skipped
SERVED_PLATFORMS = (
    "socrata",
    "ckan",
    "dcat_us",
    "arcgis_server",
    "opendatasoft",
    "html",
    "arcgis_online",
    "arcgis_hub_search",
)

STATE_NAMES = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
}


@dataclass(frozen=True)
class JurisdictionInfo:
    """The parts of a seed jurisdiction the generator uses."""

    id: str
    name: str
    state: str
    agency: str
    committed: tuple[str, ...]

    @property
    def state_name(self) -> str:
        return STATE_NAMES.get(self.state, self.state)


@dataclass(frozen=True)
class PortalSpec:
    """One served portal host: its platform, the seed source URL and the jurisdictions listing it."""

    host: str
    platform: str
    source_url: str
    portal_url: str
    scope: str
    jurisdictions: tuple[JurisdictionInfo, ...]

    @property
    def shared(self) -> bool:
        """A statewide portal (or one listed by several jurisdictions)."""
        return self.scope == "state" or len(self.jurisdictions) > 1

    @property
    def source_path(self) -> str:
        return urlsplit(self.source_url).path or "/"

    @property
    def place(self) -> str:
        """Who runs the portal, for descriptions: ``Seattle`` or ``State of Virginia``."""
        first = self.jurisdictions[0]
        return f"State of {first.state_name}" if self.shared else first.name


@dataclass(frozen=True)
class PortalHabits:
    """Per-portal choices real portals make differently, fixed per (seed number, host)."""

    freq_field: tuple[str, str]  # Socrata custom field (fieldset, field) holding the frequency
    ckan_frequency_iso: bool  # CKAN extra ``frequency`` as R/P1W rather than "Weekly"
    hub_org: str  # the Hub organisation in landing page slugs (``SCE2::ica-layer``)
    hub_download_key: str  # "accessURL" (older Hub feeds) or "downloadURL"
    email_domain: str
    title: str  # "City of Seattle"


def host_of(url_or_host: str) -> str:
    """``https://Data.Seattle.gov/x`` -> ``data.seattle.gov``; a bare host is lowered."""
    if "://" in url_or_host:
        return urlsplit(url_or_host).netloc.lower()
    return url_or_host.strip().strip("/").lower()


def specs_from_seed(seed: Seed) -> list[PortalSpec]:
    """Every source of ``seed`` on a served platform, one portal per host, in seed order.

    A host listed by two sources serves both sets of jurisdictions, with the platform of its own
    API rather than ``dcat_us`` (a Socrata or CKAN site's ``data.json`` is served by every
    platform), else the first source's.
    """
    by_host: dict[str, PortalSpec] = {}
    for plan in seed.sources():
        if plan.platform not in SERVED_PLATFORMS:
            continue
        infos = []
        for jid in plan.jurisdictions:
            j = seed.get(jid)
            if j is None:
                continue
            committed = tuple(dict.fromkeys(str(c) for c in j.committed_categories))
            infos.append(JurisdictionInfo(j.id, j.name, j.state, j.agency, committed))
        if not infos:
            continue
        host = host_of(plan.url)
        old = by_host.get(host)
        if old is not None:
            merged = old.jurisdictions + tuple(i for i in infos if i not in old.jurisdictions)
            if old.platform == "dcat_us" and plan.platform != "dcat_us":
                old = PortalSpec(old.host, plan.platform, plan.url, plan.portal_url, old.scope, old.jurisdictions)
            by_host[host] = PortalSpec(old.host, old.platform, old.source_url, old.portal_url, old.scope, merged)
            continue
        by_host[host] = PortalSpec(host, plan.platform, plan.url, plan.portal_url, plan.scope, tuple(infos))
    return list(by_host.values())


def habits_for(spec: PortalSpec, seed_number: int) -> PortalHabits:
    """The portal's habits, deterministic from the seed number and host."""
    rng = random.Random(f"{seed_number}:{spec.host}:habits")
    labels = [p for p in spec.host.split(".") if p not in ("www", "data", "opendata", "gov", "org", "com", "us")]
    org = "".join(w.capitalize() for w in (labels[0] if labels else "city").split("-"))[:20]
    domain = spec.host
    for prefix in ("data.", "www.", "opendata.", "performance."):
        if domain.startswith(prefix):
            domain = domain[len(prefix) :]
            break
    return PortalHabits(
        freq_field=rng.choice([("Refresh Frequency", "Frequency"), ("Dataset Information", "Update Frequency")]),
        ckan_frequency_iso=rng.random() < 0.4,
        hub_org=org + rng.choice(["", "GIS", "2", "PD"]),
        hub_download_key=rng.choice(["accessURL", "downloadURL"]),
        email_domain=domain,
        title=spec.place if spec.shared or "County" in spec.place else f"City of {spec.place}",
    )
