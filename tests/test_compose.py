from __future__ import annotations

import json
import re

import yaml
from jsonschema import Draft7Validator

from tests.conftest import REPO, reference_dir


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_docker_compose_is_valid_against_the_compose_spec():
    schema = json.loads((reference_dir() / "schemas" / "compose-spec" / "compose-spec.json").read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft7Validator(schema).iter_errors(_compose())]
    assert errors == []


def test_services_wait_for_healthy_backends():
    services = _compose()["services"]
    assert {"elasticsearch", "postgres", "api", "scheduler"} <= set(services)
    for name in ("elasticsearch", "postgres", "api"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("api", "scheduler"):
        assert services[name]["depends_on"] == {
            "elasticsearch": {"condition": "service_healthy"},
            "postgres": {"condition": "service_healthy"},
        }
        env = services[name]["environment"]
        assert env["PDI_INDEX_URL"].startswith("http://elasticsearch")
        assert env["PDI_DATABASE_URL"].startswith("postgresql://")
    assert "es-data:/usr/share/elasticsearch/data" in services["elasticsearch"]["volumes"]


def test_elasticsearch_image_matches_the_pinned_test_server_and_client():
    image = _compose()["services"]["elasticsearch"]["image"]
    version = image.rsplit(":", 1)[1]
    script = (REPO / "scripts" / "elasticsearch").read_text()
    assert re.search(rf"^ES_VERSION={re.escape(version)}$", script, re.M)
    pyproject = (REPO / "pyproject.toml").read_text()
    major = version.split(".")[0]
    assert '"elasticsearch>=' in pyproject and f",<{int(major) + 1}" in pyproject
