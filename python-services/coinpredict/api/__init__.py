"""HTTP layer: thin Flask blueprints over ``serving``; schemas validate and document requests."""
