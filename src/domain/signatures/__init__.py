"""Signatures: signature images applied to a document's exact bytes, requests to sign sent to
people outside the tenant, and the hash-chained audit trail that makes edits detectable."""
