"""Alembic's environment: migrate the connection ``common.migrate`` hands over (already holding the
migration lock), or, from the ``alembic`` command, the settings' ``DATABASE_URL`` under the same lock."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from coinpredict.common.database import make_engine
from coinpredict.common.migrate import migration_lock
from coinpredict.config import Settings

given = context.config.attributes.get("connection")
if context.config.config_file_name:  # the alembic command: its ini's logging, so ops see each step
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)


def target_metadata() -> list | None:
    """The declared tables, for the alembic command's autogenerate and check; a service starting only
    upgrades, and so does not import the jobs package (and training with it) for them."""
    if given is not None:
        return None
    from coinpredict.migrations.metadata import TARGET_METADATA

    return list(TARGET_METADATA)


def database_url() -> str:
    return context.config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


def migrate(connection) -> None:
    # render_as_batch: SQLite alters a table by copying it, which alembic's batch mode writes.
    context.configure(connection=connection, target_metadata=target_metadata(), render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():  # alembic upgrade --sql: print the SQL for a DBA instead of running it
    context.configure(url=database_url(), target_metadata=target_metadata(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif given is not None:
    migrate(given)
else:
    engine = make_engine(database_url())
    try:
        with migration_lock(engine) as conn:
            migrate(conn)
    finally:
        engine.dispose()
