"""The catalog seed: one YAML file per participating jurisdiction, validated on load.

Data, not code: ``jurisdictions/<id>.yaml`` holds the jurisdiction's names, state, agency, whether it
was among the 21 launch jurisdictions of May 2015, its portals (platform + root URL) with the
harvestable sources of each, and its PDI categories. A bad entry raises :class:`SeedError` naming
the file and the field.
"""

from catalog_seed.loader import (
    Jurisdiction,
    Portal,
    Seed,
    SeedError,
    SeedSource,
    default_seed_dir,
    load_seed,
)

__all__ = ["Jurisdiction", "Portal", "Seed", "SeedError", "SeedSource", "default_seed_dir", "load_seed"]
