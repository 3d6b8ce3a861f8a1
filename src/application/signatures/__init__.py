"""Signatures: applying, revoking and listing signatures, requests to sign by link, sealing and evidence."""
