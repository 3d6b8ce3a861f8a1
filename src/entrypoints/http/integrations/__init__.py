"""HTTP routes of the connectors (integrations/<provider>)."""
