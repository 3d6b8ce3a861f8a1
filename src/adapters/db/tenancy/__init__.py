"""Tenancy's persistence: tenants, their users, subscriptions and the directory's users."""
