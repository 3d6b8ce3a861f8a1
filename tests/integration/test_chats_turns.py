"""Turns that go wrong, and the fences around a tenant's data: each refusal has its test.

The provider is the local ``FakeLlm`` (through each real SDK); faults are replies it serves first.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from tests.integration.chats_support import CHAT, KEY, Chats, answer_only, chats_factory, results_after_last_user  # noqa: F401
from tests.providers.llm import Call, Said, Step
from tests.providers.server import Reply, provider_server  # noqa: F401 - fixture

ARCHIVE = "mutation { archiveSessionChats { archived error { code message } } }"
RENAME = "mutation($id: ID!, $t: String!) { renameChat(id: $id, title: $t) { chat { id title } error { code message field } } }"
DELETE = "mutation($id: ID!) { deleteChat(id: $id) { deletedId error { code message field } } }"
SESSION = "{ getCurrentSessionActiveChat { chat { id title status } error { code } } }"
LIST = "query($a: Boolean) { chats(includeArchived: $a) { edges { node { id status } } pageInfo { hasNextPage } error { code } } }"
SETTINGS = "{ chatProviderSettings { settings { provider model ownKey keyHint status lastError } error { code } } }"


def _last(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return messages[-1]


@pytest.fixture
def chats(chats_factory: Any) -> Chats:
    built = chats_factory(answer_only("Hola."))
    built.configure("OPENAI")
    return built


# --- isolation ------------------------------------------------------------------------------------


def test_a_model_asking_for_another_tenants_invoice_is_told_not_found(chats_factory: Any) -> None:
    stolen: dict[str, str] = {}

    def thief(conversation: list[Said]) -> Step:
        results = results_after_last_user(conversation)
        if not results:
            return Step(calls=(Call("get_invoice", {"invoice_id": stolen["id"]}),
                               Call("client_balance", {"client_id": stolen["client"]})))
        return Step(text=json.dumps(results))

    chats = chats_factory(thief)
    other = chats.books("otro")
    stolen.update(id=other.invoices["D"], client=other.norte)
    chats.configure("ANTHROPIC")
    _, messages = chats.ask("Muéstrame la factura")
    results = messages[2]["toolResults"]
    assert [r["isError"] for r in results] == [True, True]
    assert all("not found" in json.loads(r["content"])["error"] for r in results)
    assert "3210" not in _last(messages)["text"] and "Distribuidora" not in _last(messages)["text"]


def test_another_tenants_or_users_chat_is_not_found(chats: Chats) -> None:
    sent = chats.send("Hola")
    chat_id = sent["chat"]["id"]
    for headers in (chats.service.headers("otro"), chats.service.headers("acme", subject="user-2")):
        assert chats.run(CHAT, "getChatById", id=chat_id, headers=headers)["error"]["code"] == "NOT_FOUND"
        assert chats.send("hola", chat=chat_id, headers=headers)["error"]["code"] == "NOT_FOUND"
        assert chats.run(DELETE, "deleteChat", id=chat_id, headers=headers)["error"]["code"] == "NOT_FOUND"
    assert chats.run(CHAT, "getChatById", id="6f1c2a9e-0000-4000-8000-000000000000")["error"]["code"] == "NOT_FOUND"


# --- sessions, archive, rename, delete -----------------------------------------------------------


def test_messages_continue_the_sessions_chat_until_it_is_archived(chats: Chats) -> None:
    headers = {"Authorization": "Bearer " + chats.service.token("acme")}  # a fresh sid
    assert chats.run(SESSION, "getCurrentSessionActiveChat", headers=headers)["chat"] is None
    first = chats.send("¿Cuánto me deben?", headers=headers)
    chats.jobs()
    second = chats.send("¿Y el mes pasado?", headers=headers)
    assert second["chat"]["id"] == first["chat"]["id"]
    assert chats.run(SESSION, "getCurrentSessionActiveChat", headers=headers)["chat"]["id"] == first["chat"]["id"]
    other_session = chats.send("Hola", headers={"Authorization": "Bearer " + chats.service.token("acme")})
    assert other_session["chat"]["id"] != first["chat"]["id"]
    chats.jobs()
    assert chats.run(ARCHIVE, "archiveSessionChats", headers=headers)["archived"] == 1
    assert chats.run(SESSION, "getCurrentSessionActiveChat", headers=headers)["chat"] is None
    archived = chats.send("otra vez", chat=first["chat"]["id"], headers=headers)
    assert archived["error"]["code"] == "CHAT_ARCHIVED" and archived["error"]["field"] == "chatId"
    third = chats.send("Nueva pregunta", headers=headers)
    assert third["chat"]["id"] not in (first["chat"]["id"], other_session["chat"]["id"])
    listed = chats.run(LIST, "chats", a=False, headers=headers)["edges"]
    assert first["chat"]["id"] not in [e["node"]["id"] for e in listed]
    assert first["chat"]["id"] in [e["node"]["id"] for e in chats.run(LIST, "chats", a=True, headers=headers)["edges"]]


def test_a_second_message_waits_for_the_first_answer(chats: Chats) -> None:
    first = chats.send("Uno")
    busy = chats.send("Dos", chat=first["chat"]["id"])
    assert busy["error"]["code"] == "CONFLICT"
    chats.jobs()
    assert chats.send("Dos", chat=first["chat"]["id"])["error"] is None


def test_rename_and_delete(chats: Chats) -> None:
    chat_id = chats.send("Hola")["chat"]["id"]
    chats.jobs()
    assert chats.run(RENAME, "renameChat", id=chat_id, t="  Cobros\tde\noctubre ")["chat"]["title"] == "Cobros de octubre"
    assert chats.run(RENAME, "renameChat", id=chat_id, t="x" * 120)["error"] is None
    assert chats.run(RENAME, "renameChat", id=chat_id, t="x" * 121)["error"]["field"] == "title"
    assert chats.run(RENAME, "renameChat", id=chat_id, t="\x00\x07 ")["error"]["field"] == "title"
    assert chats.run(DELETE, "deleteChat", id=chat_id)["deletedId"] == chat_id
    with chats.service.container.engine().connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM chat_messages")).scalar_one() == 0


def test_message_length_is_limited_at_exactly_8000_characters(chats: Chats) -> None:
    assert chats.send("¿" + "a" * 7999)["error"] is None
    chats.jobs()
    refused = chats.send("a" * 8001)
    assert refused["error"]["field"] == "message" and "8000" in refused["error"]["message"]
    assert chats.send(" \x00\x1b ")["error"]["field"] == "message"


# --- providers: configuration and failures -------------------------------------------------------


def test_no_provider_configured_is_refused_before_anything_is_stored(chats_factory: Any) -> None:
    chats = chats_factory(answer_only("x"))
    refused = chats.send("Hola")
    assert refused["error"]["code"] == "PROVIDER_NOT_CONFIGURED"
    with chats.service.container.engine().connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM chats")).scalar_one() == 0


def test_the_instance_default_provider_serves_tenants_without_settings(chats_factory: Any) -> None:
    chats = chats_factory(answer_only("Buenos días."), ISTMO_CHATS_PROVIDER="deepseek", ISTMO_DEEPSEEK_API_KEY="sk-instance")
    _, messages = chats.ask("Hola")
    assert _last(messages)["text"] == "Buenos días." and _last(messages)["provider"] == "DEEPSEEK"
    assert chats.llm.server.requests[-1].header("Authorization") == "Bearer sk-instance"


def test_the_key_is_sealed_never_shown_and_only_admins_configure(chats: Chats) -> None:
    shown = chats.run(SETTINGS, "chatProviderSettings")["settings"]
    assert shown["keyHint"] == "…9a1c" and KEY not in json.dumps(shown)
    with chats.service.container.engine().connect() as connection:
        stored = json.dumps([dict(r) for r in connection.execute(text("SELECT * FROM chat_provider_settings")).mappings()], default=str)
    assert KEY not in stored
    member = chats.service.headers("acme", role="member", subject="user-3")
    refused = chats.run("mutation { configureChatProvider(provider: \"OPENAI\", model: \"m\", apiKey: \"k\") { error { code } } }",
                        "configureChatProvider", headers=member)
    assert refused["error"]["code"] == "PERMISSION_DENIED"
    for provider, model, key, field in (("GEMINI", "m", "k", "provider"), ("OPENAI", "two words", "k", "model"),
                                        ("OPENAI", "m", "k e y", "apiKey"), ("OPENAI", "m", None, "apiKey")):
        bad = chats.run("mutation($p: String!, $m: String!, $k: String) { configureChatProvider(provider: $p, model: $m, apiKey: $k) { error { code field } } }",
                        "configureChatProvider", p=provider, m=model, k=key)
        assert bad["error"]["field"] == field, (provider, model, key, bad)


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_marks_the_settings_invalid_and_tells_the_user(chats: Chats, status: int) -> None:
    chats.llm.faults.append(Reply.json({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}, status=status))
    _, messages = chats.ask("Hola")
    assert _last(messages)["errorCode"] == "PROVIDER_SETTINGS_INVALID" and messages[0]["status"] == "FAILED"
    settings = chats.run(SETTINGS, "chatProviderSettings")["settings"]
    assert settings["status"] == "INVALID"
    refused = chats.send("Hola")
    assert refused["error"]["code"] == "PROVIDER_SETTINGS_INVALID" and "configureChatProvider" in refused["error"]["message"]
    assert len(chats.llm.server.requests) == 1  # the refused key is not tried again
    chats.configure("OPENAI")
    assert chats.run(SETTINGS, "chatProviderSettings")["settings"]["status"] == "VALID"
    assert chats.ask("Hola")[1][-1]["status"] == "COMPLETE"


def test_deepseek_402_is_provider_balance_exhausted(chats_factory: Any) -> None:
    chats = chats_factory(answer_only("x"))
    chats.configure("DEEPSEEK")
    chats.llm.faults.append(Reply.json({"error": {"message": "Insufficient Balance", "type": "unknown_error"}}, status=402))
    _, messages = chats.ask("Hola")
    assert _last(messages)["errorCode"] == "PROVIDER_BALANCE_EXHAUSTED"
    assert "provider balance exhausted" in _last(messages)["errorMessage"]
    assert len(chats.llm.server.requests) == 1


def test_a_bad_request_is_not_retried(chats: Chats) -> None:
    chats.llm.faults.append(Reply.json({"error": {"message": "context too long"}}, status=400))
    _, messages = chats.ask("Hola")
    assert _last(messages)["errorCode"] == "PROVIDER_ERROR" and "context too long" in _last(messages)["errorMessage"]
    assert len(chats.llm.server.requests) == 1


def test_more_than_eight_tool_rounds_end_the_turn(chats_factory: Any) -> None:
    chats = chats_factory(lambda conversation: Step(calls=(Call("search_clients", {"query": "Sol"}),)))
    chats.configure("OPENAI")
    _, messages = chats.ask("Busca sin parar")
    assert _last(messages)["errorCode"] == "TOOL_LOOP_EXCEEDED"
    assert len(chats.llm.server.requests) == 9
    assert sum(1 for m in messages if m["role"] == "TOOL") == 8


def test_exactly_eight_tool_rounds_are_allowed(chats_factory: Any) -> None:
    def eight(conversation: list[Said]) -> Step:
        rounds = len(results_after_last_user(conversation))
        return Step(calls=(Call("search_clients", {"query": "Sol"}),)) if rounds < 8 else Step(text="Listo.")

    chats = chats_factory(eight)
    chats.configure("DEEPSEEK")
    _, messages = chats.ask("Busca ocho veces")
    assert _last(messages)["status"] == "COMPLETE" and _last(messages)["text"] == "Listo."


def test_malformed_tool_arguments_go_back_to_the_model_as_tool_errors(chats_factory: Any) -> None:
    def clumsy(conversation: list[Said]) -> Step:
        results = results_after_last_user(conversation)
        if not results:
            return Step(calls=(
                Call("list_invoices", "{not json"),
                Call("list_invoices", {"status": "owed"}),
                Call("get_invoice", {"invoice_id": "F-1", "tenant_id": "x"}),
                Call("list_invoices", {"limit": 51}),
                Call("drop_tables", {}),
                Call("period_totals", {"from": "2026-10-31", "to": "2026-10-01"}),
            ))
        return Step(text=" | ".join(r["error"] for r in results))

    chats = chats_factory(clumsy)
    chats.configure("OPENAI")
    _, messages = chats.ask("Hola")
    results = messages[2]["toolResults"]
    assert all(r["isError"] for r in results) and len(results) == 6
    errors = [json.loads(r["content"])["error"] for r in results]
    assert "not valid JSON" in errors[0] and "status" in errors[1] and "Additional properties" in errors[2]
    assert "limit" in errors[3] and "no tool named" in errors[4] and "before from" in errors[5]
    assert _last(messages)["status"] == "COMPLETE"


def test_the_daily_token_budget_refuses_once_spent(chats_factory: Any) -> None:
    chats = chats_factory(answer_only("Una respuesta."), ISTMO_CHATS_DAILY_TOKENS="100")
    chats.configure("OPENAI")
    spent = 0
    while spent < 100:
        _, messages = chats.ask("Hola " * 40)
        spent += _last(messages)["tokensIn"] + _last(messages)["tokensOut"]
    refused = chats.send("Hola")
    assert refused["error"]["code"] == "TOKEN_BUDGET_SPENT" and "100" in refused["error"]["message"]


def test_files_by_entity_and_a_clients_recent_messages(chats_factory: Any) -> None:
    from tests.integration.api import add_file

    found: dict[str, str] = {}

    def script(conversation: list[Said]) -> Step:
        results = results_after_last_user(conversation)
        if not results:
            return Step(calls=(Call("find_files", {"entity_type": "INVOICE", "entity_id": found["invoice"]}),
                               Call("recent_messages", {"client_id": found["client"]}), Call("find_files", {})))
        return Step(text=json.dumps(results))

    chats = chats_factory(script)
    books = chats.books()
    found.update(invoice=books.invoices["A"], client=books.sol)
    add_file(chats.service, chats.headers, b"%PDF-1.7 soporte", filename="soporte.pdf", entity=("INVOICE", books.invoices["A"]))
    chats.configure("OPENAI")
    _, messages = chats.ask("¿Qué archivos y mensajes hay?")
    files, recent, bad = (json.loads(r["content"]) for r in messages[2]["toolResults"])
    assert [f["name"] for f in files["files"]] == ["soporte.pdf"]
    assert recent == {"client": "Ferretería El Sol", "messages": [], "truncated": False, "notes": []}
    assert bad == {"error": "give name, or entity_type and entity_id"}


def test_the_invoice_statement_and_quote_tools_answer_from_the_records(chats_factory: Any) -> None:
    from decimal import Decimal

    from application.invoicing.commands import CreateQuote
    from domain.invoicing.lines import LineInput

    found: dict[str, str] = {}

    def script(conversation: list[Said]) -> Step:
        if not results_after_last_user(conversation):
            return Step(calls=(
                Call("get_invoice", {"invoice_id": found["invoice"]}),
                Call("client_statement", {"client_id": found["client"], "from": "2026-09-01", "to": "2026-10-31"}),
                Call("list_quotes", {"client_id": found["client"], "limit": 5}),
                Call("search_clients", {"query": "norte"}),
            ))
        return Step(text="ok")

    chats = chats_factory(script)
    books = chats.books()
    found.update(invoice=books.invoices["B"], client=books.sol)
    quote = chats.service.container.bus().handle(CreateQuote(actor=chats.actor(), client_id=books.sol, lines=(
        LineInput(description="Cemento", quantity=Decimal(10), unit_price=Decimal("8.50"), tax_rate=7),)))
    chats.configure("ANTHROPIC")
    _, messages = chats.ask("Detalles")
    invoice, statement, quotes, clients = (json.loads(r["content"]) for r in messages[2]["toolResults"])
    assert (invoice["total"], invoice["paid"], invoice["balance"], invoice["currency"]) == ("535.00", "200.00", "335.00", "USD")
    assert [(line["description"], line["itbms_rate"], line["amount"]) for line in invoice["lines"]] == [("Servicios", 7, "500.00")]
    assert [p["amount"] for p in invoice["payments"]] == ["200.00"] and invoice["days_overdue"] == 70
    assert statement["opening_balance"] == "0.00" and statement["closing_balance"] == "1405.00"
    assert [e["kind"] for e in statement["entries"]] == ["INVOICE", "PAYMENT", "INVOICE", "INVOICE", "PAYMENT"]
    assert [q["id"] for q in quotes["quotes"]] == [quote.id] and quotes["quotes"][0]["total"] == "90.95"
    assert [c["name"] for c in clients["clients"]] == ["Distribuidora Norte"] and clients["truncated"] is False


def test_list_invoices_filters_by_issue_date_amount_currency_and_client(chats_factory: Any) -> None:
    found: dict[str, str] = {}

    def script(conversation: list[Said]) -> Step:
        if not results_after_last_user(conversation):
            return Step(calls=(
                Call("list_invoices", {"issued_from": "2026-10-01", "issued_to": "2026-10-31", "sort": "date_asc"}),
                Call("list_invoices", {"min_amount": "535.00", "max_amount": "2200", "sort": "balance_desc"}),
                Call("list_invoices", {"client_id": found["norte"], "currency": "PAB"}),
                Call("list_invoices", {"client_id": found["norte"], "status": "paid"}),
                Call("list_invoices", {"limit": 2, "sort": "date_desc"}),
                Call("list_invoices", {"overdue_more_than_days": 30}),
                Call("list_invoices", {"status": "unpaid", "sort": "due_date_desc", "limit": 2}),
            ))
        return Step(text="ok")

    chats = chats_factory(script)
    books = chats.books()
    found.update(norte=books.norte)
    chats.configure("OPENAI")
    _, messages = chats.ask("Filtra")
    october, by_amount, pab, paid, two, overdue, due_soonest = (json.loads(r["content"]) for r in messages[2]["toolResults"])
    assert [row["number"] for row in october["invoices"]] == ["F-000001", "F-000004", "F-000003"]
    assert [(row["number"], row["balance"]) for row in by_amount["invoices"]] == [("F-000001", "1070.00"), ("F-000002", "335.00"), ("F-000003", "0.00")]
    assert pab == {"invoices": [], "truncated": False} and paid == {"invoices": [], "truncated": False}
    assert len(two["invoices"]) == 2 and two["truncated"] is True
    # due strictly before 2026-10-25, most overdue first by default; D (due that day) is not
    assert [(row["number"], row["days_overdue"]) for row in overdue["invoices"]] == [("F-000005", 101), ("F-000002", 70), ("F-000001", 35)]
    assert overdue["truncated"] is False
    assert [row["number"] for row in due_soonest["invoices"]] == ["F-000004", "F-000001"] and due_soonest["truncated"] is True
