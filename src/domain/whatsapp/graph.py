"""What an error of the WhatsApp Cloud (Graph) API means for a delivery."""

from __future__ import annotations

RATE_LIMITED = frozenset({130429, 131056, 80007})
TEMPORARY = frozenset({1, 2, 131000, 131016})  # unknown / temporarily unavailable / internal / service down
WINDOW_CLOSED_CODE = 131047
TOKEN_INVALID = 190


def graph_disposition(code: int | None, http_status: int | None) -> str:
    """``retry`` (rate limits, temporary errors, 5xx: backoff), ``window`` (131047: use a template),
    ``reauth`` (190: the token is no longer valid) or ``fail`` (132000, 132001, 132018, 131026, 131051,
    100, 368 and anything else: trying again cannot help)."""
    if code in RATE_LIMITED or code in TEMPORARY:
        return "retry"
    if code == WINDOW_CLOSED_CODE:
        return "window"
    if code == TOKEN_INVALID or http_status == 401:
        return "reauth"
    if http_status is not None and (http_status >= 500 or http_status in (408, 429)):
        return "retry"
    return "fail"
