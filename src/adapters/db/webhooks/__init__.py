"""The webhooks' persistence: the inbox of verified deliveries."""
