"""Settings from the environment (prefix `AR_`), read once at start-up."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AR_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///./var/ar.sqlite",
        description="sqlite:///path/to/ar.sqlite (embedded; events go to a sibling *.events.sqlite file) or "
        "postgresql://user:password@host:port/dbname (events and read models in one database)",
    )
    pool_size: int = Field(40, description="PostgreSQL connections for the event store; size it to the threadpool")
    threadpool_size: int = Field(40, description="worker threads for synchronous command routes")
    projection_interval_s: float = Field(0.2, description="polling interval of the in-process projections")
    idempotency_ttl_hours: int = Field(48, description="how long Idempotency-Key responses are kept (at least 24)")
    run_projections: bool = Field(True, description="run the read-model projections inside `ar serve`; set false "
                                  "when `ar worker` runs them")
    simulated_clock: bool = Field(False, description="expose POST /v1/admin/clock (demos and tests only)")

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql", "postgres"))

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    def sqlalchemy_url(self) -> str:
        """The URL of our own tables (read models, idempotency keys), with an explicit driver."""
        if self.is_postgres:
            parts = urlsplit(self.database_url)
            return parts._replace(scheme="postgresql+psycopg").geturl()
        return f"sqlite:///{self.sqlite_path}"

    def event_store_env(self) -> dict[str, str]:
        """The `eventsourcing` library's settings for the event store."""
        if not self.is_postgres:
            events = self.sqlite_path.with_name(self.sqlite_path.stem + ".events.sqlite")
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(events),
                    "SQLITE_LOCK_TIMEOUT": "30"}
        parts = urlsplit(self.database_url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_POOL_SIZE": str(self.pool_size),
            "POSTGRES_MAX_OVERFLOW": str(max(2, self.pool_size // 2)),
            "POSTGRES_CONNECT_TIMEOUT": "10",
            "POSTGRES_LOCK_TIMEOUT": "10",
        }
