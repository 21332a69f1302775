"""Command-line programs: `python -m coinpredict.cli.<name>` or the `coinpredict-<name>` entry
points; `scripts/<name>.py` are thin wrappers kept for the documented commands."""
