"""Every invoicing command and query, through the bus from ``build_message_bus``, on in-memory fakes.

Each refused input is checked twice: the error names the problem (code, field), and nothing
was written (no client, invoice, payment or quote, no counter moved, no commit).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from adapters.storage.mime import SniffingMimeDetector
from application.modules import build_message_bus
from application.files.commands import FilePolicy
from application.invoicing.commands import (
    CreateClient,
    CreateInvoice,
    CreateQuote,
    FindClients,
    FindInvoices,
    FindQuotes,
    GetClient,
    GetClients,
    GetClientStatement,
    GetInvoice,
    GetInvoices,
    GetQuote,
    InvoicingPolicy,
    RegisterInvoicePayment,
    RemoveInvoicePayment,
    UpdateClient,
    VoidInvoice,
)
from application.invoicing.views import (
    ClientView,
    InvoiceFilter,
    InvoiceSort,
    InvoiceSortField,
    InvoiceView,
    QuoteFilter,
    SortDirection,
)
from application.tenancy.handlers import CreateTenant
from domain.invoicing.clients import ContactInput, TaxpayerType
from domain.invoicing.invoices import InvoiceStatus, LegalStatus, PaymentMethod
from domain.invoicing.lines import LineInput, TaxLine
from domain.invoicing.quotes import QuoteStatus
from domain.invoicing.statements import EntryKind
from domain.shared.errors import DomainError
from domain.tenancy.model import Actor, Role
from tests.fakes.clock import FakeClock
from tests.fakes.storage import FakeFileStorage
from tests.fakes.uow import FakeStore, fake_uow_factory

NOON = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 12:00 in Panama
TODAY = date(2026, 11, 24)


def D(text: str) -> Decimal:  # noqa: N802 - reads like a literal
    return Decimal(text)


def line(description: str = "Servicio", quantity: Any = "1", unit_price: Any = "100", tax_rate: Any = 7, **kw: Any) -> LineInput:
    return LineInput(description=description, quantity=quantity, unit_price=unit_price, tax_rate=tax_rate, **kw)


class World:
    def __init__(self) -> None:
        self.clock = FakeClock(NOON)
        self.store = FakeStore()
        self.bus = build_message_bus(
            uow_factory=fake_uow_factory(self.store, self.clock),
            storage=FakeFileStorage(self.clock),
            mime=SniffingMimeDetector(),
            clock=self.clock,
            file_policy=FilePolicy(),
            invoicing_policy=InvoicingPolicy(page_size=3, max_page_size=10),
        )

    def tenant(self, slug: str) -> Actor:
        created = self.bus.handle(CreateTenant(actor=None, slug=slug, name=slug.title()))
        return Actor(tenant_id=created.tenant_id, user_id=f"owner@{slug}.pa", role=Role.OWNER)

    def client(self, actor: Actor, **kw: Any) -> ClientView:
        fields: dict[str, Any] = {
            "name": "Distribuidora del Istmo, S.A.",
            "taxpayer_type": "JURIDICO",
            "ruc": "155596713-2-2015",
            "dv": "59",
        }
        return self.bus.handle(CreateClient(actor=actor, **{**fields, **kw}))

    def invoice(self, actor: Actor, **kw: Any) -> InvoiceView:
        fields: dict[str, Any] = {"client_name": "Consumidor final", "lines": (line(),)}
        return self.bus.handle(CreateInvoice(actor=actor, **{**fields, **kw}))

    def pay(self, actor: Actor, invoice_id: str, amount: str, **kw: Any) -> Any:
        return self.bus.handle(
            RegisterInvoicePayment(actor=actor, invoice_id=invoice_id, amount=amount, method=kw.pop("method", "CASH"), **kw)
        )

    def snapshot(self) -> tuple[Any, ...]:
        store = self.store
        return (
            sorted((c.id, c.name, c.ruc, c.dv, tuple(x.email for x in c.contacts)) for c in store.clients.values()),
            sorted(
                (i.id, i.number, i.paid, i.balance, i.voided_at, len(i.lines), len(i.payments))
                for i in store.invoices.values()
            ),
            sorted((q.id, q.number) for q in store.quotes.values()),
            dict(store.counters),
            store.commits,
        )


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def acme(world: World) -> Actor:
    return world.tenant("acme")


@pytest.fixture
def globex(world: World) -> Actor:
    return world.tenant("globex")


@contextmanager
def nothing_written(world: World) -> Iterator[None]:
    before = world.snapshot()
    yield
    assert world.snapshot() == before, "a refused request left something behind"


@contextmanager
def refused(world: World, code: str, field: str | None) -> Iterator[pytest.ExceptionInfo[DomainError]]:
    with nothing_written(world), pytest.raises(DomainError) as error:
        yield error
    assert (error.value.code, error.value.field) == (code, field), error.value.message


# --- clients ---------------------------------------------------------------------------------


def test_create_client_keeps_the_normalised_record(world: World, acme: Actor) -> None:
    client = world.client(
        acme,
        name="  Café Ñandú, S.A. ",
        ruc=" 8-nt-1-12345 ",
        dv="07",
        address="Calle 50\nPanamá",
        contacts=(
            ContactInput(name="Ana Pérez", email=" Ana.Perez@Cafe.com.PA ", phone="+507 6123-4567", role="Pagos"),
            ContactInput(name="Luis"),
        ),
    )
    assert (client.name, client.ruc, client.dv, client.taxpayer_type, client.address) == (
        "Café Ñandú, S.A.",
        "8-NT-1-12345",
        "07",
        TaxpayerType.JURIDICO,
        "Calle 50\nPanamá",
    )
    assert [(c.name, c.email, c.phone, c.role) for c in client.contacts] == [
        ("Ana Pérez", "ana.perez@cafe.com.pa", "+507 6123-4567", "Pagos"),
        ("Luis", None, None, None),
    ]
    assert client.created_at == client.updated_at == NOON
    assert world.bus.handle(GetClient(actor=acme, client_id=client.id)) == client


def test_a_consumidor_final_needs_no_ruc(world: World, acme: Actor) -> None:
    client = world.client(acme, name="Juan", taxpayer_type="CONSUMIDOR_FINAL", ruc=None, dv=None)
    assert (client.ruc, client.dv) == (None, None)
    with_ruc = world.client(acme, name="Ana", taxpayer_type="CONSUMIDOR_FINAL", ruc="8-123-456", dv=None)
    assert (with_ruc.ruc, with_ruc.dv) == ("8-123-456", None)


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"ruc": None}, "INVALID_RUC", "ruc"),
        ({"ruc": "  "}, "INVALID_RUC", "ruc"),
        ({"ruc": "155596713_2_2015"}, "INVALID_RUC", "ruc"),
        ({"ruc": "-123"}, "INVALID_RUC", "ruc"),
        ({"ruc": "8--123"}, "INVALID_RUC", "ruc"),
        ({"ruc": "1" * 31}, "INVALID_RUC", "ruc"),
        ({"ruc": "8-123 456"}, "INVALID_RUC", "ruc"),
        ({"dv": None}, "INVALID_DV", "dv"),
        ({"dv": "123"}, "INVALID_DV", "dv"),
        ({"dv": "A"}, "INVALID_DV", "dv"),
        ({"dv": "-1"}, "INVALID_DV", "dv"),
        ({"taxpayer_type": "CONSUMIDOR_FINAL", "ruc": None, "dv": "5"}, "INVALID_DV", "dv"),
        ({"taxpayer_type": "EMPRESA"}, "INVALID_INPUT", "taxpayerType"),
        ({"name": "   "}, "INVALID_INPUT", "name"),
        ({"name": "x" * 201}, "INVALID_INPUT", "name"),
        ({"address": "x" * 501}, "INVALID_INPUT", "address"),
        ({"contacts": (ContactInput(name="Ana", email="ana@cafe.pa"), ContactInput(name="Luis", email="luis@"))},
         "INVALID_EMAIL", "contacts[1].email"),
        ({"contacts": (ContactInput(name="Ana", email="ana cafe.pa"),)}, "INVALID_EMAIL", "contacts[0].email"),
        ({"contacts": (ContactInput(name="Ana", email="ana@cafe"),)}, "INVALID_EMAIL", "contacts[0].email"),
        ({"contacts": (ContactInput(name="Ana", phone="llámame"),)}, "INVALID_PHONE", "contacts[0].phone"),
        ({"contacts": (ContactInput(name=" "),)}, "INVALID_INPUT", "contacts[0].name"),
        ({"contacts": tuple(ContactInput(name=f"c{i}") for i in range(21))}, "INVALID_INPUT", "contacts"),
    ],
)
def test_create_client_refuses_bad_input_naming_the_field(
    world: World, acme: Actor, fields: dict[str, Any], code: str, field: str
) -> None:
    with refused(world, code, field):
        world.client(acme, **fields)


def test_update_client_replaces_the_whole_record_and_its_contacts(world: World, acme: Actor) -> None:
    client = world.client(acme, contacts=(ContactInput(name="Ana", email="ana@cafe.pa"), ContactInput(name="Luis")))
    world.clock.advance(timedelta(hours=1))
    updated = world.bus.handle(
        UpdateClient(
            actor=acme,
            client_id=client.id,
            name="Juan Pérez",
            taxpayer_type="NATURAL",
            ruc="8-123-456",
            dv="1",
            contacts=(ContactInput(name="Marta", email="marta@perez.pa", role="Contabilidad"),),
        )
    )
    assert (updated.id, updated.name, updated.ruc, updated.dv, updated.taxpayer_type, updated.address) == (
        client.id,
        "Juan Pérez",
        "8-123-456",
        "1",
        TaxpayerType.NATURAL,
        None,
    )
    assert [(c.name, c.email, c.role) for c in updated.contacts] == [("Marta", "marta@perez.pa", "Contabilidad")]
    assert (updated.created_at, updated.updated_at) == (NOON, NOON + timedelta(hours=1))
    assert world.bus.handle(GetClient(actor=acme, client_id=client.id)) == updated
    assert [len(c.contacts) for c in world.store.clients.values()] == [1]


def test_update_client_refuses_bad_input_and_keeps_the_record(world: World, acme: Actor) -> None:
    client = world.client(acme, contacts=(ContactInput(name="Ana"),))
    with refused(world, "INVALID_EMAIL", "contacts[0].email"):
        world.bus.handle(
            UpdateClient(
                actor=acme, client_id=client.id, name="Otro", taxpayer_type="JURIDICO", ruc="1-2-3", dv="4",
                contacts=(ContactInput(name="X", email="not-an-email"),),
            )
        )
    assert world.bus.handle(GetClient(actor=acme, client_id=client.id)) == client


def test_clients_of_another_tenant_read_and_update_as_not_found(world: World, acme: Actor, globex: Actor) -> None:
    theirs = world.client(globex)
    with refused(world, "NOT_FOUND", "id"):
        world.bus.handle(GetClient(actor=acme, client_id=theirs.id))
    with refused(world, "NOT_FOUND", "id"):
        world.bus.handle(
            UpdateClient(actor=acme, client_id=theirs.id, name="Hijack", taxpayer_type="CONSUMIDOR_FINAL")
        )
    with refused(world, "NOT_FOUND", "id"):
        world.bus.handle(GetClient(actor=acme, client_id=str(uuid.uuid4())))
    with refused(world, "INVALID_INPUT", "id"):
        world.bus.handle(GetClient(actor=acme, client_id="client-1"))
    assert world.bus.handle(GetClients(actor=acme, client_ids=(theirs.id,))) == {theirs.id: None}


def test_get_invoices_reads_many_at_once_none_for_another_tenants_and_at_most_500(
    world: World, acme: Actor, globex: Actor
) -> None:
    ours, theirs = world.invoice(acme), world.invoice(globex)
    world.pay(acme, ours.id, "1.00")

    found = world.bus.handle(GetInvoices(actor=acme, invoice_ids=(ours.id, theirs.id, ours.id)))

    assert list(found) == [ours.id, theirs.id] and found[theirs.id] is None
    assert found[ours.id] == world.bus.handle(GetInvoice(actor=acme, invoice_id=ours.id))
    assert len(found[ours.id].payments) == 1
    at_limit = tuple(str(uuid.uuid4()) for _ in range(500))
    assert set(world.bus.handle(GetInvoices(actor=acme, invoice_ids=at_limit)).values()) == {None}
    with refused(world, "INVALID_INPUT", "ids"):
        world.bus.handle(GetInvoices(actor=acme, invoice_ids=(*at_limit, str(uuid.uuid4()))))


def test_a_removed_payment_is_owed_again_and_only_once(world: World, acme: Actor, globex: Actor) -> None:
    made = world.invoice(acme)
    paid = world.pay(acme, made.id, "1.00").payment

    view = world.bus.handle(RemoveInvoicePayment(actor=acme, invoice_id=made.id, payment_id=paid.id))

    assert list(view.payments) == []
    assert view.balance == made.total
    with refused(world, "NOT_FOUND", "paymentId"):
        world.bus.handle(RemoveInvoicePayment(actor=acme, invoice_id=made.id, payment_id=paid.id))
    with refused(world, "NOT_FOUND", "invoiceId"):
        world.bus.handle(RemoveInvoicePayment(actor=globex, invoice_id=made.id, payment_id=paid.id))


def test_find_clients_searches_name_and_ruc_ignoring_case_newest_first(world: World, acme: Actor, globex: Actor) -> None:
    made = []
    for name, ruc in [("Ferretería Ñame", "8-111-1"), ("AÑO NUEVO S.A.", "155-1-2"), ("Otro", "PE-10-100")]:
        made.append(world.client(acme, name=name, ruc=ruc))
        world.clock.advance(timedelta(seconds=1))
    world.client(globex, name="Año de Globex")

    def names(search: str | None) -> list[str]:
        return [c.name for c in world.bus.handle(FindClients(actor=acme, search=search)).items]

    assert names(None) == ["Otro", "AÑO NUEVO S.A.", "Ferretería Ñame"]
    assert names("año") == ["AÑO NUEVO S.A."]
    assert names("ÑAME") == ["Ferretería Ñame"]
    assert names("pe-10") == ["Otro"]
    assert names("155-1") == ["AÑO NUEVO S.A."]
    assert names("%") == []


def test_find_clients_pages_with_cursors(world: World, acme: Actor) -> None:
    for i in range(5):
        world.client(acme, name=f"Cliente {i}")
        world.clock.advance(timedelta(seconds=1))
    first = world.bus.handle(FindClients(actor=acme))
    assert [c.name for c in first.items] == ["Cliente 4", "Cliente 3", "Cliente 2"]
    assert first.has_next_page
    second = world.bus.handle(FindClients(actor=acme, after=first.end_cursor, first=10))
    assert [c.name for c in second.items] == ["Cliente 1", "Cliente 0"]
    assert not second.has_next_page
    with refused(world, "INVALID_INPUT", "after"):
        world.bus.handle(FindClients(actor=acme, after="bm90LWEtY3Vyc29y"))
    with refused(world, "INVALID_INPUT", "first"):
        world.bus.handle(FindClients(actor=acme, first=11))


# --- invoices: creation and totals --------------------------------------------------------------


def test_create_invoice_for_a_client_computes_totals_per_line_and_per_rate(world: World, acme: Actor) -> None:
    client = world.client(acme)
    invoice = world.invoice(
        acme,
        client_name=None,
        client_id=client.id,
        due_date=TODAY + timedelta(days=30),
        lines=(
            line("Consultoría", "3", "33.3333", 7, discount="0.01"),  # gross 99.9999 -> 100.00, base 99.99
            line("Cable", "2", "10.005", 7),  # 20.01
            line("Exento", "1", "0.125", 0),  # 0.125 -> 0.13 (half up)
            line("Licor", "0.5", "0.07", 10),  # 0.035 -> 0.04; tax 0.004 -> 0.00
            line("Licor 2", "1", "0.05", 10),  # 0.05; tax at 10 % on 0.09 -> 0.01
            line("Cigarros", "1", "0.1", 15),  # tax 0.015 -> 0.02 (half up)
        ),
    )
    assert invoice.number == "F-000001"
    assert (invoice.client_id, invoice.client_name, invoice.client_ruc, invoice.client_dv) == (
        client.id,
        client.name,
        "155596713-2-2015",
        "59",
    )
    assert [(l.amount, l.base) for l in invoice.lines] == [
        (D("100.00"), D("99.99")),
        (D("20.01"), D("20.01")),
        (D("0.13"), D("0.13")),
        (D("0.04"), D("0.04")),
        (D("0.05"), D("0.05")),
        (D("0.10"), D("0.10")),
    ]
    assert invoice.taxes == (
        TaxLine(rate=0, base=D("0.13"), tax=D("0.00")),
        TaxLine(rate=7, base=D("120.00"), tax=D("8.40")),
        TaxLine(rate=10, base=D("0.09"), tax=D("0.01")),
        TaxLine(rate=15, base=D("0.10"), tax=D("0.02")),
    )
    assert (invoice.subtotal, invoice.discount_total, invoice.tax_total, invoice.total) == (
        D("120.33"),
        D("0.01"),
        D("8.43"),
        D("128.75"),
    )
    assert (invoice.paid, invoice.balance, invoice.status) == (D("0.00"), D("128.75"), InvoiceStatus.UNPAID)
    assert (invoice.issue_date, invoice.due_date, invoice.currency) == (TODAY, TODAY + timedelta(days=30), "USD")
    assert (invoice.legal_status, invoice.cufe, invoice.voided_at) == (LegalStatus.NONE, None, None)
    assert (invoice.created_by, invoice.created_at) == (acme.user_id, NOON)
    assert world.bus.handle(GetInvoice(actor=acme, invoice_id=invoice.id)) == invoice


def test_tax_is_rounded_per_line_and_the_totals_are_the_sums_of_the_lines(world: World, acme: Actor) -> None:
    invoice = world.invoice(acme, lines=(line("a", "1", "0.07", 7), line("b", "1", "0.07", 7)))
    # per line 0.0049 rounds to 0.00 twice (the DGI's rule); rounded once per rate it was 0.01
    assert invoice.taxes == (TaxLine(rate=7, base=D("0.14"), tax=D("0.00")),)
    assert [(item.tax, item.total) for item in invoice.lines] == [(D("0.00"), D("0.07"))] * 2
    assert invoice.total == D("0.14")


def test_the_issue_18_invoice_adds_up_to_the_cent(world: World, acme: Actor) -> None:
    """Issue 18's invoice: per-line ITBMS 2.63 + 5.78 + 3.50 printed beside "Total ITBMS 11.90",
    and line totals summing to 194.71 beside "Total 194.70". Now both columns add up."""
    invoice = world.invoice(
        acme,
        lines=(
            line("a", "1", "37.50", 7),
            line("b", "1", "82.50", 7),
            line("c", "1", "50.00", 7),
            line("d", "1", "12.80", 0),
        ),
    )
    assert [item.tax for item in invoice.lines] == [D("2.63"), D("5.78"), D("3.50"), D("0.00")]
    assert invoice.tax_total == D("11.91") == sum(item.tax for item in invoice.lines)
    assert invoice.total == D("194.71") == sum(item.total for item in invoice.lines)
    assert invoice.taxes == (
        TaxLine(rate=0, base=D("12.80"), tax=D("0.00")),
        TaxLine(rate=7, base=D("170.00"), tax=D("11.91")),
    )


def test_invoice_defaults_issue_date_today_due_on_issue_and_usd(world: World, acme: Actor) -> None:
    world.clock.current = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # still 30 November in Panama
    invoice = world.invoice(acme, currency="PAB")
    assert (invoice.issue_date, invoice.due_date, invoice.currency) == (date(2026, 11, 30), date(2026, 11, 30), "PAB")
    other = world.invoice(acme, issue_date=date(2026, 11, 1))
    assert (other.issue_date, other.due_date, other.currency) == (date(2026, 11, 1), date(2026, 11, 1), "USD")


def test_numbers_come_from_a_per_tenant_counter_that_skips_numbers_given_by_hand(
    world: World, acme: Actor, globex: Actor
) -> None:
    assert world.invoice(acme, number="F-000002").number == "F-000002"
    assert [world.invoice(acme).number for _ in range(3)] == ["F-000001", "F-000003", "F-000004"]
    assert world.invoice(globex).number == "F-000001"
    assert world.invoice(globex, number="F-000004").number == "F-000004"


def test_a_number_used_twice_is_refused(world: World, acme: Actor) -> None:
    world.invoice(acme, number="A-100")
    with refused(world, "DUPLICATE_NUMBER", "number"):
        world.invoice(acme, number="A-100")
    with refused(world, "INVALID_INPUT", "number"):
        world.invoice(acme, number="A 100")
    with refused(world, "INVALID_INPUT", "number"):
        world.invoice(acme, number="")


def test_an_ad_hoc_client_keeps_its_name_ruc_and_validated_emails(world: World, acme: Actor) -> None:
    invoice = world.invoice(
        acme,
        client_name=" Juan Pérez ",
        client_ruc="8-123-456",
        client_dv="12",
        ad_hoc_emails=("Juan@Perez.pa", "juan@perez.pa", "pagos@perez.pa"),
    )
    assert (invoice.client_id, invoice.client_name, invoice.client_ruc, invoice.client_dv) == (
        None,
        "Juan Pérez",
        "8-123-456",
        "12",
    )
    assert invoice.ad_hoc_emails == ("juan@perez.pa", "pagos@perez.pa")


def test_pac_document_id_can_be_given_on_create(world: World, acme: Actor) -> None:
    assert world.invoice(acme, pac_document_id="alanube-123").pac_document_id == "alanube-123"


def _bad_invoice_inputs(client_id: str, theirs: str) -> list[tuple[dict[str, Any], str, str]]:
    return [
        ({"lines": ()}, "NO_LINES", "lines"),
        ({"lines": (line(), line(quantity="-1"))}, "INVALID_AMOUNT", "lines[1].quantity"),
        ({"lines": (line(quantity="0"),)}, "INVALID_AMOUNT", "lines[0].quantity"),
        ({"lines": (line(quantity="1.00001"),)}, "INVALID_AMOUNT", "lines[0].quantity"),
        ({"lines": (line(quantity="abc"),)}, "INVALID_AMOUNT", "lines[0].quantity"),
        ({"lines": (line(quantity="NaN"),)}, "INVALID_AMOUNT", "lines[0].quantity"),
        ({"lines": (line(unit_price="-0.01"),)}, "INVALID_AMOUNT", "lines[0].unitPrice"),
        ({"lines": (line(unit_price="1.23456"),)}, "INVALID_AMOUNT", "lines[0].unitPrice"),
        ({"lines": (line(discount="-1"),)}, "INVALID_AMOUNT", "lines[0].discount"),
        ({"lines": (line(discount="100.01"),)}, "INVALID_AMOUNT", "lines[0].discount"),
        ({"lines": (line(discount="0.001"),)}, "INVALID_AMOUNT", "lines[0].discount"),
        ({"lines": (line(), line(tax_rate=8))}, "INVALID_TAX_RATE", "lines[1].taxRate"),
        ({"lines": (line(tax_rate=-7),)}, "INVALID_TAX_RATE", "lines[0].taxRate"),
        ({"lines": (line(tax_rate="7.5"),)}, "INVALID_TAX_RATE", "lines[0].taxRate"),
        ({"lines": (line(description=" "),)}, "INVALID_INPUT", "lines[0].description"),
        ({"lines": (line(quantity="9999999999", unit_price="9999"),)}, "INVALID_AMOUNT", "lines[0].quantity"),
        ({"issue_date": TODAY, "due_date": TODAY - timedelta(days=1)}, "INVALID_DATE_RANGE", "dueDate"),
        ({"currency": "EUR"}, "INVALID_INPUT", "currency"),
        ({"client_name": None}, "INVALID_INPUT", "clientName"),
        ({"client_name": "X", "ad_hoc_emails": ("ok@x.pa", "bad@")}, "INVALID_EMAIL", "adHocEmails[1]"),
        ({"client_name": "X", "client_ruc": "8_1"}, "INVALID_RUC", "clientRuc"),
        ({"client_name": "X", "client_ruc": "8-1", "client_dv": "123"}, "INVALID_DV", "clientDv"),
        ({"client_name": "X", "client_dv": "1"}, "INVALID_DV", "clientDv"),
        ({"client_name": None, "client_id": "nope"}, "INVALID_INPUT", "clientId"),
        ({"client_name": None, "client_id": str(uuid.uuid4())}, "NOT_FOUND", "clientId"),
        ({"client_name": None, "client_id": theirs}, "NOT_FOUND", "clientId"),
        ({"client_name": "Otro", "client_id": client_id}, "INVALID_INPUT", "clientName"),
        ({"client_name": None, "client_id": client_id, "ad_hoc_emails": ("a@b.pa",)}, "INVALID_INPUT", "adHocEmails"),
        ({"pac_document_id": "x" * 129}, "INVALID_INPUT", "pacDocumentId"),
    ]


def test_create_invoice_refuses_each_bad_input_naming_the_field_and_writes_nothing(
    world: World, acme: Actor, globex: Actor
) -> None:
    client = world.client(acme)
    theirs = world.client(globex)
    for fields, code, field in _bad_invoice_inputs(client.id, theirs.id):
        with refused(world, code, field):
            world.invoice(acme, **fields)
    assert world.invoice(acme).number == "F-000001", "no refused invoice used up a number"


# --- invoices: payments, status, void --------------------------------------------------------------


def test_payments_reduce_the_balance_and_drive_the_status(world: World, acme: Actor) -> None:
    invoice = world.invoice(acme, lines=(line(unit_price="100"),), due_date=TODAY + timedelta(days=10))
    assert invoice.total == D("107.00")
    first = world.pay(acme, invoice.id, "7.00", method="YAPPY", reference="YP-1")
    assert (first.invoice.paid, first.invoice.balance, first.invoice.status) == (
        D("7.00"),
        D("100.00"),
        InvoiceStatus.PARTIALLY_PAID,
    )
    assert (first.payment.amount, first.payment.date, first.payment.method, first.payment.reference) == (
        D("7.00"),
        TODAY,
        PaymentMethod.YAPPY,
        "YP-1",
    )
    second = world.pay(acme, invoice.id, "100", method="ACH", date=TODAY + timedelta(days=1))
    assert (second.invoice.paid, second.invoice.balance, second.invoice.status) == (
        D("107.00"),
        D("0.00"),
        InvoiceStatus.PAID,
    )
    assert [p.amount for p in second.invoice.payments] == [D("7.00"), D("100.00")]
    assert world.bus.handle(GetInvoice(actor=acme, invoice_id=invoice.id)) == second.invoice


def test_status_turns_past_due_after_the_due_date_while_something_is_owed(world: World, acme: Actor) -> None:
    unpaid = world.invoice(acme, due_date=TODAY)
    partly = world.invoice(acme, due_date=TODAY)
    paid = world.invoice(acme, due_date=TODAY)
    world.pay(acme, partly.id, "1")
    world.pay(acme, paid.id, paid.total)

    def status(invoice: InvoiceView) -> InvoiceStatus:
        return world.bus.handle(GetInvoice(actor=acme, invoice_id=invoice.id)).status

    assert [status(i) for i in (unpaid, partly, paid)] == [
        InvoiceStatus.UNPAID,
        InvoiceStatus.PARTIALLY_PAID,
        InvoiceStatus.PAID,
    ]
    world.clock.current = datetime(2026, 11, 25, 4, 59, tzinfo=UTC)  # 23:59 on the due date in Panama
    assert status(unpaid) is InvoiceStatus.UNPAID
    world.clock.current = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # the next day in Panama
    assert [status(i) for i in (unpaid, partly, paid)] == [
        InvoiceStatus.PAST_DUE,
        InvoiceStatus.PAST_DUE,
        InvoiceStatus.PAID,
    ]


def test_an_invoice_of_zero_is_paid_from_the_start(world: World, acme: Actor) -> None:
    assert world.invoice(acme, lines=(line(unit_price="0"),)).status is InvoiceStatus.PAID


def test_payment_refusals_name_the_field_and_write_nothing(world: World, acme: Actor, globex: Actor) -> None:
    invoice = world.invoice(acme, issue_date=TODAY - timedelta(days=3))  # 107.00
    theirs = world.invoice(globex)
    world.pay(acme, invoice.id, "100")
    cases = [
        ({"amount": "7.01"}, "PAYMENT_EXCEEDS_BALANCE", "amount"),
        ({"amount": "0"}, "INVALID_AMOUNT", "amount"),
        ({"amount": "-5"}, "INVALID_AMOUNT", "amount"),
        ({"amount": "1.005"}, "INVALID_AMOUNT", "amount"),
        ({"amount": "1", "method": "BITCOIN"}, "INVALID_INPUT", "method"),
        ({"amount": "1", "date": TODAY - timedelta(days=4)}, "INVALID_DATE_RANGE", "date"),
        ({"amount": "1", "reference": "r" * 201}, "INVALID_INPUT", "reference"),
        ({"amount": "1", "invoice_id": theirs.id}, "NOT_FOUND", "invoiceId"),
        ({"amount": "1", "invoice_id": str(uuid.uuid4())}, "NOT_FOUND", "invoiceId"),
        ({"amount": "1", "invoice_id": "F-000001"}, "INVALID_INPUT", "invoiceId"),
    ]
    for fields, code, field in cases:
        invoice_id = fields.pop("invoice_id", invoice.id)
        with refused(world, code, field):
            world.pay(acme, invoice_id, **fields)
    world.pay(acme, invoice.id, "7.00")
    with refused(world, "PAYMENT_EXCEEDS_BALANCE", "amount"):
        world.pay(acme, invoice.id, "0.01")


def test_void_marks_the_invoice_void_once(world: World, acme: Actor) -> None:
    invoice = world.invoice(acme)
    world.clock.advance(timedelta(minutes=5))
    voided = world.bus.handle(VoidInvoice(actor=acme, invoice_id=invoice.id))
    assert (voided.status, voided.voided_at, voided.balance) == (InvoiceStatus.VOID, NOON + timedelta(minutes=5), invoice.total)
    world.clock.advance(timedelta(minutes=5))
    again = world.bus.handle(VoidInvoice(actor=acme, invoice_id=invoice.id))
    assert again == voided, "voiding again changes nothing"


def test_a_void_invoice_takes_no_payment(world: World, acme: Actor) -> None:
    invoice = world.invoice(acme)
    world.bus.handle(VoidInvoice(actor=acme, invoice_id=invoice.id))
    with refused(world, "INVOICE_VOID", "invoiceId"):
        world.pay(acme, invoice.id, "1")


def test_an_invoice_with_payments_cannot_be_voided(world: World, acme: Actor, globex: Actor) -> None:
    paid = world.invoice(acme)
    world.pay(acme, paid.id, paid.total)
    partly = world.invoice(acme)
    world.pay(acme, partly.id, "1")
    for invoice in (paid, partly):
        with refused(world, "INVOICE_HAS_PAYMENTS", "id") as error:
            world.bus.handle(VoidInvoice(actor=acme, invoice_id=invoice.id))
        assert "payments" in error.value.message
    theirs = world.invoice(globex)
    with refused(world, "NOT_FOUND", "id"):
        world.bus.handle(VoidInvoice(actor=acme, invoice_id=theirs.id))
    with refused(world, "NOT_FOUND", "id"):
        world.bus.handle(GetInvoice(actor=acme, invoice_id=theirs.id))


# --- invoices: lists ----------------------------------------------------------------------------


def test_find_invoices_filters_sorts_and_pages(world: World, acme: Actor, globex: Actor) -> None:
    client = world.client(acme)
    a = world.invoice(acme, issue_date=date(2026, 10, 1), due_date=date(2026, 10, 31), lines=(line(unit_price="10"),))
    b = world.invoice(acme, client_id=client.id, client_name=None, issue_date=date(2026, 11, 1), due_date=date(2026, 12, 1), lines=(line(unit_price="30"),))
    c = world.invoice(acme, client_id=client.id, client_name=None, issue_date=date(2026, 11, 20), due_date=date(2026, 11, 20), lines=(line(unit_price="20"),))
    d = world.invoice(acme, issue_date=date(2026, 11, 24), lines=(line(unit_price="5"),))
    world.pay(acme, b.id, "10")
    world.pay(acme, d.id, d.total)
    world.invoice(globex)

    def numbers(**kw: Any) -> list[str]:
        return [i.number for i in world.bus.handle(FindInvoices(actor=acme, first=10, **kw)).items]

    assert numbers() == [d.number, c.number, b.number, a.number]
    assert numbers(sort=InvoiceSort(direction=SortDirection.ASC)) == [a.number, b.number, c.number, d.number]
    assert numbers(sort=InvoiceSort(field=InvoiceSortField.BALANCE)) == [b.number, c.number, a.number, d.number]
    assert numbers(filter=InvoiceFilter(client_id=client.id)) == [c.number, b.number]
    assert numbers(filter=InvoiceFilter(statuses=frozenset({InvoiceStatus.PAST_DUE}))) == [c.number, a.number]
    assert numbers(filter=InvoiceFilter(statuses=frozenset({InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_PAID}))) == [
        d.number,
        b.number,
    ]
    assert numbers(filter=InvoiceFilter(due_before=date(2026, 11, 20))) == [a.number]
    assert numbers(filter=InvoiceFilter(due_after=date(2026, 11, 24))) == [b.number]

    page = world.bus.handle(FindInvoices(actor=acme, first=3))
    assert page.has_next_page
    rest = world.bus.handle(FindInvoices(actor=acme, first=3, after=page.end_cursor))
    assert [i.number for i in rest.items] == [a.number] and not rest.has_next_page
    with refused(world, "INVALID_INPUT", "after"):
        world.bus.handle(FindInvoices(actor=acme, after=page.end_cursor, sort=InvoiceSort(field=InvoiceSortField.BALANCE)))
    with refused(world, "INVALID_INPUT", "filter.clientId"):
        world.bus.handle(FindInvoices(actor=acme, filter=InvoiceFilter(client_id="x")))


# --- quotes ---------------------------------------------------------------------------------------


def test_create_quote_numbers_it_and_expires_it_after_its_validity(world: World, acme: Actor, globex: Actor) -> None:
    client = world.client(acme)
    quote = world.bus.handle(
        CreateQuote(actor=acme, client_id=client.id, lines=(line("Diseño", "2", "50", 7),))
    )
    assert (quote.number, quote.status, quote.issue_date, quote.valid_until) == (
        "COT-000001",
        QuoteStatus.DRAFT,
        TODAY,
        TODAY + timedelta(days=30),
    )
    assert (quote.subtotal, quote.tax_total, quote.total, quote.client_name) == (
        D("100.00"),
        D("7.00"),
        D("107.00"),
        client.name,
    )
    assert world.bus.handle(GetQuote(actor=acme, quote_id=quote.id)) == quote
    world.clock.advance(timedelta(days=31))
    assert world.bus.handle(GetQuote(actor=acme, quote_id=quote.id)).status is QuoteStatus.EXPIRED
    assert world.bus.handle(CreateQuote(actor=acme, client_name="X", lines=(line(),))).number == "COT-000002"
    assert world.invoice(acme).number == "F-000001", "quotes and invoices count apart"
    with refused(world, "NOT_FOUND", "id"):
        world.bus.handle(GetQuote(actor=globex, quote_id=quote.id))


def test_create_quote_refuses_bad_input(world: World, acme: Actor) -> None:
    cases = [
        ({"valid_until": TODAY - timedelta(days=1)}, "INVALID_DATE_RANGE", "validUntil"),
        ({"lines": ()}, "NO_LINES", "lines"),
        ({"lines": (line(quantity="-2"),)}, "INVALID_AMOUNT", "lines[0].quantity"),
        ({"lines": (line(tax_rate=12),)}, "INVALID_TAX_RATE", "lines[0].taxRate"),
        ({"client_id": str(uuid.uuid4()), "client_name": None}, "NOT_FOUND", "clientId"),
    ]
    for fields, code, field in cases:
        with refused(world, code, field):
            world.bus.handle(CreateQuote(actor=acme, **{"client_name": "X", "lines": (line(),), **fields}))
    world.bus.handle(CreateQuote(actor=acme, number="Q-1", client_name="X", lines=(line(),)))
    with refused(world, "DUPLICATE_NUMBER", "number"):
        world.bus.handle(CreateQuote(actor=acme, number="Q-1", client_name="X", lines=(line(),)))


def test_find_quotes_newest_first_by_client_and_pages(world: World, acme: Actor) -> None:
    client = world.client(acme)
    made = [
        world.bus.handle(
            CreateQuote(actor=acme, client_id=client.id if i % 2 else None, client_name=None if i % 2 else "X",
                        issue_date=TODAY - timedelta(days=10 - i), lines=(line(),))
        )
        for i in range(5)
    ]
    page = world.bus.handle(FindQuotes(actor=acme))
    assert [q.number for q in page.items] == [made[4].number, made[3].number, made[2].number]
    rest = world.bus.handle(FindQuotes(actor=acme, after=page.end_cursor))
    assert [q.number for q in rest.items] == [made[1].number, made[0].number]
    mine = world.bus.handle(FindQuotes(actor=acme, filter=QuoteFilter(client_id=client.id)))
    assert [q.number for q in mine.items] == [made[3].number, made[1].number]


# --- statements -------------------------------------------------------------------------------------


def test_client_statement_has_opening_entries_running_balance_and_ageing(world: World, acme: Actor) -> None:
    client = world.client(acme)
    other = world.client(acme, name="Otro cliente")

    def invoice(issued: date, due: date, price: str, **kw: Any) -> InvoiceView:
        return world.invoice(
            acme, client_id=kw.pop("client_id", client.id), client_name=None, issue_date=issued, due_date=due,
            lines=(line(unit_price=price, tax_rate=0),), **kw,
        )

    old = invoice(date(2026, 8, 1), date(2026, 8, 31), "500")
    world.pay(acme, old.id, "200", date=date(2026, 9, 15))
    world.pay(acme, old.id, "100", date=date(2026, 10, 5))
    october = invoice(date(2026, 10, 10), date(2026, 11, 9), "300")
    world.pay(acme, october.id, "50", date=date(2026, 10, 10))
    void = invoice(date(2026, 10, 12), date(2026, 10, 12), "999")
    world.bus.handle(VoidInvoice(actor=acme, invoice_id=void.id))
    invoice(date(2026, 10, 15), date(2026, 10, 15), "777", currency="PAB")
    invoice(date(2026, 10, 15), date(2026, 10, 15), "888", client_id=other.id)
    world.invoice(acme, client_name=client.name, issue_date=date(2026, 10, 16), lines=(line(),))  # ad hoc
    late = invoice(date(2026, 10, 20), date(2026, 12, 15), "80")
    invoice(date(2026, 11, 5), date(2026, 11, 5), "1000")  # after the period
    world.pay(acme, old.id, "10", date=date(2026, 11, 2))  # after the period

    view = world.bus.handle(
        GetClientStatement(
            actor=acme, client_id=client.id, period_from=date(2026, 10, 1), period_to=date(2026, 10, 31),
            as_of=date(2026, 10, 31),
        )
    )
    statement = view.statement
    assert view.client == world.bus.handle(GetClient(actor=acme, client_id=client.id))
    assert statement.opening_balance == D("300.00")  # 500 − 200
    assert [(e.date, e.kind, e.invoice_number, e.debit, e.credit, e.balance) for e in statement.entries] == [
        (date(2026, 10, 5), EntryKind.PAYMENT, old.number, D("0.00"), D("100.00"), D("200.00")),
        (date(2026, 10, 10), EntryKind.INVOICE, october.number, D("300.00"), D("0.00"), D("500.00")),
        (date(2026, 10, 10), EntryKind.PAYMENT, october.number, D("0.00"), D("50.00"), D("450.00")),
        (date(2026, 10, 20), EntryKind.INVOICE, late.number, D("80.00"), D("0.00"), D("530.00")),
    ]
    assert (statement.total_debits, statement.total_credits, statement.closing_balance) == (
        D("380.00"),
        D("150.00"),
        D("530.00"),
    )
    # on 31 October: `old` (due 31 Aug) owes 200, 61 days past due; `october` 250 is current; `late` 80 current
    ageing = statement.ageing
    assert (ageing.current, ageing.days_1_30, ageing.days_31_60, ageing.days_61_90, ageing.over_90) == (
        D("330.00"),
        D("0.00"),
        D("0.00"),
        D("200.00"),
        D("0.00"),
    )
    assert ageing.total == statement.closing_balance

    pab = world.bus.handle(
        GetClientStatement(actor=acme, client_id=client.id, period_from=date(2026, 10, 1), period_to=date(2026, 10, 31), currency="PAB")
    ).statement
    assert (pab.opening_balance, pab.closing_balance, len(pab.entries), pab.ageing.over_90) == (
        D("0.00"),
        D("777.00"),
        1,
        D("0.00"),
    )


def test_client_statement_refusals(world: World, acme: Actor, globex: Actor) -> None:
    theirs = world.client(globex)
    mine = world.client(acme)
    period = {"period_from": date(2026, 10, 1), "period_to": date(2026, 10, 31)}
    with refused(world, "NOT_FOUND", "clientId"):
        world.bus.handle(GetClientStatement(actor=acme, client_id=theirs.id, **period))
    with refused(world, "INVALID_DATE_RANGE", "to"):
        world.bus.handle(
            GetClientStatement(actor=acme, client_id=mine.id, period_from=date(2026, 10, 2), period_to=date(2026, 10, 1))
        )
    with refused(world, "INVALID_INPUT", "currency"):
        world.bus.handle(GetClientStatement(actor=acme, client_id=mine.id, currency="EUR", **period))


def test_commands_need_a_tenants_actor(world: World, acme: Actor) -> None:
    with nothing_written(world), pytest.raises(PermissionError):
        world.bus.handle(CreateClient(actor=None, name="X", taxpayer_type="CONSUMIDOR_FINAL"))
    with nothing_written(world), pytest.raises(PermissionError):
        world.bus.handle(CreateInvoice(actor=None, client_name="X", lines=(line(),)))
