"""The caller lookup: one deadline, a dependency graph of sources, provenance on every field."""
