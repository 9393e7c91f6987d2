"""Persistence: SQLModel tables, engine set-up and the unit of work."""
