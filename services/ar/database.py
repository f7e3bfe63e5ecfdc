"""Engines for our own tables and the alembic migration entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from ar.config import Settings


def create_engine(settings: Settings) -> sa.Engine:
    if settings.is_postgres:
        return sa.create_engine(settings.sqlalchemy_url(), pool_size=settings.pool_size,
                                max_overflow=max(2, settings.pool_size // 2),
                                pool_pre_ping=True)
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(settings.sqlalchemy_url(), connect_args={"timeout": 30, "check_same_thread": False},
                              pool_size=settings.pool_size, max_overflow=10)

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def migrations_dir() -> Path:
    for candidate in (Path.cwd() / "migrations", Path(__file__).resolve().parents[2] / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("cannot find the migrations/ folder (run from the project root)")


def migrate(engine: sa.Engine) -> None:
    """Bring our tables to the latest revision (`ar migrate`; also run by `ar serve` at start-up)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
