"""The labelled set (bench/labelled/*.jsonl) and the script that measures the classifier on it."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from catalog.vocabulary import Category
from tests.conftest import REPO

LABELLED = REPO / "bench" / "labelled"
SCRIPT = [sys.executable, str(REPO / "bench" / "labelled.py")]


def _rows() -> list[dict]:
    return [json.loads(line) for path in sorted(LABELLED.glob("*.jsonl")) for line in path.read_text().splitlines()]


def _figures(stdout: str) -> dict[str, float]:
    out = {}
    for line in stdout.splitlines():
        if line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        out[name] = float(value)
    return out


def test_labelled_set_is_well_formed_and_covers_every_category():
    rows = _rows()
    assert len(rows) >= 300
    known = {c.value for c in Category}
    positives: Counter[str] = Counter()
    for row in rows:
        assert row["source"] and row["split"] in ("dev", "held_out")
        assert set(row["expected"]) <= known and len(set(row["expected"])) == len(row["expected"])
        assert any(row.get(f) for f in ("title", "description", "keywords", "columns"))
        positives.update(row["expected"])
    assert all(positives[c] >= 10 for c in known), positives
    assert sum(1 for r in rows if not r["expected"]) >= 100  # negatives, hard ones included
    # every dataset of the real recorded portal samples is in the set
    assert sum(1 for r in rows if r["source"].startswith("portal-samples/")) >= 40
    labels: dict[str, set[tuple[str, ...]]] = {}
    for r in rows:
        labels.setdefault(" ".join(r["title"].lower().split()), set()).add(tuple(sorted(r["expected"])))
    assert not {t: ls for t, ls in labels.items() if len(ls) > 1}, "one title, two different labels"


def test_script_prints_figures_that_parse_for_every_category_and_part():
    r = subprocess.run(SCRIPT, capture_output=True, text=True, cwd=REPO, check=False)
    assert r.returncode == 0, r.stderr
    figures = _figures(r.stdout)
    rows = _rows()
    assert figures["all.lines"] == len(rows)
    assert figures["dev.lines"] + figures["held_out.lines"] == len(rows)
    for part in ("dev", "held_out", "all"):
        for c in Category:
            support = figures[f"{part}.category.{c.value}.support"]
            assert support == sum(1 for row in rows if c.value in row["expected"] and part in (row["split"], "all"))
            for what in ("precision", "recall"):
                value = figures[f"{part}.category.{c.value}.{what}"]
                assert math.isnan(value) or 0.0 <= value <= 1.0
        p = {k: figures[f"{part}.police.{k}"] for k in ("tp", "fp", "fn", "tn")}
        assert sum(p.values()) == figures[f"{part}.lines"]
        assert figures[f"{part}.police.precision"] == pytest.approx(p["tp"] / (p["tp"] + p["fp"]), abs=1e-3)
    # a regression guard, far below today's figures (see the closing note / README for those)
    assert figures["all.police.precision"] >= 0.95 and figures["all.police.recall"] >= 0.9
    assert figures["all.micro.precision"] >= 0.9 and figures["all.micro.recall"] >= 0.85
    wrong = [line for line in r.stdout.splitlines() if line.startswith("# wrong ")]
    assert len(wrong) == round(figures["all.lines"] * (1 - figures["all.exact"]))


def test_script_table_and_bad_labelled_data(tmp_path: Path):
    r = subprocess.run([*SCRIPT, "--table", "--no-wrong"], capture_output=True, text=True, cwd=REPO, check=False)
    assert r.returncode == 0 and r.stdout.count("\n| `") == len(Category)
    (tmp_path / "bad.jsonl").write_text('{"title": "x", "expected": ["use_of_farce"], "source": "s", "split": "dev"}\n')
    r = subprocess.run([*SCRIPT, "--dir", str(tmp_path)], capture_output=True, text=True, check=False)
    assert r.returncode == 2 and "bad.jsonl:1" in r.stderr and "use_of_farce" in r.stderr
