"""PDF templates: per-tenant layouts of each document type, at most one default per type."""
