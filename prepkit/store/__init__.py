"""Persistence: the engine factory, the schema and its migrations, and the hot-path statements."""
