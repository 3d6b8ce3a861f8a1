"""QuickBooks -> Istmo against the local QuickBooks: ``POST /webhooks/quickbooks`` (intuit-signature,
both payload shapes, several companies, deduplicated by the inbox) and the catch-up it queues (CDC):
a payment recorded there is registered here once, a customer's email changed there updates the
client unless it was changed here later, and what Istmo does not map is ignored and counted."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.db.webhooks.tables import webhook_events
from application.integrations.quickbooks.commands import CatchUp
from application.integrations.quickbooks.handlers import system_actor
from application.invoicing.commands import (
    CreateClient,
    GetClient,
    GetInvoice,
    RegisterInvoicePayment,
    UpdateClient,
)
from application.webhooks.commands import ListWebhookEvents
from domain.invoicing.clients import ContactInput
from tests.integration.api import data
from tests.integration.quickbooks_api import GET_CONNECTION, RETRY, SYNC, quickbooks_settings, run_jobs
from tests.integration.test_quickbooks_sync import client, connected, invoice, items, objects
from tests.providers.quickbooks import REALM, FakeQuickbooks, cloud_events, legacy_notification, sign
from tests.providers.server import ProviderServer, provider_server  # noqa: F401  (fixture)


@pytest.fixture
def fake(provider_server: ProviderServer) -> FakeQuickbooks:
    return FakeQuickbooks(provider_server)


@pytest.fixture
def service(make_service: Callable[..., Any], fake: FakeQuickbooks) -> Any:
    return make_service(**quickbooks_settings(fake))


def post(service: Any, body: bytes, *, signature: str | None = None) -> Any:
    headers = {"intuit-signature": sign(body) if signature is None else signature, "Content-Type": "application/json"}
    return service.client.post("/webhooks/quickbooks", data=body, headers=headers)


def stored(service: Any) -> int:
    with service.container.engine().connect() as connection:
        return int(connection.execute(select(func.count()).select_from(webhook_events)).scalar_one())


def events(service: Any) -> list[Any]:
    return list(service.container.bus().handle(
        ListWebhookEvents(actor=None, tenant_id=None, provider="quickbooks", status=None, limit=10)
    ))


def synced_invoice(service: Any, fake: FakeQuickbooks) -> tuple[Any, Any, str]:
    actor = connected(service, fake)
    client_id = client(service, actor)
    made = invoice(service, actor, client_id)
    run_jobs(service)
    [qbo_invoice] = objects(fake, "Invoice")
    return actor, made, qbo_invoice["Id"]


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "%%%", sign(b"another body")])
def test_a_delivery_with_a_bad_signature_is_refused_and_nothing_is_stored(service: Any, signature: str) -> None:
    response = post(service, cloud_events((REALM, "Invoice", "1")), signature=signature)

    assert response.status_code == 401 and response.get_json()["error"]["code"] == "INVALID_SIGNATURE"
    assert stored(service) == 0


def test_a_signature_made_with_another_verifier_token_is_refused(service: Any) -> None:
    body = cloud_events((REALM, "Invoice", "1"))

    assert post(service, body, signature=sign(body, "someone-else")).status_code == 401
    assert stored(service) == 0


def test_without_a_verifier_token_the_route_answers_503(make_service: Callable[..., Any]) -> None:
    service = make_service()

    assert post(service, cloud_events((REALM, "Invoice", "1"))).status_code == 503


def test_a_payment_recorded_in_quickbooks_is_registered_on_the_invoice_once(service: Any, fake: FakeQuickbooks) -> None:
    actor, made, qbo_invoice = synced_invoice(service, fake)
    paid = fake.record_payment(REALM, qbo_invoice, 40.0)

    first = post(service, cloud_events((REALM, "Payment", paid["Id"])))
    again = post(service, cloud_events((REALM, "Payment", paid["Id"])))
    run_jobs(service)
    service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))  # a later catch-up sees it again
    run_jobs(service)

    assert first.status_code == 200 and again.get_json()["duplicate"] is True and stored(service) == 1
    [event] = events(service)
    assert str(event.status) == "PROCESSED" and event.tenant_id == actor.tenant_id
    view = service.container.bus().handle(GetInvoice(actor=actor, invoice_id=made.id))
    [payment] = view.payments
    assert payment.amount == Decimal("40.00") and payment.reference == f"QuickBooks payment {paid['Id']}"
    assert view.balance == made.total - Decimal("40.00")
    assert len(objects(fake, "Payment")) == 1, "the payment is not sent back to QuickBooks"
    seen = data(service, GET_CONNECTION, headers=service.headers("acme"))["getQuickbooksConnection"]["connection"]
    assert seen["inboundApplied"] == 1 and seen["lastSyncAt"] is not None


def test_the_legacy_shape_and_several_companies_in_one_delivery(service: Any, fake: FakeQuickbooks) -> None:
    actor, made, qbo_invoice = synced_invoice(service, fake)
    paid = fake.record_payment(REALM, qbo_invoice, 10.0)

    legacy = post(service, legacy_notification(REALM, "Payment", paid["Id"]))
    several = post(service, cloud_events((REALM, "Payment", paid["Id"]), ("5550001", "Invoice", "9")))
    run_jobs(service)

    assert legacy.status_code == several.status_code == 200 and stored(service) == 2
    statuses = sorted((str(e.status), e.last_error or "") for e in events(service))
    assert [s for s, _ in statuses] == ["PROCESSED", "PROCESSED"]
    view = service.container.bus().handle(GetInvoice(actor=actor, invoice_id=made.id))
    assert [p.amount for p in view.payments] == [Decimal("10.00")]


def test_a_notification_for_an_unknown_company_is_unmatched(service: Any, fake: FakeQuickbooks) -> None:
    connected(service, fake)

    response = post(service, cloud_events(("5550001", "Invoice", "9")))
    run_jobs(service)

    assert response.status_code == 200
    [event] = events(service)
    assert str(event.status) == "UNMATCHED"


def test_a_payment_against_an_invoice_istmo_does_not_know_is_ignored_and_counted(service: Any, fake: FakeQuickbooks) -> None:
    actor, _, _ = synced_invoice(service, fake)
    company = fake.company(REALM)
    company.of("Invoice")["999"] = {"Id": "999", "SyncToken": "0", "CustomerRef": {"value": "1"}, "TxnDate": "2026-11-20",
                                    "MetaData": {"CreateTime": "2026-11-20T00:00:00Z", "LastUpdatedTime": "2026-11-20T00:00:00Z"}}
    fake.record_payment(REALM, "999", 5.0)

    report = service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))

    assert report.applied == 0 and report.ignored >= 1
    seen = data(service, GET_CONNECTION, headers=service.headers("acme"))["getQuickbooksConnection"]["connection"]
    assert seen["inboundIgnored"] == report.ignored


def test_a_customer_email_changed_in_quickbooks_updates_the_client_unless_changed_here_later(
    service: Any, fake: FakeQuickbooks
) -> None:
    actor = connected(service, fake)
    client_id = client(service, actor)
    run_jobs(service)
    [customer] = objects(fake, "Customer")
    fake.edit_customer(REALM, customer["Id"], PrimaryEmailAddr={"Address": "nuevo@tornillo.pa"})

    report = service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))

    view = service.container.bus().handle(GetClient(actor=actor, client_id=client_id))
    assert report.applied == 1 and view.contacts[0].email == "nuevo@tornillo.pa"
    assert view.contacts[0].phone == "+507 6123-4567" and view.contacts[0].name == "Ana Pérez"

    # Changed here after QuickBooks' last change: Istmo's stands.
    fake.edit_customer(REALM, customer["Id"], PrimaryEmailAddr={"Address": "viejo@tornillo.pa"})
    service.container.bus().handle(UpdateClient(
        actor=actor, client_id=client_id, name=view.name, taxpayer_type=str(view.taxpayer_type), ruc=view.ruc, dv=view.dv,
        contacts=(ContactInput(name="Ana Pérez", email="aqui@tornillo.pa"),),
    ))
    later = service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))
    view = service.container.bus().handle(GetClient(actor=actor, client_id=client_id))
    assert later.applied == 0 and view.contacts[0].email == "aqui@tornillo.pa"


def test_a_customer_email_istmo_does_not_take_is_left_as_it_is(service: Any, fake: FakeQuickbooks) -> None:
    actor = connected(service, fake)
    client_id = client(service, actor)
    run_jobs(service)
    [customer] = objects(fake, "Customer")
    fake.edit_customer(REALM, customer["Id"], PrimaryEmailAddr={"Address": "not an address\u0000"})

    report = service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))

    assert report.applied == 0
    view = service.container.bus().handle(GetClient(actor=actor, client_id=client_id))
    assert view.contacts[0].email == "pagos@tornillo.pa"


def test_the_catch_up_asks_cdc_for_payments_customers_and_invoices_since_its_cursor(service: Any, fake: FakeQuickbooks) -> None:
    actor = connected(service, fake)

    service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))
    service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))

    first, second = fake.server.received("GET", rf"/v3/company/{REALM}/cdc")
    assert first.query["entities"] == "Payment,Customer,Invoice" and first.query["minorversion"] == "75"
    assert first.query["changedSince"] < second.query["changedSince"], "the second run starts at the first one's cursor"


def test_a_payment_deleted_in_quickbooks_is_taken_back_from_its_invoice_once(service: Any, fake: FakeQuickbooks) -> None:
    actor, made, qbo_invoice = synced_invoice(service, fake)
    paid = fake.record_payment(REALM, qbo_invoice, 40.0)
    service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))
    fake.delete(REALM, "Payment", paid["Id"])

    report = service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))
    again = service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))  # sees the deletion again

    view = service.container.bus().handle(GetInvoice(actor=actor, invoice_id=made.id))
    assert list(view.payments) == []
    assert view.balance == made.total
    assert report.applied == 1 and again.applied == 0
    run_jobs(service)
    assert len(objects(fake, "Payment")) == 1, "nothing is sent back (the deleted one stays deleted there)"


def test_a_payment_sent_from_here_and_deleted_there_stands_here_and_its_item_says_so(
    service: Any, fake: FakeQuickbooks
) -> None:
    actor, made, _ = synced_invoice(service, fake)
    service.container.bus().handle(RegisterInvoicePayment(
        actor=actor, invoice_id=made.id, amount="20.00", method="ACH", reference="TRX-9", date=made.issue_date,
    ))
    run_jobs(service)
    [sent] = objects(fake, "Payment")
    fake.delete(REALM, "Payment", sent["Id"])

    service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))

    view = service.container.bus().handle(GetInvoice(actor=actor, invoice_id=made.id))
    assert [p.amount for p in view.payments] == [Decimal("20.00")], "Istmo's payment stands"
    [failed] = items(service, status="FAILED")
    assert failed["kind"] == "PAYMENT" and failed["errorCode"] == "DELETED_IN_QUICKBOOKS" and failed["qboId"] is None
    assert "deleted in QuickBooks" in failed["errorMessage"]
    data(service, SYNC, {"full": True}, headers=service.headers("acme"))
    run_jobs(service)
    live = [p for p in objects(fake, "Payment") if p.get("status") != "Deleted"]
    assert len(live) == 1 and live[0]["TotalAmt"] == 20.0, "the next full sync sends it again"


def test_an_invoice_edited_in_quickbooks_is_flagged_and_a_retry_sends_istmos_version(service: Any, fake: FakeQuickbooks) -> None:
    actor, made, qbo_invoice = synced_invoice(service, fake)
    there = objects(fake, "Invoice")[0]
    fake.edit(REALM, "Invoice", qbo_invoice, PrivateNote="revisada")  # what Istmo sent still stands
    quiet = service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))
    assert items(service, status="FAILED") == [] and quiet.applied == 0
    edited_lines = [{**line, "Amount": 999.0} if line["DetailType"] == "SalesItemLineDetail" and n == 0 else line
                    for n, line in enumerate(there["Line"])]
    fake.edit(REALM, "Invoice", qbo_invoice, Line=edited_lines)

    service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))

    [flagged] = items(service, status="FAILED")
    assert flagged["kind"] == "INVOICE" and flagged["errorCode"] == "EDITED_IN_QUICKBOOKS" and flagged["errorElement"] == "Line"
    assert "(Line: 1099.00 there, 112.50 here)" in flagged["errorMessage"], "999 + 100 there, 12.50 + 100 here"
    view = service.container.bus().handle(GetInvoice(actor=actor, invoice_id=made.id))
    assert view.total == made.total, "Istmo's invoice, the fiscal document, is not changed"

    retried = data(service, RETRY, {"id": flagged["id"]}, headers=service.headers("acme"))["retryQuickbooksSync"]
    run_jobs(service)

    assert retried["error"] is None
    restored = fake.company(REALM).of("Invoice")[qbo_invoice]
    assert [line["Amount"] for line in restored["Line"]] == [line["Amount"] for line in there["Line"]]
    assert items(service, status="FAILED") == []
    service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))  # its own write, seen again
    assert items(service, status="FAILED") == []


def test_an_invoice_deleted_in_quickbooks_is_flagged_and_a_retry_makes_it_again(service: Any, fake: FakeQuickbooks) -> None:
    actor, made, qbo_invoice = synced_invoice(service, fake)
    fake.delete(REALM, "Invoice", qbo_invoice)

    service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))
    [flagged] = items(service, status="FAILED")
    retried = data(service, RETRY, {"id": flagged["id"]}, headers=service.headers("acme"))["retryQuickbooksSync"]
    run_jobs(service)

    assert flagged["errorCode"] == "DELETED_IN_QUICKBOOKS" and retried["error"] is None
    live = [i for i in objects(fake, "Invoice") if i.get("status") != "Deleted"]
    assert [i["DocNumber"] for i in live] == [made.number] and live[0]["Id"] != qbo_invoice


def test_a_new_email_or_phone_goes_to_the_contact_istmo_sends_not_always_the_first(service: Any, fake: FakeQuickbooks) -> None:
    actor = connected(service, fake)
    client_id = str(service.container.bus().handle(CreateClient(
        actor=actor, name="Tres Contactos, S.A.", taxpayer_type="JURIDICO", ruc="155596713-2-2015", dv="59",
        contacts=(ContactInput(name="Gerente"), ContactInput(name="Pagos", email="pagos@tres.pa"),
                  ContactInput(name="Bodega", phone="+507 6000-0000")),
    )).id)
    run_jobs(service)
    [customer] = objects(fake, "Customer")
    assert customer["PrimaryEmailAddr"] == {"Address": "pagos@tres.pa"}
    fake.edit_customer(REALM, customer["Id"], PrimaryEmailAddr={"Address": "cobros@tres.pa"},
                       PrimaryPhone={"FreeFormNumber": "+507 6111-1111"})

    report = service.container.bus().handle(CatchUp(actor=system_actor(actor.tenant_id)))

    view = service.container.bus().handle(GetClient(actor=actor, client_id=client_id))
    assert report.applied == 1
    assert [(c.name, c.email, c.phone) for c in view.contacts] == [
        ("Gerente", None, None), ("Pagos", "cobros@tres.pa", None), ("Bodega", None, "+507 6111-1111"),
    ]
