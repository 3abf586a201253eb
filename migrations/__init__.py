"""Alembic migrations of the edgar_ingest schema (installed as ``edgar_ingest.migrations``)."""
