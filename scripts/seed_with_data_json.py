"""Write a copy of the bundled catalog seed in which every Socrata portal also lists its own
``data.json`` as a second source, so a demo harvest sees each of its datasets twice — the way to
measure duplicate merging (docs/duplicates.md) on the whole demo:

python scripts/seed_with_data_json.py /tmp/dup-seed
PDI_SEED_DIR=/tmp/dup-seed pdi harvest --demo --json

Prints how many sources it added; an existing target folder is an error (exit 2).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import yaml

from catalog_seed import default_seed_dir, load_seed


def write_seed(target: Path) -> int:
    """Copy the bundled seed to ``target`` with the data.json sources added; returns how many
    (a portal several jurisdictions list is one source)."""
    shutil.copytree(default_seed_dir(), target)
    added: set[str] = set()
    for path in sorted(target.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        changed = False
        for portal in data.get("portals") or []:
            sources = portal.get("sources") or []
            if portal.get("platform") == "socrata" and any(s.get("platform") == "socrata" for s in sources):
                url = f"{portal['url'].rstrip('/')}/data.json"
                sources.append({"platform": "dcat_us", "url": url})
                changed = True
                added.add(url)
        if changed:
            path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    load_seed(target)  # the copy must still be a valid seed
    return len(added)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python scripts/seed_with_data_json.py TARGET_DIR", file=sys.stderr)
        return 2
    target = Path(argv[0])
    if target.exists():
        print(f"seed_with_data_json: {target} exists; give a new folder", file=sys.stderr)
        return 2
    added = write_seed(target)
    print(f"{target}: the bundled seed with {added} Socrata data.json sources added")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
