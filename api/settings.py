"""The service's configuration: one settings class, read from the environment, checked at start.

Every variable is prefixed ``DIPREC_``, except ``DATABASE_URL``, which follows the common
convention. Everything the event-sourcing library needs is derived from these settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "diprec"


class Settings(BaseSettings):
    """Configuration of the diprec service and command line."""

    model_config = SettingsConfigDict(env_prefix="DIPREC_", extra="ignore", frozen=True)

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "DIPREC_DATABASE_URL"),
        description="PostgreSQL to use (postgresql://user:password@host:port/db); "
        "unset, the service runs an embedded PostgreSQL in data_dir.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the embedded PostgreSQL keeps its data.",
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP API listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the HTTP API listens on.")
    pool_size: int = Field(default=10, ge=1, le=200, description="Database connections.")
    connect_timeout: int = Field(
        default=5, ge=1, le=120, description="Seconds to wait when connecting to PostgreSQL."
    )
    environment: Literal["development", "production"] = Field(
        default="development", description="production refuses insecure settings."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text: one line per record; json: one JSON object per line.",
    )
    anonymous_reads: bool = Field(
        default=False, description="Let requests without an API key read (GET)."
    )
    require_source_text: bool = Field(
        default=False,
        description="Refuse quotes of sources registered without text (they cannot be "
        "checked); by default they are accepted, their status unverified.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser (CORS); none by default.",
    )
    request_timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        le=600,
        description="How long a client may take to send a request's headers (then the "
        "connection is closed) and its body (then 408).",
    )
    max_connections: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="Connections and requests served at once; beyond them, requests get 503.",
    )
    refusals_per_second: float = Field(
        default=10.0,
        ge=0,
        le=100_000,
        description="Refused requests (4xx but 409 and 412) a client may send a second, in "
        "bursts of five seconds' worth; beyond, its refusals are answered a second late. "
        "0: never.",
    )
    max_body_bytes: int = Field(
        default=2_000_000,
        ge=1_000,
        le=100_000_000,
        description="Largest request body accepted; larger ones get 413.",
    )
    read_wait_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="How long a read waits for the read models to include every write "
        "acknowledged before it (or min_position); then 503.",
    )
    write_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="How long a write may take: a request waiting longer for it is answered "
        "503 (retry with the same Idempotency-Key), and the event store's statements and "
        "lock waits are bounded by it.",
    )
    query_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="How long a read's queries may run; a read that takes longer gets 503.",
    )
    max_waiting_reads: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Reads that may wait for the read models at once; beyond them, 503.",
    )
    projection_batch_size: int = Field(
        default=500, ge=1, le=100_000, description="Events a projection applies per transaction."
    )
    projection_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often projections look for new events when no notification came.",
    )

    @model_validator(mode="after")
    def _secure_in_production(self) -> Settings:
        if self.environment == "production" and "*" in self.cors_origins:
            msg = "DIPREC_CORS_ORIGINS may not be * in production: name the origins"
            raise ValueError(msg)
        return self

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, url: str | None) -> str | None:
        if url is None or not url.strip():
            return None
        if not url.startswith(("postgresql://", "postgres://")):
            msg = "DATABASE_URL must start with postgresql:// (e.g. postgresql://user@host/db)"
            raise ValueError(msg)
        return url
