from __future__ import annotations

import json

import yaml
from jsonschema import Draft7Validator

from tests.conftest import REPO, reference_dir


def test_docker_compose_is_valid_against_the_compose_spec():
    schema = json.loads((reference_dir() / "schemas" / "compose-spec" / "compose-spec.json").read_text())
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft7Validator(schema).iter_errors(compose)]
    assert errors == []
    assert "api" in compose["services"]
    assert compose["services"]["api"]["healthcheck"]["test"]
