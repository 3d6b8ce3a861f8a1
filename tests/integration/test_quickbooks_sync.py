"""Outbound sync against the local QuickBooks, through invoicing's events and the job runner:
customers, invoices (lines, tax codes), payments and voids; requestid replays, SyncToken and the
stale-object retry, duplicate names, faults answered with 200, 429, token refresh and invalid_grant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from application.integrations.quickbooks.commands import PushRecord
from application.integrations.quickbooks.handlers import system_actor
from application.invoicing.commands import (
    CreateClient,
    CreateInvoice,
    RegisterInvoicePayment,
    UpdateClient,
    VoidInvoice,
)
from domain.invoicing.clients import ContactInput
from domain.invoicing.lines import LineInput
from domain.jobs.model import JobStatus
from domain.tenancy.model import Actor, Role
from tests.fakes.clock import FakeClock
from tests.integration.api import data
from tests.integration.quickbooks_api import (
    GET_CONNECTION,
    ITEMS,
    RETRY,
    SYNC,
    connect,
    quickbooks_settings,
    run_jobs,
    set_mappings,
)
from tests.providers.quickbooks import REALM, TAX_CODES, FakeQuickbooks
from tests.providers.server import ProviderServer, provider_server  # noqa: F401  (fixture)


@pytest.fixture
def fake(provider_server: ProviderServer) -> FakeQuickbooks:
    return FakeQuickbooks(provider_server)


@pytest.fixture
def service(make_service: Callable[..., Any], fake: FakeQuickbooks) -> Any:
    return make_service(**quickbooks_settings(fake))


def owner(service: Any, slug: str = "acme") -> Actor:
    return Actor(tenant_id=service.tenant(slug), user_id="user-1", role=Role.OWNER)


def connected(service: Any, fake: FakeQuickbooks, slug: str = "acme", *, mappings: bool = True) -> Actor:
    headers = service.headers(slug, role="owner")
    connect(service, headers, fake)
    if mappings:
        set_mappings(service, headers)
    return owner(service, slug)


def client(service: Any, actor: Actor, name: str = "Ferretería El Tornillo, S.A.", email: str = "pagos@tornillo.pa") -> str:
    view = service.container.bus().handle(CreateClient(
        actor=actor, name=name, taxpayer_type="JURIDICO", ruc="155596713-2-2015", dv="59",
        contacts=(ContactInput(name="Ana Pérez", email=email, phone="+507 6123-4567"),),
    ))
    return str(view.id)


def invoice(service: Any, actor: Actor, client_id: str | None, **extra: Any) -> Any:
    lines = (
        LineInput(description="Tornillos", quantity="10", unit_price="1.25", tax_rate=7, discount="0.50"),
        LineInput(description="Servicio", quantity="1", unit_price="100", tax_rate=0),
    )
    return service.container.bus().handle(CreateInvoice(
        actor=actor, client_id=client_id, lines=lines, issue_date=date(2026, 11, 20), due_date=date(2026, 12, 20), **extra
    ))


def objects(fake: FakeQuickbooks, entity: str) -> list[dict[str, Any]]:
    return list(fake.company(REALM).of(entity).values())


def items(service: Any, actor_slug: str = "acme", status: str | None = None) -> list[dict[str, Any]]:
    result = data(service, ITEMS, {"status": status}, headers=service.headers(actor_slug))["quickbooksSyncItems"]
    assert result["error"] is None, result
    return [edge["node"] for edge in result["edges"]]


def test_a_client_an_invoice_a_payment_and_a_void_reach_quickbooks_in_order(service: Any, fake: FakeQuickbooks) -> None:
    actor = connected(service, fake)
    client_id = client(service, actor)
    paid = invoice(service, actor, client_id)
    voided = invoice(service, actor, client_id)
    service.container.bus().handle(RegisterInvoicePayment(actor=actor, invoice_id=paid.id, amount="50.00", method="ACH",
                                                          reference="TRX-1", date=date(2026, 11, 21)))
    service.container.bus().handle(VoidInvoice(actor=actor, invoice_id=voided.id))

    run_jobs(service)

    [customer] = objects(fake, "Customer")
    assert customer["DisplayName"] == "Ferretería El Tornillo, S.A."
    assert customer["PrimaryEmailAddr"] == {"Address": "pagos@tornillo.pa"}
    assert customer["PrimaryPhone"] == {"FreeFormNumber": "+507 6123-4567"}
    first, second = sorted(objects(fake, "Invoice"), key=lambda i: i["DocNumber"])
    assert first["DocNumber"] == paid.number and first["CustomerRef"] == {"value": customer["Id"]}
    assert [line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in first["Line"][:2]] == ["TAX7", "TAX0"]
    assert [line["Amount"] for line in first["Line"]] == [12.5, 100.0, 0.5], "lines at gross, one discount line"
    assert first["Line"][0]["SalesItemLineDetail"]["ItemRef"] == {"value": "1"}
    assert first["TxnTaxDetail"] == {"TotalTax": float(paid.tax_total)}
    assert second.get("voided") is True and second["SyncToken"] == "1"
    [payment] = objects(fake, "Payment")
    assert payment["TotalAmt"] == 50.0 and payment["PaymentRefNum"] == "TRX-1"
    assert payment["Line"] == [{"Amount": 50.0, "LinkedTxn": [{"TxnId": first["Id"], "TxnType": "Invoice"}]}]
    creates = [r for r in fake.server.requests
               if r.method == "POST" and "/v3/company/" in r.path and "operation" not in r.query]
    assert all(0 < len(r.query["requestid"]) <= 50 for r in creates)
    assert len({r.query["requestid"] for r in creates}) == len(creates) == 4
    assert {(i["kind"], i["status"]) for i in items(service)} == {
        ("CUSTOMER", "SYNCED"), ("INVOICE", "SYNCED"), ("PAYMENT", "SYNCED")
    }
    seen = data(service, GET_CONNECTION, headers=service.headers("acme"))["getQuickbooksConnection"]["connection"]
    assert (seen["pendingCount"], seen["failedCount"], seen["syncedCount"]) == (0, 0, 4)


def test_a_create_whose_answer_was_lost_is_retried_with_the_same_requestid_and_makes_one_object(
    service: Any, fake: FakeQuickbooks
) -> None:
    actor = connected(service, fake)
    client_id = client(service, actor)
    fake.lose_answers = 1  # QuickBooks creates the customer, the answer never arrives

    with pytest.raises(Exception):  # noqa: B017 - whatever the transport says, the push did not finish
        service.container.bus().handle(PushRecord(actor=system_actor(actor.tenant_id), kind="CUSTOMER", local_id=client_id))
    service.container.bus().handle(PushRecord(actor=system_actor(actor.tenant_id), kind="CUSTOMER", local_id=client_id))

    assert len(objects(fake, "Customer")) == 1
    first, again = fake.api_requests("POST", "customer")
    assert first.query["requestid"] == again.query["requestid"]
    [item] = items(service)
    assert item["status"] == "SYNCED" and item["qboId"] == objects(fake, "Customer")[0]["Id"]


def test_a_client_changed_here_is_a_sparse_update_and_a_stale_synctoken_is_read_again_once(
    service: Any, fake: FakeQuickbooks
) -> None:
    actor = connected(service, fake)
    client_id = client(service, actor)
    run_jobs(service)
    [customer] = objects(fake, "Customer")
    fake.edit_customer(REALM, customer["Id"], Notes="edited by the accountant")  # SyncToken 0 -> 1 there

    service.container.bus().handle(UpdateClient(
        actor=actor, client_id=client_id, name="Ferretería El Tornillo, S.A.", taxpayer_type="JURIDICO",
        ruc="155596713-2-2015", dv="59", contacts=(ContactInput(name="Ana Pérez", email="cobros@tornillo.pa"),),
    ))
    run_jobs(service)

    [customer] = objects(fake, "Customer")
    assert customer["PrimaryEmailAddr"] == {"Address": "cobros@tornillo.pa"}
    assert customer["Notes"] == "edited by the accountant", "sparse: what QuickBooks has otherwise stays"
    updates = [r.json() for r in fake.api_requests("POST", "customer")][1:]
    assert [u["SyncToken"] for u in updates] == ["0", "1"], "stale (5010), read again, retried once"
    assert all(u["sparse"] is True and u["Id"] == customer["Id"] for u in updates)
    assert len(fake.server.received("GET", rf"/v3/company/{REALM}/customer/{customer['Id']}")) == 1
    [item] = items(service)
    assert item["status"] == "SYNCED" and item["syncToken"] == customer["SyncToken"]


def test_a_customer_name_quickbooks_has_already_links_that_customer(service: Any, fake: FakeQuickbooks) -> None:
    actor = connected(service, fake)
    fake.company(REALM).of("Customer")["7"] = {
        "Id": "7", "SyncToken": "3", "DisplayName": "Ferretería El Tornillo, S.A.",
        "MetaData": {"CreateTime": "2026-01-01T00:00:00Z", "LastUpdatedTime": "2026-01-01T00:00:00Z"},
    }
    client(service, actor)

    run_jobs(service)

    assert len(objects(fake, "Customer")) == 1
    [item] = items(service)
    assert (item["status"], item["qboId"], item["syncToken"]) == ("SYNCED", "7", "3")


def test_a_fault_for_an_invalid_tax_code_fails_that_invoice_with_its_text_and_the_rest_continue(
    service: Any, fake: FakeQuickbooks
) -> None:
    actor = connected(service, fake, mappings=False)
    set_mappings(service, service.headers("acme"), codes={**TAX_CODES, "7": "GONE"})
    client_id = client(service, actor)
    bad = invoice(service, actor, client_id)  # a 7 % line
    good = service.container.bus().handle(CreateInvoice(
        actor=actor, client_id=client_id, lines=(LineInput(description="Exento", quantity="1", unit_price="5", tax_rate=0),),
    ))

    run_jobs(service)

    [failed] = items(service, status="FAILED")
    assert failed["kind"] == "INVOICE" and failed["localId"] == bad.id
    assert failed["errorCode"] == "6000" and failed["errorElement"] == "TaxCodeRef"
    assert "Invalid tax code GONE on line 1" in failed["errorMessage"]
    assert [i["DocNumber"] for i in objects(fake, "Invoice")] == [good.number]
    [job] = [j for j in service.container.job_queue().find(status=JobStatus.FAILED)]
    assert "Invalid tax code" in (job.last_error or "")

    set_mappings(service, service.headers("acme"))
    retried = data(service, RETRY, {"id": failed["id"]}, headers=service.headers("acme"))["retryQuickbooksSync"]
    assert retried == {"item": {"id": failed["id"], "status": "PENDING"}, "error": None}
    run_jobs(service)
    assert sorted(i["DocNumber"] for i in objects(fake, "Invoice")) == sorted([bad.number, good.number])
    assert items(service, status="FAILED") == []


def test_invoices_wait_for_the_mappings(service: Any, fake: FakeQuickbooks) -> None:
    actor = connected(service, fake, mappings=False)
    invoice(service, actor, client(service, actor))

    run_jobs(service)

    [failed] = items(service, status="FAILED")
    assert failed["errorCode"] == "QUICKBOOKS_MAPPINGS_MISSING" and objects(fake, "Invoice") == []


def test_retrying_is_refused_for_an_item_that_did_not_fail(service: Any, fake: FakeQuickbooks) -> None:
    actor = connected(service, fake)
    client(service, actor)
    run_jobs(service)
    [item] = items(service)

    mine = data(service, RETRY, {"id": item["id"]}, headers=service.headers("acme"))["retryQuickbooksSync"]

    assert mine["error"]["code"] == "CONFLICT" and "SYNCED, not FAILED" in mine["error"]["message"]


def test_another_tenants_sync_items_are_not_found_or_listed(service: Any, fake: FakeQuickbooks) -> None:
    acme = connected(service, fake)
    globex_headers = service.headers("globex", role="owner")
    connect(service, globex_headers, fake, realm="9130350077")
    set_mappings(service, globex_headers, codes={"0": "TAX0", "7": "TAX7", "10": "TAX10", "15": "TAX15"})
    fake.company("9130350077").tax_codes = set(TAX_CODES.values())
    set_mappings(service, service.headers("acme"), codes={**TAX_CODES, "7": "GONE"})
    invoice(service, acme, client(service, acme))
    run_jobs(service)
    [failed] = items(service, status="FAILED")

    theirs = data(service, RETRY, {"id": failed["id"]}, headers=globex_headers)["retryQuickbooksSync"]

    assert theirs["error"]["code"] == "NOT_FOUND" and theirs["error"]["field"] == "id"
    assert items(service, "globex") == []
    assert fake.company("9130350077").objects == {}, "nothing of acme's went to globex's company"


def test_a_429_is_retried_after_its_retry_after(service: Any, fake: FakeQuickbooks) -> None:
    actor = connected(service, fake)
    client(service, actor)
    fake.throttle, fake.retry_after = 1, 42

    run_jobs(service)

    [job] = service.container.job_queue().find(kind="quickbooks.push")
    assert job.status == JobStatus.QUEUED and "429" in (job.last_error or "")
    assert job.run_at - service.container.clock().now() >= timedelta(seconds=40)
    assert objects(fake, "Customer") == []


def test_an_expired_access_token_is_refreshed_and_the_rotated_refresh_token_kept(
    make_service: Callable[..., Any], fake: FakeQuickbooks
) -> None:
    service = make_service(**quickbooks_settings(fake))
    clock = FakeClock()
    service.container.core.clock.override(clock)
    actor = connected(service, fake)
    [first_refresh] = fake.refresh
    clock.advance(timedelta(hours=2))
    client(service, actor)

    run_jobs(service)

    assert fake.refresh_calls == 1 and first_refresh in fake.used_refresh
    assert len(objects(fake, "Customer")) == 1
    clock.advance(timedelta(hours=2))
    client(service, actor, name="Otra, S.A.", email="otra@otra.pa")
    run_jobs(service)
    assert fake.refresh_calls == 2, "the rotated refresh token was stored and used (the first one is dead now)"
    assert len(objects(fake, "Customer")) == 2


def test_invalid_grant_marks_the_connection_needs_reconnect_and_nothing_retries_into_it(
    make_service: Callable[..., Any], fake: FakeQuickbooks
) -> None:
    service = make_service(**quickbooks_settings(fake))
    clock = FakeClock()
    service.container.core.clock.override(clock)
    actor = connected(service, fake)
    fake.refresh.clear()  # Intuit forgot the refresh token (revoked in QuickBooks, or used by someone else)
    clock.advance(timedelta(hours=2))
    client(service, actor)
    client(service, actor, name="Otra, S.A.", email="otra@otra.pa")

    run_jobs(service)

    seen = data(service, GET_CONNECTION, headers=service.headers("acme"))["getQuickbooksConnection"]["connection"]
    assert seen["status"] == "NEEDS_RECONNECT" and "invalid_grant" in seen["reconnectReason"]
    assert fake.refresh_calls == 1, "the second job found NEEDS_RECONNECT and did not try again"
    jobs = service.container.job_queue().find(kind="quickbooks.push")
    assert {j.status for j in jobs} == {JobStatus.FAILED}
    sync = data(service, SYNC, {"full": True}, headers=service.headers("acme"))["syncQuickbooks"]
    assert sync["error"]["code"] == "QUICKBOOKS_NEEDS_RECONNECT"

    # Connecting the same company again resumes: what waited goes now.
    connect(service, service.headers("acme", role="owner"), fake)
    run_jobs(service)
    assert len(objects(fake, "Customer")) == 2
    seen = data(service, GET_CONNECTION, headers=service.headers("acme"))["getQuickbooksConnection"]["connection"]
    assert (seen["status"], seen["pendingCount"], seen["syncedCount"]) == ("CONNECTED", 0, 2)


def test_a_full_sync_backfills_every_client_and_invoice_once(service: Any, fake: FakeQuickbooks) -> None:
    actor = owner(service)
    clients = [client(service, actor, name=f"Cliente {n}", email=f"c{n}@pyme.pa") for n in range(3)]
    for n in range(5):
        invoice(service, actor, clients[n % 3])
    invoice(service, actor, None, client_name="Consumidor Final Juan")
    connected(service, fake)  # connected after the records were made: nothing was queued for them

    result = data(service, SYNC, {"full": True}, headers=service.headers("acme"))["syncQuickbooks"]
    run_jobs(service)
    again = data(service, SYNC, {"full": True}, headers=service.headers("acme"))["syncQuickbooks"]
    run_jobs(service)

    assert (result["customersQueued"], result["invoicesQueued"]) == (3, 6)
    assert (again["customersQueued"], again["invoicesQueued"]) == (0, 0), "what is in sync is not queued again"
    assert len(objects(fake, "Customer")) == 4 and len(objects(fake, "Invoice")) == 6
    assert len({i["DocNumber"] for i in objects(fake, "Invoice")}) == 6


def test_nothing_is_queued_for_a_tenant_without_quickbooks(service: Any, fake: FakeQuickbooks) -> None:
    actor = owner(service)
    invoice(service, actor, client(service, actor))

    assert service.container.job_queue().find(kind="quickbooks.push") == []


def test_the_backfill_goes_in_batches_and_a_refused_invoice_fails_alone(service: Any, fake: FakeQuickbooks) -> None:
    actor = owner(service)
    clients = [client(service, actor, name=f"Cliente {n}", email=f"c{n}@pyme.pa") for n in range(2)]
    plain = (LineInput(description="Servicio", quantity="1", unit_price="10", tax_rate=7),)
    refused = service.container.bus().handle(CreateInvoice(
        actor=actor, client_id=clients[0], issue_date=date(2026, 11, 20), due_date=date(2026, 12, 20),
        lines=(LineInput(description="Lujo", quantity="1", unit_price="10", tax_rate=15),),
    ))
    for n in range(4):
        service.container.bus().handle(CreateInvoice(
            actor=actor, client_id=clients[n % 2], issue_date=date(2026, 11, 20), due_date=date(2026, 12, 20), lines=plain,
        ))
    connected(service, fake)
    set_mappings(service, service.headers("acme", role="owner"), codes={**TAX_CODES, "15": "GONE"})

    queued = data(service, SYNC, {"full": True}, headers=service.headers("acme"))["syncQuickbooks"]
    batches = service.container.job_queue().find(kind="quickbooks.push_batch")
    run_jobs(service)

    assert (queued["customersQueued"], queued["invoicesQueued"]) == (2, 5)
    assert sorted(len(job.payload["local_ids"]) for job in batches) == [2, 5], "one batch per kind, not a job per record"
    assert service.container.job_queue().find(kind="quickbooks.push") == []
    assert len(objects(fake, "Customer")) == 2 and len(objects(fake, "Invoice")) == 4
    [failed] = items(service, status="FAILED")
    assert failed["localId"] == refused.id and failed["errorElement"] == "TaxCodeRef"
    assert len(items(service, status="SYNCED")) == 6
    done = service.container.job_queue().find(kind="quickbooks.push_batch")
    assert {job.status for job in done} == {JobStatus.SUCCEEDED}, "a refused record does not stop or fail its batch"


def test_a_429_in_a_batch_puts_the_batch_back_and_keeps_what_it_saved(service: Any, fake: FakeQuickbooks) -> None:
    actor = owner(service)
    for n in range(3):
        client(service, actor, name=f"Cliente {n}", email=f"c{n}@pyme.pa")
    connected(service, fake)
    data(service, SYNC, {"full": True}, headers=service.headers("acme"))
    fake.throttle_after, fake.throttle, fake.retry_after = 1, 1, 42

    run_jobs(service)

    [job] = service.container.job_queue().find(kind="quickbooks.push_batch")
    assert job.status == JobStatus.QUEUED and "429" in (job.last_error or "")
    assert len(objects(fake, "Customer")) == 1
    assert len(items(service, status="SYNCED")) == 1 and len(items(service, status="PENDING")) == 2


def test_invoices_carry_their_currency_and_the_company_settings_are_read_once(service: Any, fake: FakeQuickbooks) -> None:
    actor = connected(service, fake)
    client_id = client(service, actor)
    for _ in range(3):
        invoice(service, actor, client_id)

    run_jobs(service)

    assert {i["CurrencyRef"]["value"] for i in objects(fake, "Invoice")} == {"USD"}
    assert all("ExchangeRate" not in i for i in objects(fake, "Invoice")), "the home currency needs no rate"
    assert len(fake.server.received("GET", rf"/v3/company/{REALM}/preferences")) == 1


def test_an_invoice_in_another_currency_is_refused_clearly_while_multicurrency_is_off(
    service: Any, fake: FakeQuickbooks
) -> None:
    actor = connected(service, fake)
    client_id = client(service, actor)
    run_jobs(service)
    invoice(service, actor, client_id, currency="PAB")

    run_jobs(service)

    [failed] = items(service, status="FAILED")
    assert (failed["kind"], failed["errorCode"], failed["errorElement"]) == ("INVOICE", "QUICKBOOKS_CURRENCY_NOT_ENABLED", "CurrencyRef")
    assert "in PAB" in failed["errorMessage"] and "books in USD" in failed["errorMessage"]
    assert "multicurrency" in failed["errorMessage"]
    assert objects(fake, "Invoice") == [] and fake.api_requests("POST", "invoice") == [], "QuickBooks was not asked"

    # The accountant turns multicurrency on (the customer is in balboas there): a retry reads it again.
    fake.company(REALM).multicurrency = True
    [customer] = objects(fake, "Customer")
    customer["CurrencyRef"] = {"value": "PAB"}
    data(service, RETRY, {"id": failed["id"]}, headers=service.headers("acme"))
    run_jobs(service)

    [sent] = objects(fake, "Invoice")
    assert sent["CurrencyRef"] == {"value": "PAB"} and sent["ExchangeRate"] == 1, "the balboa is at par with the dollar"
    assert items(service, status="FAILED") == []


def test_a_batch_has_1_to_100_customers_or_invoices(service: Any, fake: FakeQuickbooks) -> None:
    from application.integrations.quickbooks.commands import PushRecords
    from domain.integrations.quickbooks.connection import QuickbooksNotConnected
    from domain.shared.errors import InvalidInput
    from domain.shared.model import new_id

    actor = system_actor(owner(service).tenant_id)
    bus = service.container.bus()
    with pytest.raises(QuickbooksNotConnected):  # 100 pass the checks (and then need a connection)
        bus.handle(PushRecords(actor=actor, kind="CUSTOMER", local_ids=tuple(new_id() for _ in range(100))))
    for kind, count in (("CUSTOMER", 101), ("INVOICE", 0), ("PAYMENT", 1)):
        with pytest.raises(InvalidInput) as refused:
            bus.handle(PushRecords(actor=actor, kind=kind, local_ids=tuple(new_id() for _ in range(count))))
        assert refused.value.field == ("kind" if kind == "PAYMENT" else "localIds")
