"""The docs say what the code does: every platform is documented, sampled and tested."""

from __future__ import annotations

import re

from harvesters import registry
from tests.conftest import REPO


def test_every_platform_has_a_docs_section_golden_samples_and_a_mapping_table():
    mapping_doc = (REPO / "docs" / "mapping.md").read_text()
    for harvester in registry.all_harvesters():
        name = harvester.platform
        assert re.search(rf"^## `{name}` — ", mapping_doc, re.M), f"docs/mapping.md has no section for {name}"
        golden = list((REPO / "tests" / "golden" / name).glob("*.jsonl"))
        assert golden, f"no golden sample for {name}"
        assert getattr(harvester, "mapping", None), f"{name} has no mapping table"
        assert harvester.title


def test_readme_names_every_cli_command():
    from pdi.cli import build_parser

    readme = (REPO / "README.md").read_text()
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name in commands:
        assert f"pdi {name}" in readme, f"README does not show `pdi {name}`"


def test_readme_test_command_is_what_ci_runs():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in readme and "make test" in ci


def test_categories_doc_is_generated_from_the_vocabulary():
    from catalog.vocabulary import vocabulary_markdown

    doc = (REPO / "docs" / "categories.md").read_text()
    assert doc == vocabulary_markdown(), (
        "docs/categories.md is stale: python -m catalog.vocabulary > docs/categories.md"
    )


def test_readme_names_every_ckan_action_and_export():
    from api.ckan.actions import ACTIONS
    from api.exports import CSV_COLUMNS

    readme = (REPO / "README.md").read_text()
    for name in ACTIONS:
        assert f"`{name}`" in readme, f"README does not document the CKAN action {name}"
    for column in CSV_COLUMNS:
        assert f"`{column}`" in readme, f"README does not list the CSV column {column}"
    assert "/data.json" in readme and "/api/search.csv" in readme
