"""The tests' databases are copies of a template migrated once per test process (tests/support/databases.py). A copy
must be what `build` makes of an empty database, minus what it records: the same tables, columns, indexes,
constraints, triggers and functions, at the same alembic revision, and no rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from tests.conftest import START

from ar.adapters.clocks import SettableClock
from ar.config import Settings
from ar.runtime import build

PG_SCHEMA = {
    "relations": "SELECT relname, relkind FROM pg_class WHERE relnamespace = 'public'::regnamespace",
    "columns": "SELECT table_name, column_name, ordinal_position, data_type, column_default, is_nullable "
               "FROM information_schema.columns WHERE table_schema = 'public'",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE connamespace = 'public'::regnamespace",
    "triggers": "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE NOT tgisinternal",
    "functions": "SELECT proname, pg_get_functiondef(oid) FROM pg_proc "
                 "WHERE pronamespace = 'public'::regnamespace AND prokind IN ('f', 'p')",
    "types": "SELECT typname, typtype FROM pg_type WHERE typnamespace = 'public'::regnamespace",
    "alembic": "SELECT version_num FROM alembic_version",
}


def _pg_schema(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as conn:
        return {name: sorted(conn.execute(sql).fetchall()) for name, sql in PG_SCHEMA.items()}


def _pg_rows(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # type: ignore[index]


def _sqlite_files(database_url: str) -> list[Path]:
    settings = Settings(database_url=database_url)
    return [settings.sqlite_path, Path(settings.event_store_env()["SQLITE_DBNAME"])]


def _sqlite_schema(database_url: str) -> list[list[tuple[Any, ...]]]:
    out = []
    for path in _sqlite_files(database_url):
        engine = sa.create_engine(f"sqlite:///{path}")
        with engine.connect() as conn:
            out.append(sorted(tuple(r) for r in conn.execute(sa.text(
                "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))))
            if sa.inspect(conn).has_table("alembic_version"):
                out.append([tuple(r) for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))])
        engine.dispose()
    return out


def _sqlite_rows(database_url: str) -> dict[str, int]:
    counts = {}
    for path in _sqlite_files(database_url):
        engine = sa.create_engine(f"sqlite:///{path}")
        with engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                counts[f"{path.name}:{table}"] = conn.scalar(sa.text(f'SELECT count(*) FROM "{table}"')) or 0
        engine.dispose()
    return counts


def test_a_postgresql_copy_of_the_template_has_the_schema_build_makes_and_no_rows(
        pg_database: str, empty_pg_database: str) -> None:
    copy = _pg_schema(pg_database)
    rows = _pg_rows(pg_database)
    build(Settings(database_url=empty_pg_database, pool_size=2, run_dunning=False), SettableClock(START)).close()
    fresh = _pg_schema(empty_pg_database)
    assert len(fresh["relations"]) > 20 and fresh["alembic"], fresh  # the comparison below compares something
    for part in PG_SCHEMA:
        assert copy[part] == fresh[part], part
    assert {t: n for t, n in rows.items() if n and t != "alembic_version"} == {}, "the template recorded something"
    assert rows["alembic_version"] == 1


def test_a_sqlite_copy_of_the_template_has_the_schema_build_makes_and_no_rows(
        sqlite_database: str, tmp_path: Path) -> None:
    copy, rows = _sqlite_schema(sqlite_database), _sqlite_rows(sqlite_database)
    fresh_url = f"sqlite:///{tmp_path / 'fresh' / 'ar.sqlite'}"
    build(Settings(database_url=fresh_url, pool_size=2, run_dunning=False), SettableClock(START)).close()
    fresh = _sqlite_schema(fresh_url)
    assert len(fresh) == 3 and len(fresh[0]) > 20 and fresh[1] and fresh[2], fresh  # ours, revision, event store
    assert copy == fresh
    assert {t: n for t, n in rows.items() if n and t != "ar.sqlite:alembic_version"} == {}, "the template recorded"
    assert rows["ar.sqlite:alembic_version"] == 1
