"""Measure the classifier on the hand-labelled datasets of bench/labelled/*.jsonl.

For each part of the set (``dev``: errors looked at while improving the classifier; ``held_out``:
only measured; ``all``) prints ``name=value`` lines:

    <part>.lines, <part>.police.precision/recall/tp/fp/fn/tn   is it police data at all?
    <part>.category.<id>.precision/recall/support/predicted    per category, over every line
    <part>.micro.precision/recall, <part>.macro.precision/recall
    <part>.top1      share of police lines whose best category is one of the expected ones
    <part>.exact     share of lines whose predicted category set equals the expected set

then one ``# wrong ...`` line per line the classifier got wrong (``--no-wrong`` leaves them out).
``--table`` prints a Markdown table of the same figures instead of the ``name=value`` lines.
A precision with nothing predicted (or a recall with nothing expected) is ``nan``.

    python bench/labelled.py [--dir bench/labelled] [--table] [--no-wrong]

Bad labelled data (not JSON, an unknown category id, no source or split) is one stderr line naming
the file and line, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from catalog.classify import InputError, classify_input, parse_input
from catalog.vocabulary import Category

HERE = Path(__file__).resolve().parent
SPLITS = ("dev", "held_out")
PARTS = (*SPLITS, "all")


@dataclass(frozen=True)
class Labelled:
    where: str
    title: str
    expected: tuple[str, ...]
    got: tuple[str, ...]
    source: str
    split: str


@dataclass
class Tally:
    lines: int = 0
    police: Counter[str] = field(default_factory=Counter)  # tp fp fn tn
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    top1_hits: int = 0
    top1_of: int = 0
    exact: int = 0

    def add(self, item: Labelled) -> None:
        self.lines += 1
        want, got = set(item.expected), set(item.got)
        key = {(True, True): "tp", (False, True): "fp", (True, False): "fn", (False, False): "tn"}
        self.police[key[(bool(want), bool(got))]] += 1
        for c in want & got:
            self.tp[c] += 1
        for c in got - want:
            self.fp[c] += 1
        for c in want - got:
            self.fn[c] += 1
        if want and got:
            self.top1_of += 1
            self.top1_hits += item.got[0] in want
        self.exact += want == got


def _ratio(num: int, den: int) -> float:
    return num / den if den else math.nan


def load(directory: Path) -> list[tuple[str, dict[str, object]]]:
    """Every labelled line as (file:line, object); exits 2 on bad labelled data."""
    known = {c.value for c in Category}
    rows: list[tuple[str, dict[str, object]]] = []
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        _fail(f"{directory}: no *.jsonl files")
    for path in files:
        for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            where = f"{path.name}:{n}"
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                _fail(f"{where}: not JSON: {exc}")
            if not isinstance(obj, dict):
                _fail(f"{where}: not a JSON object")
            expected = obj.get("expected")
            if not isinstance(expected, list) or not all(isinstance(c, str) and c in known for c in expected):
                _fail(f"{where}: 'expected' must be a list of category ids, got {expected!r}")
            if not isinstance(obj.get("source"), str) or obj.get("split") not in SPLITS:
                _fail(f"{where}: needs a 'source' string and a 'split' of {' or '.join(SPLITS)}")
            rows.append((where, obj))
    return rows


def _fail(message: str) -> None:
    print(f"bench/labelled.py: {message}", file=sys.stderr)
    sys.exit(2)


def evaluate(rows: list[tuple[str, dict[str, object]]]) -> list[Labelled]:
    out = []
    for where, obj in rows:
        try:
            result = classify_input(parse_input(obj))
        except InputError as exc:
            _fail(f"{where}: {exc}")
        out.append(
            Labelled(
                where=where,
                title=str(obj.get("title", "")),
                expected=tuple(obj["expected"]),  # type: ignore[arg-type]
                got=tuple(result.category_ids),
                source=str(obj["source"]),
                split=str(obj["split"]),
            )
        )
    return out


def tallies(items: list[Labelled]) -> dict[str, Tally]:
    parts = {p: Tally() for p in PARTS}
    for item in items:
        parts[item.split].add(item)
        parts["all"].add(item)
    return parts


def figures(part: str, t: Tally) -> list[tuple[str, float | int]]:
    p = t.police
    out: list[tuple[str, float | int]] = [
        (f"{part}.lines", t.lines),
        (f"{part}.police.precision", _ratio(p["tp"], p["tp"] + p["fp"])),
        (f"{part}.police.recall", _ratio(p["tp"], p["tp"] + p["fn"])),
        (f"{part}.police.tp", p["tp"]),
        (f"{part}.police.fp", p["fp"]),
        (f"{part}.police.fn", p["fn"]),
        (f"{part}.police.tn", p["tn"]),
    ]
    precisions, recalls = [], []
    for cat in Category:
        c = cat.value
        prec = _ratio(t.tp[c], t.tp[c] + t.fp[c])
        rec = _ratio(t.tp[c], t.tp[c] + t.fn[c])
        out += [
            (f"{part}.category.{c}.precision", prec),
            (f"{part}.category.{c}.recall", rec),
            (f"{part}.category.{c}.support", t.tp[c] + t.fn[c]),
            (f"{part}.category.{c}.predicted", t.tp[c] + t.fp[c]),
        ]
        if t.tp[c] + t.fn[c]:
            precisions.append(0.0 if math.isnan(prec) else prec)
            recalls.append(rec)
    tp, fp, fn = sum(t.tp.values()), sum(t.fp.values()), sum(t.fn.values())
    out += [
        (f"{part}.micro.precision", _ratio(tp, tp + fp)),
        (f"{part}.micro.recall", _ratio(tp, tp + fn)),
        (f"{part}.macro.precision", sum(precisions) / len(precisions) if precisions else math.nan),
        (f"{part}.macro.recall", sum(recalls) / len(recalls) if recalls else math.nan),
        (f"{part}.top1", _ratio(t.top1_hits, t.top1_of)),
        (f"{part}.exact", _ratio(t.exact, t.lines)),
    ]
    return out


def _fmt(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def table(parts: dict[str, Tally]) -> str:
    values = {name: v for part, t in parts.items() for name, v in figures(part, t)}

    def cell(part: str, what: str) -> str:
        s = values[f"{part}.{what}.support"] if what.startswith("category") else None
        prec, rec = values[f"{part}.{what}.precision"], values[f"{part}.{what}.recall"]
        head = f"{s} · " if s is not None else ""
        return f"{head}{_fmt(prec)} / {_fmt(rec)}"

    lines = [
        "| category | dev: support · P / R | held out: support · P / R | all: support · P / R |",
        "| --- | --- | --- | --- |",
    ]
    for cat in Category:
        lines.append(f"| `{cat.value}` | " + " | ".join(cell(p, f"category.{cat.value}") for p in PARTS) + " |")
    lines.append("| **police or not** | " + " | ".join(cell(p, "police") for p in PARTS) + " |")
    lines.append("| micro | " + " | ".join(cell(p, "micro") for p in PARTS) + " |")
    lines.append("| macro | " + " | ".join(cell(p, "macro") for p in PARTS) + " |")
    lines.append("| best category right (top1) | " + " | ".join(_fmt(values[f"{p}.top1"]) for p in PARTS) + " |")
    lines.append("| exact set | " + " | ".join(_fmt(values[f"{p}.exact"]) for p in PARTS) + " |")
    lines.append("| lines | " + " | ".join(str(values[f"{p}.lines"]) for p in PARTS) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dir", type=Path, default=HERE / "labelled", help="folder of *.jsonl labelled files")
    parser.add_argument("--table", action="store_true", help="a Markdown table instead of name=value lines")
    parser.add_argument("--no-wrong", action="store_true", help="do not list the lines the classifier got wrong")
    args = parser.parse_args(argv)
    items = evaluate(load(args.dir))
    parts = tallies(items)
    if args.table:
        print(table(parts))
    else:
        for part, t in parts.items():
            for name, v in figures(part, t):
                print(f"{name}={_fmt(v)}")
    if not args.no_wrong:
        for item in items:
            if set(item.expected) != set(item.got):
                print(
                    f"# wrong {item.split} {item.where} {item.title!r}: "
                    f"expected={list(item.expected)} got={list(item.got)} ({item.source})"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
