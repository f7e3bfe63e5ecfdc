"""`migrate` reads the migration scripts once per process: a database behind the head is still brought to it, in a
process that has migrated (and cached the scripts) already. SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from ar.database import migrate, migrations_dir
from ar.runtime import Runtime


def _revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT version_num FROM alembic_version"))


def test_a_database_behind_is_migrated_to_the_head_by_a_process_that_migrated_before(runtime: Runtime) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    head = ScriptDirectory.from_config(config).get_current_head()
    migrate(runtime.engine)  # at the head: nothing to do (and the scripts are read, if they were not)
    assert _revision(runtime.engine) == head
    tables = sorted(sa.inspect(runtime.engine).get_table_names())

    with runtime.engine.begin() as conn:  # back to 0010, as a database left behind by an older release
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")
    assert _revision(runtime.engine) == "0010"
    assert sorted(sa.inspect(runtime.engine).get_table_names()) != tables, "the downgrade changed nothing to test"

    migrate(runtime.engine)
    assert _revision(runtime.engine) == head
    assert sorted(sa.inspect(runtime.engine).get_table_names()) == tables
