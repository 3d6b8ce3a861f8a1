"""Handlers of the invoicing domain. Each takes its message and a unit of work bound to the tenant.

"Today" (for due dates, validity and statuses) is the business day in Panama by the clock.
"""

from __future__ import annotations

from datetime import date, timedelta

from application.invoicing.commands import (
    CreateClient,
    CreateInvoice,
    CreateQuote,
    FindClients,
    FindInvoiceSummaries,
    FindInvoices,
    FindQuotes,
    GetClient,
    GetClients,
    GetInvoice,
    GetInvoices,
    GetInvoiceTotals,
    GetQuote,
    InvoicingPolicy,
    RegisterInvoicePayment,
    RemoveInvoicePayment,
    UpdateClient,
    VoidInvoice,
)
from application.invoicing.views import (
    ClientContactView,
    ClientCursor,
    ClientView,
    InvoiceCursor,
    InvoiceSummaryView,
    InvoiceTotalsView,
    InvoiceView,
    LineView,
    PaymentView,
    QuoteCursor,
    QuoteView,
    RegisteredPaymentView,
)
from application.invoicing.ports import InvoicingUnitOfWork
from application.shared.actors import tenant_actor
from application.shared.messages import Page, page_size
from application.shared.ports import Clock, DuplicateEntry
from domain.invoicing.clients import BillTo, Client, ClientDetails, TaxpayerType
from domain.invoicing.errors import DuplicateNumber
from domain.invoicing.issuer import default_currency
from domain.invoicing.invoices import Invoice, LegalStatus, Payment, PaymentMethod, invoice_number
from domain.invoicing.lines import DocumentLine
from domain.invoicing.quotes import Quote, quote_number
from domain.invoicing.statements import check_period
from domain.invoicing.values import Currency, business_date, parse_document_number
from domain.shared.channels import DeliveryChannel
from domain.shared.errors import InvalidInput, NotFound
from domain.shared.model import parse_id

QUOTE_VALIDITY = timedelta(days=30)


# --- views of aggregates --------------------------------------------------------------------


def client_view(client: Client) -> ClientView:
    return ClientView(
        id=client.id,
        name=client.name,
        ruc=client.ruc,
        dv=client.dv,
        taxpayer_type=TaxpayerType(client.taxpayer_type),
        address=client.address,
        contacts=tuple(
            ClientContactView(name=c.name, email=c.email, phone=c.phone, role=c.role)
            for c in sorted(client.contacts, key=lambda c: c.position)
        ),
        created_at=client.created_at,
        updated_at=client.updated_at,
        default_channel=DeliveryChannel(client.default_channel),
    )


def line_view(line: DocumentLine) -> LineView:
    return LineView.of(
        position=line.position,
        description=line.description,
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount=line.discount,
        tax_rate=line.tax_rate,
    )


def payment_view(payment: Payment) -> PaymentView:
    return PaymentView(
        id=payment.id,
        amount=payment.amount,
        date=payment.paid_on,
        method=PaymentMethod(payment.method),
        reference=payment.reference,
        created_at=payment.created_at,
    )


def invoice_view(invoice: Invoice, today: date) -> InvoiceView:
    return InvoiceView(
        id=invoice.id,
        number=invoice.number,
        client_id=invoice.client_id,
        client_name=invoice.client_name,
        client_ruc=invoice.client_ruc,
        client_dv=invoice.client_dv,
        ad_hoc_emails=tuple(invoice.ad_hoc_emails),
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        currency=Currency(invoice.currency),
        lines=tuple(line_view(line) for line in sorted(invoice.lines, key=lambda line: line.position)),
        taxes=invoice.taxes,
        subtotal=invoice.subtotal,
        discount_total=invoice.discount_total,
        tax_total=invoice.tax_total,
        total=invoice.total,
        paid=invoice.paid,
        balance=invoice.balance,
        status=invoice.status(today),
        payments=tuple(
            payment_view(p) for p in sorted(invoice.payments, key=lambda p: (p.paid_on, p.created_at, p.id))
        ),
        voided_at=invoice.voided_at,
        legal_status=LegalStatus(invoice.legal_status),
        cufe=invoice.cufe,
        pac_document_id=invoice.pac_document_id,
        qr_url=invoice.qr_url,
        authorization_protocol=invoice.authorization_protocol,
        authorized_at=invoice.authorized_at,
        legal_message=invoice.legal_message,
        created_by=invoice.created_by,
        created_at=invoice.created_at,
    )


