from __future__ import annotations

import subprocess
import sys

import pytest

from pdi.settings import SettingsError, load_settings
from tests.conftest import REPO


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    import os

    for key in list(os.environ):
        if key.startswith("PDI_"):
            monkeypatch.delenv(key)


def test_defaults_are_embedded_and_local():
    s = load_settings()
    assert s.store_url == "sqlite:///data/pdi.sqlite"
    assert s.index_url is None and s.index_path.as_posix() == "data/index.sqlite"


def test_unknown_variable_is_refused_with_a_suggestion(monkeypatch):
    monkeypatch.setenv("PDI_DATABSE_URL", "sqlite:///x.db")
    with pytest.raises(SettingsError, match="PDI_DATABSE_URL.*did you mean PDI_DATABASE_URL"):
        load_settings()


def test_wrong_type_names_the_variable(monkeypatch):
    monkeypatch.setenv("PDI_PORT", "eighty")
    with pytest.raises(SettingsError, match="PDI_PORT"):
        load_settings()


def test_production_needs_an_admin_key(monkeypatch):
    monkeypatch.setenv("PDI_ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="PDI_ADMIN_KEY"):
        load_settings()
    monkeypatch.setenv("PDI_ADMIN_KEY", "k" * 32)
    assert load_settings().environment.value == "production"


def test_cli_reports_bad_settings_in_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PDI_HARVEST_WORKERS": "lots"}
    r = subprocess.run([sys.executable, "-m", "pdi.cli", "seed"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().startswith("pdi: invalid settings: PDI_HARVEST_WORKERS")


def test_settings_docs_are_up_to_date():
    r = subprocess.run(
        [sys.executable, "scripts/settings_docs.py", "--check"], cwd=REPO, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
