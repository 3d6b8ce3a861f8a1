"""The QuickBooks connector's values and checks: realm ids, QuickBooks ids and the mappings at their
limits, the requestid of a write, the webhook signature, the payload shapes, faults."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.quickbooks.api import _fault
from adapters.webhooks.quickbooks import QuickbooksWebhookVerifier, sign
from application.integrations.quickbooks.bodies import escape, select_where
from application.integrations.quickbooks.webhook import realms_of
from application.jobs.errors import PermanentJobError
from application.webhooks.ports import SignatureRejected
from domain.integrations.quickbooks.connection import Mappings, parse_qbo_id, parse_realm_id
from domain.integrations.quickbooks.links import SyncKind, SyncLink
from domain.shared.errors import InvalidInput

CODES = {0: "TAX0", 7: "TAX7", 10: "TAX10", 15: "TAX15"}


@pytest.mark.parametrize("value", ["1", "9" * 32, " 9130350001 "])
def test_a_realm_id_is_digits_up_to_32(value: str) -> None:
    assert parse_realm_id(value) == value.strip()


@pytest.mark.parametrize("value", ["", "9" * 33, "12a", "1.2", "1..2", "١٢٣", "１２３", "12\n", "12\x00", None, 12])
def test_anything_else_is_not_a_realm_id(value: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_realm_id(value)
    assert refused.value.field == "realmId"


def test_a_quickbooks_id_has_at_most_40_characters() -> None:
    assert parse_qbo_id("a" * 40, field="itemId") == "a" * 40
    for bad in ("a" * 41, "", "1 OR 1=1", "1'", "1\u200b", "٣", "1\n", "1\t"):
        with pytest.raises(InvalidInput):
            parse_qbo_id(bad, field="itemId")


def test_mappings_need_all_four_rates_once_each() -> None:
    parsed = Mappings.parse(item_id="1", income_account_id=None, tax_codes=dict(CODES))
    assert parsed.tax_codes == CODES and parsed.income_account_id is None
    for codes in ({0: "A", 7: "B", 10: "C"}, {**CODES, 8: "X"}, {**CODES, True: "X"}, {**CODES, "7": "X"}):
        with pytest.raises(InvalidInput) as refused:
            Mappings.parse(item_id="1", income_account_id=None, tax_codes=codes)
        assert refused.value.field == "taxCodes"


@given(version=st.integers(min_value=1, max_value=10**9), attempts=st.integers(min_value=0, max_value=10**9))
def test_a_request_id_never_passes_50_characters_and_names_the_record(version: int, attempts: int) -> None:
    link = SyncLink.new(tenant_id="t", kind=SyncKind.CUSTOMER, local_id="0b8f3e1c-59b2-4f7e-9f1e-5d2c7a3e9b10",
                        now=datetime(2026, 11, 1, tzinfo=UTC))
    link.version, link.attempts = version, attempts
    for versioned in (True, False):
        request_id = link.request_id("ur", versioned=versioned)
        assert len(request_id) <= 50 and request_id.startswith("ur")


def test_the_request_id_changes_with_the_version_and_the_refusals_only() -> None:
    link = SyncLink.new(tenant_id="t", kind=SyncKind.INVOICE, local_id="0b8f3e1c-59b2-4f7e-9f1e-5d2c7a3e9b10",
                        now=datetime(2026, 11, 1, tzinfo=UTC))
    first = link.request_id("i", versioned=False)
    link.changed(now=datetime(2026, 11, 2, tzinfo=UTC))
    assert link.request_id("i", versioned=False) == first, "a void queued meanwhile does not make a new create"
    link.failed("refused", code="6000", element="TaxCodeRef", now=datetime(2026, 11, 2, tzinfo=UTC))
    assert link.request_id("i", versioned=False) != first, "after a refusal the next create is a new request"


@given(body=st.binary(max_size=2048), token=st.text(min_size=1, max_size=64))
def test_the_signature_is_base64_hmac_sha256_of_the_raw_body(body: bytes, token: str) -> None:
    expected = base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()
    assert sign(token, body) == expected
    QuickbooksWebhookVerifier(token).verify(body, {"Intuit-Signature": expected})


@given(body=st.binary(max_size=512), flip=st.integers(min_value=0, max_value=31))
def test_any_other_signature_is_refused(body: bytes, flip: int) -> None:
    good = bytearray(base64.b64decode(sign("verifier", body)))
    good[flip] ^= 1
    with pytest.raises(SignatureRejected):
        QuickbooksWebhookVerifier("verifier").verify(body, {"intuit-signature": base64.b64encode(bytes(good)).decode()})


def test_a_missing_or_unreadable_signature_is_refused_saying_why() -> None:
    verifier = QuickbooksWebhookVerifier("s3cr3t-token")
    with pytest.raises(SignatureRejected, match="intuit-signature is required"):
        verifier.verify(b"{}", {})
    with pytest.raises(SignatureRejected, match="not base64"):
        verifier.verify(b"{}", {"intuit-signature": "***"})
    assert "s3cr3t" not in repr(verifier)


def test_both_payload_shapes_name_their_companies_once_each() -> None:
    legacy = {"eventNotifications": [{"realmId": "1"}, {"realmId": "2"}, {"realmId": "1"}, {"realmId": "x"}]}
    cloud = [{"intuitaccountid": "3"}, {"intuitaccountid": 4}, {"intuitaccountid": "3"}, {}]
    assert realms_of(legacy) == ["1", "2"] and realms_of(cloud) == ["3", "4"]
    with pytest.raises(PermanentJobError):
        realms_of({"something": "else"})


def test_a_query_literal_is_escaped() -> None:
    assert escape("O'Brien \\ Hijos") == "O\\'Brien \\\\ Hijos"
    assert select_where("Customer", "DisplayName", "a' or '1'='1", limit=1) == (
        "select * from Customer where DisplayName = 'a\\' or \\'1\\'=\\'1' STARTPOSITION 1 MAXRESULTS 1"
    )


def test_a_fault_answered_with_200_is_a_fault_with_its_code_message_and_element() -> None:
    fault = _fault({"Fault": {"Error": [{"Message": "A business validation error", "Detail": "Invalid tax code",
                                          "code": "6000", "element": "TaxCodeRef"}], "type": "ValidationFault"}}, 200)
    assert fault is not None and fault.code == "6000" and fault.element == "TaxCodeRef" and fault.status == 200
    assert fault.message == "A business validation error: Invalid tax code"
    assert _fault({"Invoice": {"Id": "1"}}, 200) is None


def test_a_transaction_carries_its_currency_and_a_rate_only_between_dollar_and_balboa() -> None:
    from domain.integrations.quickbooks.connection import CurrencyNotEnabled, CurrencyPrefs

    usd_multi = CurrencyPrefs(home="USD", multicurrency=True)
    assert CurrencyPrefs(home="USD", multicurrency=False).reference("USD") == {"CurrencyRef": {"value": "USD"}}
    assert usd_multi.reference("PAB") == {"CurrencyRef": {"value": "PAB"}, "ExchangeRate": 1}
    assert CurrencyPrefs(home="EUR", multicurrency=True).reference("USD") == {"CurrencyRef": {"value": "USD"}}
    with pytest.raises(CurrencyNotEnabled) as refused:
        CurrencyPrefs(home="USD", multicurrency=False).reference("PAB")
    assert refused.value.field == "currency" and "PAB" in refused.value.message and "USD" in refused.value.message