def quote_view(quote: Quote, today: date) -> QuoteView:
    return QuoteView(
        id=quote.id,
        number=quote.number,
        client_id=quote.client_id,
        client_name=quote.client_name,
        client_ruc=quote.client_ruc,
        client_dv=quote.client_dv,
        ad_hoc_emails=tuple(quote.ad_hoc_emails),
        issue_date=quote.issue_date,
        valid_until=quote.valid_until,
        currency=Currency(quote.currency),
        lines=tuple(line_view(line) for line in sorted(quote.lines, key=lambda line: line.position)),
        taxes=quote.taxes,
        subtotal=quote.subtotal,
        discount_total=quote.discount_total,
        tax_total=quote.tax_total,
        total=quote.total,
        status=quote.status_on(today),
        created_by=quote.created_by,
        created_at=quote.created_at,
    )


# --- shared steps -----------------------------------------------------------------------------


def _bill_to(uow: InvoicingUnitOfWork, cmd: CreateInvoice | CreateQuote) -> BillTo:
    """The registered client named by ``client_id``, or the ad-hoc party; never both."""
    if cmd.client_id is None:
        return BillTo.ad_hoc(
            name=cmd.client_name, ruc=cmd.client_ruc, dv=cmd.client_dv, emails=cmd.ad_hoc_emails
        )
    client_id = parse_id(cmd.client_id, field="clientId")
    given = [
        name
        for name, value in (
            ("clientName", cmd.client_name),
            ("clientRuc", cmd.client_ruc),
            ("clientDv", cmd.client_dv),
            ("adHocEmails", cmd.ad_hoc_emails),
        )
        if value
    ]
    if given:
        raise InvalidInput(
            f"{given[0]} is for an ad-hoc client; give either clientId or the ad-hoc client's details",
            field=given[0],
        )
    client = uow.clients.get(client_id)
    if client is None:
        raise NotFound(f"client {client_id} not found", field="clientId")
    return BillTo.of_client(client)


def _number(given: str | None) -> str | None:
    return None if given is None else parse_document_number(given)


def _duplicate(kind: str, number: str) -> DuplicateNumber:
    return DuplicateNumber(f"{kind} number {number} is already used", field="number")


def _page_size(first: int | None, policy: InvoicingPolicy) -> int:
    return page_size(first, default=policy.page_size, maximum=policy.max_page_size)


# --- clients ----------------------------------------------------------------------------------


def _details(cmd: CreateClient | UpdateClient) -> ClientDetails:
    return ClientDetails.parse(
        name=cmd.name, ruc=cmd.ruc, dv=cmd.dv, taxpayer_type=cmd.taxpayer_type, address=cmd.address
    )


class CreateClientHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: CreateClient, uow: InvoicingUnitOfWork) -> ClientView:
        actor = tenant_actor(cmd.actor)
        client = Client.create(
            tenant_id=actor.tenant_id, details=_details(cmd), contacts=cmd.contacts, now=self._clock.now()
        )
        with uow:
            uow.clients.add(client)
            uow.commit()
            return client_view(client)


class UpdateClientHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: UpdateClient, uow: InvoicingUnitOfWork) -> ClientView:
        tenant_actor(cmd.actor)
        client_id = parse_id(cmd.client_id, field="id")
        details = _details(cmd)
        with uow:
            client = uow.clients.get(client_id)
            if client is None:
                raise NotFound(f"client {client_id} not found", field="id")
            client.update(details=details, contacts=cmd.contacts, now=self._clock.now())
            uow.commit()
            return client_view(client)


class GetClientHandler:
    def __call__(self, query: GetClient, uow: InvoicingUnitOfWork) -> ClientView:
        client_id = parse_id(query.client_id, field="id")
        with uow:
            view = uow.client_views.get(client_id)
        if view is None:
            raise NotFound(f"client {client_id} not found", field="id")
        return view


class GetClientsHandler:
    def __call__(self, query: GetClients, uow: InvoicingUnitOfWork) -> dict[str, ClientView | None]:
        with uow:
            found = {view.id: view for view in uow.client_views.get_many(list(dict.fromkeys(query.client_ids)))}
        return {client_id: found.get(client_id) for client_id in query.client_ids}


