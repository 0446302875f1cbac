"""Validation of records against the DCAT-US 1.1 non-federal dataset schema, offline.

The schema files are copied from ../shared/reference/schemas/dcat-us-v1.1-non-federal (GSA's
ckanext-datajson, commit 4c5b1fc9); their inline definitions carry their own ``id`` URLs, so each
is registered under that id and no reference is ever fetched over the network.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMA_DIR = "schemas/dcat-us-v1.1-non-federal"


def _load(name: str) -> dict[str, Any]:
    text = resources.files("catalog").joinpath(f"{SCHEMA_DIR}/{name}").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def _registry_and_schemas() -> tuple[Registry, dict[str, Any], dict[str, Any]]:
    dataset = _load("dataset-non-federal.json")
    catalog = _load("catalog.json")
    resources_: list[tuple[str, Resource]] = []
    for definition in dataset.get("definitions", {}).values():
        if "id" in definition:
            resources_.append((definition["id"].rstrip("#"), DRAFT4.create_resource(definition)))
    dataset_id = dataset.get("id", "https://resources.data.gov/schemas/dcat-us/v1.1/schema/dataset.json#")
    resources_.append((dataset_id.rstrip("#"), DRAFT4.create_resource(dataset)))
    # catalog.json refers to the dataset schema by a relative name
    base = dataset_id.rsplit("/", 1)[0]
    resources_.append((f"{base}/dataset-non-federal.json", DRAFT4.create_resource(dataset)))
    registry: Registry = Registry().with_resources(resources_)
    return registry, dataset, catalog


def _validator(schema: dict[str, Any]) -> Draft4Validator:
    registry, _, _ = _registry_and_schemas()
    return Draft4Validator(schema, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)


def dataset_errors(dataset: dict[str, Any]) -> list[str]:
    """Every way ``dataset`` fails the non-federal dataset schema, as ``path: message`` lines."""
    _, schema, _ = _registry_and_schemas()
    errors = sorted(_validator(schema).iter_errors(dataset), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]


def catalog_errors(catalog: dict[str, Any]) -> list[str]:
    """Every way a whole ``data.json`` catalog fails the non-federal catalog schema."""
    _, _, schema = _registry_and_schemas()
    errors = sorted(_validator(schema).iter_errors(catalog), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]
