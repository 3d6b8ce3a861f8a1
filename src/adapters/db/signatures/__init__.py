"""Signatures' persistence: signatures, requests, seals, the audit chain and its head."""
