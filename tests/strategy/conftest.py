"""A new, empty database per store test: a SQLite file, and a database of its own on the session's
PostgreSQL server (the migrations tests' fixture, shared)."""

from tests.migrations.conftest import new_database  # noqa: F401  (a fixture, used by name)
