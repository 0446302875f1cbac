"""Regenerate catalog_seed/jurisdictions/*.yaml from ../shared/reference/pdi_jurisdictions.csv.

Run once when the reference table changes; the YAML files are the seed of record and may then be
edited by hand (hand edits are lost if this is re-run). Usage:

    python scripts/seed_from_reference.py ../shared/reference/pdi_jurisdictions.csv
"""

from __future__ import annotations

import csv
import sys
from collections import OrderedDict
from pathlib import Path
from urllib.parse import urlsplit

import yaml

# OPD TableType families (and the three PDI-only names) -> our category ids, per section 4 of
# ../shared/reference/pdi_dataset_categories.md. Outcome tables of stops (e.g. TRAFFIC CITATIONS)
# map to both the stop kind and the outcome.
FAMILY_TO_CATEGORIES = {
    "USE OF FORCE": ["use_of_force"],
    "OFFICER-INVOLVED SHOOTINGS": ["officer_involved_shootings"],
    "TRAFFIC STOPS": ["traffic_stops"],
    "TRAFFIC CITATIONS": ["traffic_stops", "citations"],
    "TRAFFIC WARNINGS": ["traffic_stops", "citations"],
    "TRAFFIC ARRESTS": ["traffic_stops", "arrests"],
    "PEDESTRIAN STOPS": ["pedestrian_stops"],
    "PEDESTRIAN CITATIONS": ["pedestrian_stops", "citations"],
    "PEDESTRIAN WARNINGS": ["pedestrian_stops", "citations"],
    "PEDESTRIAN ARRESTS": ["pedestrian_stops", "arrests"],
    "STOPS": ["stops"],
    "FIELD CONTACTS": ["field_contacts"],
    "CITATIONS": ["citations"],
    "WARNINGS": ["citations"],
    "ARRESTS": ["arrests"],
    "COMPLAINTS": ["complaints"],
    "DISCIPLINARY RECORDS": ["complaints"],
    "ASSAULTS ON OFFICERS": ["assaults_on_officers"],
    "CALLS FOR SERVICE": ["calls_for_service"],
    "INCIDENTS": ["crime_incidents"],
    "VEHICLE PURSUITS": ["vehicle_pursuits"],
    "EMPLOYEE": ["employee_demographics"],
    "COMMUNITY ENGAGEMENT": ["community_engagement"],
    "CRASHES": ["traffic_crashes"],
    "DEATHS IN CUSTODY": ["deaths_in_custody"],
    "LAWSUITS": ["lawsuits"],
    "HATE CRIMES": ["hate_crimes"],
    "SEARCHES": ["other_policing"],
    "POINTING WEAPON": ["other_policing"],
}

# Which harvester reads a portal of each platform, and where. ArcGIS Hub sites publish their
# catalog as a DCAT-US 1.1 feed at this documented path; an ArcGIS Server is walked from its REST
# services directory; OpenDataSoft's Explore API lives at the site root; other platforms get
# harvesters later.
HUB_FEED_PATH = "/api/feed/dcat-us/1.1.json"
REST_SERVICES = "/rest/services"


def sources_for(platform: str, url: str) -> tuple[list[dict[str, str]], str | None]:
    if platform == "socrata":
        return [{"platform": "socrata", "url": url}], None
    if platform == "ckan":
        return [{"platform": "ckan", "url": url}], None
    if platform == "arcgis_hub":
        if "?" in url or url.rstrip("/").count("/") > 2:
            return [], "not a Hub site root, so its DCAT-US feed address is not known"
        return [{"platform": "dcat_us", "url": url.rstrip("/") + HUB_FEED_PATH}], None
    if platform == "arcgis_server":
        if "?" in url or not url.rstrip("/").endswith(REST_SERVICES):
            return [], "not an ArcGIS Server REST services root (…/rest/services)"
        return [{"platform": "arcgis_server", "url": url.rstrip("/")}], None
    if platform == "opendatasoft":
        parts = urlsplit(url)
        return [{"platform": "opendatasoft", "url": f"{parts.scheme}://{parts.netloc}"}], None
    if platform == "html":
        return [{"platform": "html", "url": url}], None
    return [], f"no harvester for platform '{platform}' yet"


def categories(field: str) -> list[str]:
    out: list[str] = []
    for family in filter(None, (f.strip() for f in field.split(";"))):
        for cat in FAMILY_TO_CATEGORIES[family.split(" - ")[0]]:
            if cat not in out:
                out.append(cat)
    return out


def main(csv_path: str) -> None:
    rows = list(csv.DictReader(open(csv_path, encoding="utf-8")))
    by_id: OrderedDict[str, list[dict[str, str]]] = OrderedDict()
    for row in rows:
        by_id.setdefault(row["jurisdiction_id"], []).append(row)
    out_dir = Path(__file__).resolve().parent.parent / "catalog_seed" / "jurisdictions"
    out_dir.mkdir(parents=True, exist_ok=True)
    for jid, jrows in by_id.items():
        first = jrows[0]
        committed: list[str] = []
        portals = []
        for row in jrows:
            for cat in categories(row["known_police_dataset_categories"]):
                if cat not in committed:
                    committed.append(cat)
            if not row["portal_url"]:
                continue
            srcs, why_not = sources_for(row["portal_platform"], row["portal_url"])
            portal: dict[str, object] = {
                "platform": row["portal_platform"],
                "url": row["portal_url"],
                "scope": row["portal_scope"] or "jurisdiction",
                "confidence": row["confidence"],
                "known_categories": categories(row["known_police_dataset_categories"]),
                "example_dataset_ids": [x for x in row["example_dataset_ids"].split(";") if x],
                "sources": srcs,
            }
            if why_not:
                portal["not_harvested"] = why_not
            portal["notes"] = row["notes"]
            portal["provenance"] = [s.strip() for s in row["sources"].split(" | ") if s.strip()]
            portals.append(portal)
        entry: dict[str, object] = {
            "id": jid,
            "name": first["name"],
            "state": first["state"],
            "agency": first["agency"],
            "in_original_21": first["in_original_21"] == "yes",
            "committed_categories": committed,
            "portals": portals,
        }
        if not portals:
            entry["no_portal_known"] = first["notes"] or "no open-data portal found in the reference sources"
        text = (
            f"# {first['name']}, {first['state']} — generated from ../shared/reference/pdi_jurisdictions.csv\n"
            + yaml.safe_dump(entry, sort_keys=False, allow_unicode=True, width=100)
        )
        (out_dir / f"{jid}.yaml").write_text(text, encoding="utf-8")
    print(f"wrote {len(by_id)} jurisdictions to {out_dir}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference/pdi_jurisdictions.csv")
