"""PDF templates' persistence: the templates and the per-document-type locks."""
