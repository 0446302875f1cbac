"""One settings object for the whole system, read from ``PDI_*`` environment variables.

Unknown ``PDI_*`` variables and wrong types are refused at startup with a message naming the
variable, so a typo never silently falls back to a default. See docs/settings.md.
"""

from __future__ import annotations

import difflib
import os
import re
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from harvesters.base import ProbePolicy
from harvesters.http import DEFAULT_USER_AGENT, HttpSettings

ENV_PREFIX = "PDI_"
# An OAI-PMH repository identifier is a domain name (the oai-identifier scheme of the protocol).
OAI_REPOSITORY_ID = r"^[A-Za-z][A-Za-z0-9-]*(\.[A-Za-z][A-Za-z0-9-]*)+$"
DEFAULT_OAI_REPOSITORY_ID = "pdi-catalog.local"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsError(ValueError):
    pass


class Settings(BaseSettings):
    """Settings of PDI Catalog. Every field is documented in docs/settings.md (a test checks)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    environment: Environment = Field(Environment.DEVELOPMENT, description="development or production")
    data_dir: Path = Field(Path("data"), description="where the default store and embedded index live")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the store; default sqlite:///<data_dir>/pdi.sqlite"
    )
    index_url: str | None = Field(
        None, description="search index; default the embedded SQLite FTS5 index at <data_dir>/index.sqlite"
    )
    index_name: str = Field(
        "pdi-catalog",
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Elasticsearch alias the catalog is searched through (physical indices are <name>-<time>)",
    )
    seed_dir: Path | None = Field(None, description="catalog seed directory; default the bundled catalog_seed")
    admin_key: SecretStr = Field(SecretStr(""), description="key for admin endpoints; required in production")
    host: str = Field("127.0.0.1", description="address the API binds to")
    port: int = Field(8000, ge=0, le=65535, description="port the API listens on")
    demo_port: int = Field(8765, ge=0, le=65535, description="port of the demo portal simulator")
    demo_seed_number: int = Field(2015, description="seed number of the demo simulator's generated catalog")
    withdraw_after: int = Field(
        2, ge=1, le=100, description="complete harvests a dataset must be missing from before it is withdrawn"
    )
    harvest_workers: int = Field(8, ge=1, le=64, description="sources harvested at the same time")
    harvest_processes: int = Field(
        0,
        ge=0,
        le=64,
        description="processes a harvest spreads its portal hosts over (parsing and mapping use a core "
        "each); 0: one per CPU core, at most 4",
    )
    harvest_probes: bool = Field(
        True,
        description="settle a source whose catalog probe (size and latest change, or structure) is "
        "unchanged since its last whole read, without reading it again",
    )
    harvest_full_read_days: float = Field(
        7.0, gt=0, le=365, description="read a catalog whole at least this often, however steady its probe"
    )
    harvest_structure_trust_hours: float = Field(
        20.0,
        ge=0,
        le=24 * 365,
        description="how long a structural probe (ArcGIS Server directory, web page) is trusted; "
        "shorter than a day, so daily runs read those sources whole",
    )
    http_timeout_s: float = Field(30.0, gt=0, le=600, description="timeout of every portal request")
    http_max_retries: int = Field(3, ge=0, le=10, description="retries on timeouts, 429 and 5xx")
    http_max_body_mb: float = Field(64.0, gt=0, le=4096, description="largest portal response accepted")
    http_per_host_concurrency: int = Field(2, ge=1, le=32, description="requests in flight per portal host")
    http_per_host_min_delay_s: float = Field(
        0.5,
        ge=0,
        le=60,
        description="minimum gap between requests to one portal host (the demo's local simulator uses 0 unless set)",
    )
    http_user_agent: str = Field(DEFAULT_USER_AGENT, min_length=8, description="User-Agent sent to portals")
    public_url: str | None = Field(
        None,
        description="address users reach the API at (e.g. https://pdi.example.org), for the OAI-PMH base URL; "
        "default: the address of each request",
    )
    oai_repository_id: str | None = Field(
        None,
        pattern=OAI_REPOSITORY_ID,
        description="OAI-PMH repository identifier, a domain name; record identifiers are oai:<it>:<dataset id>, "
        f"so set it once; default: the host of PDI_PUBLIC_URL if a domain name, else {DEFAULT_OAI_REPOSITORY_ID}",
    )
    oai_admin_email: str | None = Field(
        None,
        pattern=r"^\S+@(\S+\.)+\S+$",
        description="contact address OAI-PMH Identify gives harvesters; default admin@<repository identifier>",
    )
    oai_page_size: int = Field(
        100, ge=1, le=1000, description="records (identifiers: 5 times as many) per OAI-PMH list response"
    )

    @field_validator("public_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("must be an http(s) URL without query, e.g. https://pdi.example.org")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _safe_outside_development(self) -> Settings:
        if self.environment is Environment.PRODUCTION and len(self.admin_key.get_secret_value()) < 16:
            raise ValueError("PDI_ADMIN_KEY must be set (16+ characters) when PDI_ENVIRONMENT=production")
        return self

    @property
    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'pdi.sqlite').as_posix()}"

    @property
    def index_path(self) -> Path:
        return self.data_dir / "index.sqlite"

    def probes(self, *, full: bool = False) -> ProbePolicy:
        """When a harvest may settle a source from its probe (never with ``full``)."""
        return ProbePolicy(
            enabled=self.harvest_probes and not full,
            full_read_every=timedelta(days=self.harvest_full_read_days),
            structure_trusted_for=timedelta(hours=self.harvest_structure_trust_hours),
        )

    @property
    def oai_repository(self) -> str:
        """The OAI-PMH repository identifier in force (see ``oai_repository_id``)."""
        if self.oai_repository_id:
            return self.oai_repository_id
        host = urlsplit(self.public_url).hostname if self.public_url else None
        if host and re.match(OAI_REPOSITORY_ID, host):
            return host
        return DEFAULT_OAI_REPOSITORY_ID

    @property
    def oai_admin(self) -> str:
        return self.oai_admin_email or f"admin@{self.oai_repository}"

    def http(self) -> HttpSettings:
        return HttpSettings(
            timeout_s=self.http_timeout_s,
            max_retries=self.http_max_retries,
            max_body_bytes=int(self.http_max_body_mb * 1024 * 1024),
            per_host_concurrency=self.http_per_host_concurrency,
            per_host_min_delay_s=self.http_per_host_min_delay_s,
            user_agent=self.http_user_agent,
        )


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment plus explicit overrides; a clear SettingsError on bad input."""
    known = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    # PDI_TEST_* belong to the test suite, PDI_ES_* and PDI_PG_* to scripts/elasticsearch and
    # scripts/postgres: not settings of the application.
    unknown = sorted(
        k
        for k in os.environ
        if k.startswith(ENV_PREFIX) and k not in known and not k.startswith(("PDI_TEST_", "PDI_ES_", "PDI_PG_"))
    )
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hints.append(f"{name}" + (f" (did you mean {close[0]}?)" if close else ""))
        raise SettingsError(f"unknown setting(s): {', '.join(hints)}")
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            env = f"{ENV_PREFIX}{field.upper()}" if field in Settings.model_fields else field
            lines.append(f"{env}: {err['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(lines)) from None
