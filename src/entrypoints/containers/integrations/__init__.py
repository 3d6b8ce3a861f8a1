"""The containers of the connectors (integrations/<provider>)."""
