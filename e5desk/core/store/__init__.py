"""Persistence: the embedding cache, project files, and exports/imports."""