class FindClientsHandler:
    def __init__(self, policy: InvoicingPolicy) -> None:
        self._policy = policy

    def __call__(self, query: FindClients, uow: InvoicingUnitOfWork) -> Page[ClientView]:
        first = _page_size(query.first, self._policy)
        after = ClientCursor.decode(query.after, field="after") if query.after else None
        search = (query.search or "").strip()[:200] or None
        with uow:
            rows = uow.client_views.find(search, first=first + 1, after=after)
        return Page.of(rows, first, lambda item: ClientCursor.of(item).encode())


# --- invoices ---------------------------------------------------------------------------------


def _currency(given: str | None) -> Currency | None:
    """The currency a request names (checked before anything is read), or ``None``: the default."""
    return None if given is None else Currency.parse(given)


class CreateInvoiceHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: CreateInvoice, uow: InvoicingUnitOfWork) -> InvoiceView:
        actor = tenant_actor(cmd.actor)
        now = self._clock.now()
        today = business_date(now)
        issue_date = cmd.issue_date or today
        currency = _currency(cmd.currency)
        number = _number(cmd.number)
        with uow:
            bill_to = _bill_to(uow, cmd)
            if number is None:
                number = self._next_free_number(uow)
            elif uow.invoices.number_taken(number):
                raise _duplicate("invoice", number)
            profile = uow.tenant_profile.get()
            terms = timedelta(days=profile.payment_terms_days if profile is not None else 0)
            invoice = Invoice.create(
                tenant_id=actor.tenant_id,
                number=number,
                bill_to=bill_to,
                issue_date=issue_date,
                due_date=cmd.due_date or issue_date + terms,
                currency=currency if currency is not None else default_currency(profile),
                lines=cmd.lines,
                pac_document_id=cmd.pac_document_id,
                created_by=actor.user_id,
                now=now,
            )
            uow.invoices.add(invoice)
            try:
                uow.commit()
            except DuplicateEntry:
                raise _duplicate("invoice", number) from None
            return invoice_view(invoice, today)

    @staticmethod
    def _next_free_number(uow: InvoicingUnitOfWork) -> str:
        """The counter's next number, skipping numbers already given by hand."""
        while True:
            number = invoice_number(uow.invoices.next_sequence())
            if not uow.invoices.number_taken(number):
                return number


class RegisterInvoicePaymentHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: RegisterInvoicePayment, uow: InvoicingUnitOfWork) -> RegisteredPaymentView:
        tenant_actor(cmd.actor)
        invoice_id = parse_id(cmd.invoice_id, field="invoiceId")
        now = self._clock.now()
        today = business_date(now)
        with uow:
            invoice = uow.invoices.get_for_update(invoice_id)
            if invoice is None:
                raise NotFound(f"invoice {invoice_id} not found", field="invoiceId")
            payment = invoice.register_payment(
                amount=cmd.amount,
                paid_on=cmd.date or today,
                method=cmd.method,
                reference=cmd.reference,
                now=now,
            )
            uow.commit()
            return RegisteredPaymentView(invoice=invoice_view(invoice, today), payment=payment_view(payment))


class RemoveInvoicePaymentHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: RemoveInvoicePayment, uow: InvoicingUnitOfWork) -> InvoiceView:
        tenant_actor(cmd.actor)
        invoice_id = parse_id(cmd.invoice_id, field="invoiceId")
        payment_id = parse_id(cmd.payment_id, field="paymentId")
        with uow:
            invoice = uow.invoices.get_for_update(invoice_id)
            if invoice is None:
                raise NotFound(f"invoice {invoice_id} not found", field="invoiceId")
            invoice.remove_payment(payment_id)
            uow.commit()
            return invoice_view(invoice, business_date(self._clock.now()))


class VoidInvoiceHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: VoidInvoice, uow: InvoicingUnitOfWork) -> InvoiceView:
        tenant_actor(cmd.actor)
        invoice_id = parse_id(cmd.invoice_id, field="id")
        now = self._clock.now()
        with uow:
            invoice = uow.invoices.get_for_update(invoice_id)
            if invoice is None:
                raise NotFound(f"invoice {invoice_id} not found", field="id")
            invoice.void(now=now)
            uow.commit()
            return invoice_view(invoice, business_date(now))


class GetInvoiceHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, query: GetInvoice, uow: InvoicingUnitOfWork) -> InvoiceView:
        invoice_id = parse_id(query.invoice_id, field="id")
        with uow:
            view = uow.invoice_views.get(invoice_id, today=business_date(self._clock.now()))
        if view is None:
            raise NotFound(f"invoice {invoice_id} not found", field="id")
        return view


