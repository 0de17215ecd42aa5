"""The command modules of ``bench`` that ``benchmark/cli.py`` registers (kept apart to keep the CLI readable)."""
