"""Invoicing's persistence: clients, invoices, quotes and the tenants' PAC settings."""