class GetInvoicesHandler:
    MAX = 500

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, query: GetInvoices, uow: InvoicingUnitOfWork) -> dict[str, InvoiceView | None]:
        wanted = list(dict.fromkeys(parse_id(invoice_id, field="ids") for invoice_id in query.invoice_ids))
        if len(wanted) > self.MAX:
            raise InvalidInput(f"at most {self.MAX} invoices at once, not {len(wanted)}", field="ids")
        with uow:
            found = {v.id: v for v in uow.invoice_views.get_many(wanted, today=business_date(self._clock.now()))}
        return {invoice_id: found.get(invoice_id) for invoice_id in wanted}


class FindInvoicesHandler:
    def __init__(self, clock: Clock, policy: InvoicingPolicy) -> None:
        self._clock = clock
        self._policy = policy

    def __call__(self, query: FindInvoices, uow: InvoicingUnitOfWork) -> Page[InvoiceView] | Page[InvoiceSummaryView]:
        """``FindInvoiceSummaries`` too: the same page, read without lines and payments."""
        first = _page_size(query.first, self._policy)
        after = InvoiceCursor.decode(query.after, query.sort, field="after") if query.after else None
        if query.filter.client_id is not None:
            parse_id(query.filter.client_id, field="filter.clientId")
        with uow:
            read = uow.invoice_views.summaries if isinstance(query, FindInvoiceSummaries) else uow.invoice_views.find
            rows = read(
                query.filter,
                query.sort,
                today=business_date(self._clock.now()),
                first=first + 1,
                after=after,
            )
        return Page.of(rows, first, lambda item: InvoiceCursor.of(item, query.sort).encode())


# --- quotes -----------------------------------------------------------------------------------


class CreateQuoteHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: CreateQuote, uow: InvoicingUnitOfWork) -> QuoteView:
        actor = tenant_actor(cmd.actor)
        now = self._clock.now()
        today = business_date(now)
        issue_date = cmd.issue_date or today
        currency = _currency(cmd.currency)
        number = _number(cmd.number)
        with uow:
            bill_to = _bill_to(uow, cmd)
            if number is None:
                number = self._next_free_number(uow)
            elif uow.quotes.number_taken(number):
                raise _duplicate("quote", number)
            quote = Quote.create(
                tenant_id=actor.tenant_id,
                number=number,
                bill_to=bill_to,
                issue_date=issue_date,
                valid_until=cmd.valid_until or issue_date + QUOTE_VALIDITY,
                currency=currency if currency is not None else default_currency(uow.tenant_profile.get()),
                lines=cmd.lines,
                created_by=actor.user_id,
                now=now,
            )
            uow.quotes.add(quote)
            try:
                uow.commit()
            except DuplicateEntry:
                raise _duplicate("quote", number) from None
            return quote_view(quote, today)

    @staticmethod
    def _next_free_number(uow: InvoicingUnitOfWork) -> str:
        while True:
            number = quote_number(uow.quotes.next_sequence())
            if not uow.quotes.number_taken(number):
                return number


class GetQuoteHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, query: GetQuote, uow: InvoicingUnitOfWork) -> QuoteView:
        quote_id = parse_id(query.quote_id, field="id")
        with uow:
            view = uow.quote_views.get(quote_id, today=business_date(self._clock.now()))
        if view is None:
            raise NotFound(f"quote {quote_id} not found", field="id")
        return view


class FindQuotesHandler:
    def __init__(self, clock: Clock, policy: InvoicingPolicy) -> None:
        self._clock = clock
        self._policy = policy

    def __call__(self, query: FindQuotes, uow: InvoicingUnitOfWork) -> Page[QuoteView]:
        first = _page_size(query.first, self._policy)
        after = QuoteCursor.decode(query.after, field="after") if query.after else None
        if query.filter.client_id is not None:
            parse_id(query.filter.client_id, field="filter.clientId")
        with uow:
            rows = uow.quote_views.find(
                query.filter, today=business_date(self._clock.now()), first=first + 1, after=after
            )
        return Page.of(rows, first, lambda item: QuoteCursor.of(item).encode())


class GetInvoiceTotalsHandler:
    def __call__(self, query: GetInvoiceTotals, uow: InvoicingUnitOfWork) -> InvoiceTotalsView:
        check_period(query.period_from, query.period_to)
        currency = _currency(query.currency)
        with uow:
            currency = currency or default_currency(uow.tenant_profile.get())
            return uow.invoice_views.totals(query.period_from, query.period_to, currency)
