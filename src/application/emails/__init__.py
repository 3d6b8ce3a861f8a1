"""The emails domain: per-client defaults, templates, the message log and its delivery."""
