"""Alembic migrations of the service database (``DATABASE_URL``: job records, the prediction ledger).

Run on start by ``common.migrate.upgrade_to_head`` (every store opening the database); ops use the
``alembic`` command from the repository root (its alembic.ini points here). A change to a table in
``jobs/store.py`` or ``ledger/store.py`` needs a new revision in ``versions/``: the tests compare those
tables (``metadata.TARGET_METADATA``) with the migrated schema and fail on any difference.
The newest revision is also written in ``common.migrate.HEAD_REVISION``, so a process whose database is
already there can tell without importing alembic (a web worker then never loads it); a test keeps it
equal to alembic's head: a new revision updates it."""
