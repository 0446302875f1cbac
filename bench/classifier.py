"""Measure the classifier against the portal simulator's ground truth.

Every dataset of every simulated portal is gathered over HTTP, mapped and classified exactly as a
harvest does (without the store), then compared with the labels the simulator generated it from.
Prints ``name=value`` lines: police-or-not precision/recall, and per category.

    python bench/classifier.py [--seed-number 2015]

The simulator's labels come from the same vocabulary the classifier reads, so these figures are
an upper bound on real portals; bench/labelled.py measures it on hand-labelled real dataset names
and hard look-alikes, with a held-out part.
"""

from __future__ import annotations

import argparse
from collections import Counter

from catalog.classify import classify_record
from catalog_seed import load_seed
from harvesters import registry
from harvesters.base import GatherStats, SourceContext
from harvesters.http import HttpClient
from simulator.server import PortalSimulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-number", type=int, default=2015)
    parser.add_argument("--show", metavar="CATEGORY", help="also print the titles this category got wrong")
    args = parser.parse_args()
    seed = load_seed()
    tp = fp = fn = tn = 0
    cat_tp: Counter[str] = Counter()
    cat_fp: Counter[str] = Counter()
    cat_fn: Counter[str] = Counter()
    with PortalSimulator(seed, seed_number=args.seed_number) as sim:
        http = HttpClient(route=sim.route)
        for plan in seed.sources():
            host = plan.url.split("/")[2]
            truth = {d.remote_id: d for d in sim.datasets(host)}
            harvester = registry.get(plan.platform)
            ctx = SourceContext(source_id=plan.source_id, platform=plan.platform, url=plan.url)
            for raw in harvester.gather(ctx, http, GatherStats()):
                label = truth.get(raw.remote_id)
                if label is None:
                    continue
                record = classify_record(harvester.map_record(raw, ctx))
                predicted, actual = record.pdi.police_related, label.police
                tp += predicted and actual
                fp += predicted and not actual
                fn += actual and not predicted
                tn += not predicted and not actual
                if predicted and actual:
                    got = set(record.pdi.category_ids)
                    want = set(label.categories)
                    for c in got & want:
                        cat_tp[c] += 1
                    for c in got - want:
                        cat_fp[c] += 1
                    for c in want - got:
                        cat_fn[c] += 1
                    if args.show and (args.show in got) != (args.show in want):
                        kind = "FP" if args.show in got else "FN"
                        print(f"# {kind} {record.title!r} got={sorted(got)} want={sorted(want)}")
                elif args.show == "police" and predicted != actual:
                    print(f"# {'FP' if predicted else 'FN'} {record.title!r} {record.pdi.category_ids}")
    print(f"datasets={tp + fp + fn + tn}")
    print(f"police_precision={tp / max(1, tp + fp):.3f}")
    print(f"police_recall={tp / max(1, tp + fn):.3f}")
    print(f"police_tp={tp} police_fp={fp} police_fn={fn}")
    for cat in sorted(set(cat_tp) | set(cat_fp) | set(cat_fn)):
        p = cat_tp[cat] / max(1, cat_tp[cat] + cat_fp[cat])
        r = cat_tp[cat] / max(1, cat_tp[cat] + cat_fn[cat])
        print(f"category.{cat}.precision={p:.3f} category.{cat}.recall={r:.3f} support={cat_tp[cat] + cat_fn[cat]}")


if __name__ == "__main__":
    main()
