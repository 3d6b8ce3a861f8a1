"""SHA-256 of asset bytes, computed once however many times a render asks.

A render hashes each asset (the logo, ~40 kB) three times: for its content-addressed URL, in
the fetcher that checks the URL, and in the PDF identifier. The digests of the last few
distinct byte strings are kept, keyed by the bytes themselves (a lookup hashes them with
Python's own hash, computed once per bytes object), so the answer is always the exact digest.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

ENTRIES = 16
_digests: OrderedDict[bytes, bytes] = OrderedDict()


def sha256(data: bytes) -> bytes:
    digest = _digests.get(data)
    if digest is None:
        digest = _digests[data] = hashlib.sha256(data).digest()
        if len(_digests) > ENTRIES:
            _digests.popitem(last=False)
    else:
        _digests.move_to_end(data)
    return digest
