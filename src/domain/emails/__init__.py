"""The emails domain: client defaults, the message log, templates."""
