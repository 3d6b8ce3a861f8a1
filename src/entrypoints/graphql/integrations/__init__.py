"""GraphQL of the connectors (integrations/<provider>)."""
