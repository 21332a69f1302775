"""The model zoo: one abstract base, families as small modules, variants as registry entries."""
