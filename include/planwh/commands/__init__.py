"""Command-line commands that do not belong to one pipeline stage (database, demo, sample)."""
