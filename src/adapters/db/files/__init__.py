"""The files domain's persistence: files, their links to entities, the per-content locks."""
