"""Persistence: one interface, SQLite (default, WAL) and PostgreSQL implementations."""
