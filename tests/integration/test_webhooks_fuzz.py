"""The unauthenticated surface fuzzed (issue 19): every webhook route gets arbitrary headers
(near-miss signatures and timestamps among them: Unicode digits, hundreds of digits, stray
separators), arbitrary bodies (bytes, JSON, WhatsApp-shaped) and arbitrary PAC company ids. No
answer is a 5xx: each is a 4xx with a JSON error naming the problem, no traceback, and nothing
is stored (no event, no job)."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from entrypoints.config import Variables
from tests.integration.webhooks_helpers import POLAR_SECRET, WORKOS_SECRET, count

AURINKO_SECRET = "aurinko-signing-secret-for-the-fuzz"
ROUTES = ("/webhooks/polar", "/webhooks/workos", "/webhooks/aurinko", "/webhooks/whatsapp", "/webhooks/pac/")
HEADERS = (
    "webhook-id", "webhook-timestamp", "webhook-signature", "WorkOS-Signature", "X-Aurinko-Signature",
    "X-Aurinko-Request-Timestamp", "X-Hub-Signature-256", "X-Pac-Signature", "Content-Type",
)
DIGITS = "0123456789²³¹٠١٢٣٤٥٦٧٨٩０１２３"  # ASCII, superscript, Arabic-Indic and full-width digits


def _as_received(text: str) -> str:
    """What a server reads from a header sent as UTF-8: its bytes as latin-1, never a line break."""
    return text.encode().decode("latin-1").replace("\r", "").replace("\n", "")


_numbers = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**15).map(str),
    st.just(str(int(time.time()))), st.just(str(int(time.time() * 1000))),
    st.text(alphabet=DIGITS, min_size=1, max_size=400),
)
_signatures = st.one_of(
    st.builds(lambda t, v: f"t={t},v1={v}", _numbers, st.text(alphabet="0123456789abcdef", max_size=70)),
    st.builds(lambda t, v: f"t={t}, v1={v}, v1=", _numbers, st.text(max_size=20)),
    st.builds(lambda v: f"v1,{v}", st.text(alphabet="ABCDEFabcdef0123456789+/=", max_size=60)),
    st.builds(lambda v: f"sha256={v}", st.text(alphabet="0123456789abcdefABCDEF", max_size=80)),
    st.text(max_size=80),
)
_values = st.one_of(_numbers, _signatures, st.text(max_size=60)).map(_as_received)
_headers = st.dictionaries(st.sampled_from(HEADERS), _values, max_size=6)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
_whatsapp = st.builds(
    lambda number, extra: {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "messages", "value": {"metadata": {"phone_number_id": number}, **extra}}]}]},
    st.one_of(st.text(max_size=20), st.integers(), st.none()), st.dictionaries(st.text(max_size=8), _json, max_size=2),
)
_bodies = st.one_of(
    st.binary(max_size=300),
    _json.map(lambda value: json.dumps(value).encode()),
    _whatsapp.map(lambda value: json.dumps(value).encode()),
)


def test_no_input_to_a_webhook_route_is_a_server_error_or_stored(make_service: Any) -> None:
    service = make_service(
        polar_webhook_secret=POLAR_SECRET, workos_webhook_secret=WORKOS_SECRET, aurinko_signing_secret=AURINKO_SECRET,
        pac_webhook_secret="pac-webhook-secret-for-the-fuzz", variables=Variables({"ISTMO_RATE_LIMIT_WEBHOOK_IP": "off"}),
    )
    client = service.client

    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(route=st.sampled_from(ROUTES), company=st.text(min_size=1, max_size=40), headers=_headers, body=_bodies)
    @example(route="/webhooks/pac/", company="/0", headers={}, body=b"")  # once a 308 to /webhooks/pac/0
    def fuzz(route: str, company: str, headers: dict[str, str], body: bytes) -> None:
        path = route + quote(company, safe="") if route.endswith("/") else route
        response = client.post(path, data=body, headers=headers)
        text = response.get_data(as_text=True)
        assert 400 <= response.status_code < 500, (response.status_code, path, headers, body, text[:1000])
        error = json.loads(text)["error"]
        assert error["code"] and error["message"], text
        event(f"{route} {response.status_code} {error['code']}")
        assert "Traceback" not in text and 'File "' not in text

    fuzz()
    assert (count(service, "webhook_events"), count(service, "jobs")) == (0, 0)
