"""The assistant's domain rules and the history it sends: attachment rules at their limits, message
and title edges, trimming that never separates a tool call from its result, the session claim."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import pytest

from application.chats.commands import session_of
from application.chats.history import PER_IMAGE, PER_TURN, costs_once, estimate_tokens, text_tokens, trim
from application.chats.ports import ImagePart, ToolCall, Turn
from domain.chats.attachments import (
    MAX_IMAGE_BYTES,
    MAX_PDF_BYTES,
    MAX_TEXT_BYTES,
    check_file_for_chat,
    is_text_based_file,
    is_valid_file_for_chat,
)
from domain.chats.errors import AttachmentRefused
from domain.chats.model import (
    MAX_MESSAGE_CHARS,
    MessageRole,
    MessageStatus,
    Provider,
    parse_message,
    parse_model_name,
    parse_title,
    title_from,
)
from domain.shared.errors import InvalidInput
from domain.tenancy.model import Actor, Role


@pytest.mark.parametrize(("mime", "limit"), [("application/pdf", MAX_PDF_BYTES), ("text/csv", MAX_TEXT_BYTES),
                                             ("application/json", MAX_TEXT_BYTES), ("image/webp", MAX_IMAGE_BYTES)])
def test_each_type_is_taken_at_its_limit_and_refused_one_byte_past(mime: str, limit: int) -> None:
    assert is_valid_file_for_chat(name="f", mime=mime, size=limit, provider=Provider.OPENAI)
    with pytest.raises(AttachmentRefused, match=f"{limit + 1} bytes"):
        check_file_for_chat(name="f", mime=mime, size=limit + 1, provider=Provider.OPENAI)


def test_text_based_types_and_refusals_name_the_reason() -> None:
    assert all(is_text_based_file(m) for m in ("text/plain; charset=utf-8", "TEXT/CSV", "application/xml", "application/x-ofx", "application/pdf"))
    assert not is_text_based_file("image/png") and not is_text_based_file("application/zip")
    with pytest.raises(AttachmentRefused, match="application/zip files cannot be read"):
        check_file_for_chat(name="a.pdf", mime="application/zip", size=10, provider=Provider.ANTHROPIC)
    with pytest.raises(AttachmentRefused, match="DeepSeek takes text only"):
        check_file_for_chat(name="foto.png", mime="image/png", size=10, provider=Provider.DEEPSEEK)
    assert is_valid_file_for_chat(name="foto.png", mime="image/png", size=10, provider=Provider.ANTHROPIC)


def test_a_message_is_limited_and_cleaned() -> None:
    assert parse_message("  a\x00b\x1b\n\tc  ") == "ab\n\tc"
    assert len(parse_message("x" * MAX_MESSAGE_CHARS)) == MAX_MESSAGE_CHARS
    with pytest.raises(InvalidInput, match="8000"):
        parse_message("x" * (MAX_MESSAGE_CHARS + 1))
    for empty in ("", " \n", "\x00\x07", None, 5):
        with pytest.raises(InvalidInput):
            parse_message(empty)


def test_titles_and_model_names() -> None:
    assert parse_title("Ventas\x00 de\n octubre") == "Ventas de octubre"
    assert title_from("¿Cuál es mi factura más grande sin pagar? " * 3).endswith("…")
    assert len(title_from("palabra " * 30)) <= 61
    assert parse_model_name(" gpt-5.1-mini ") == "gpt-5.1-mini"
    for bad in ("", "a b", "ñandú", "x" * 101, "m\x00"):
        with pytest.raises(InvalidInput):
            parse_model_name(bad)
    assert parse_model_name("x" * 100)


def test_the_session_is_the_tokens_sid_or_one_per_user() -> None:
    assert session_of(Actor("t", "u", Role.OWNER, session_id="sid-1")) == "sid-1"
    assert session_of(Actor("t", "u", Role.OWNER)) == "user:u"


def _turns(draw: st.DrawFn) -> list[Turn]:
    turns: list[Turn] = []
    for n in range(draw(st.integers(1, 12))):
        turns.append(Turn(role="user", text="q" * draw(st.integers(1, 400))))
        for r in range(draw(st.integers(0, 3))):
            calls = tuple(ToolCall(f"c{n}-{r}-{k}", "t", "{}") for k in range(draw(st.integers(1, 3))))
            turns.append(Turn(role="assistant", tool_calls=calls))
            turns.extend(Turn(role="tool", text="r" * draw(st.integers(1, 600)), tool_call_id=c.id) for c in calls)
        if draw(st.booleans()):
            turns.append(Turn(role="assistant", text="a" * draw(st.integers(1, 300))))
    return turns


@settings(deadline=None)  # no timing in tests: on a loaded machine an example can take 200 ms
@given(st.composite(_turns)(), st.integers(0, 3000))
def test_trimming_never_separates_a_call_from_its_result(turns: list[Turn], budget: int) -> None:
    kept = trim(turns, budget)
    assert kept and kept[0].role == "user"
    last_user = max(i for i, t in enumerate(turns) if t.role == "user")
    assert kept[-(len(turns) - last_user):] == turns[last_user:]  # the question and its rounds are always kept
    asked = {c.id for t in kept for c in t.tool_calls}
    answered = {t.tool_call_id for t in kept if t.role == "tool"}
    assert asked == answered
    dropped = len(kept) < len(turns)
    if dropped and len(kept) > len(turns) - last_user:
        assert sum(estimate_tokens(t) for t in kept) <= max(budget, sum(estimate_tokens(t) for t in turns[last_user:]))
    assert kept == turns[len(turns) - len(kept):]  # a suffix of the conversation


def test_tokens_carry_a_login_session() -> None:
    from adapters.auth.jwt import HmacJwtVerifier

    issuer = HmacJwtVerifier("s" * 40)
    given_sid = issuer.verify(issuer.issue(tenant="acme", subject="u", role="owner", ttl_seconds=60, session="sess-7"))
    assert given_sid.session_id == "sess-7"
    first, second = (issuer.verify(issuer.issue(tenant="acme", subject="u", role="owner", ttl_seconds=60)) for _ in range(2))
    assert first.session_id and second.session_id and first.session_id != second.session_id


def test_the_token_estimate_of_each_kind_of_piece_at_its_edges() -> None:
    assert text_tokens("") == 0
    assert text_tokens("abc") == 1 and text_tokens("abcd") == 2 and text_tokens("abcdef") == 2 and text_tokens("abcdefg") == 3
    assert text_tokens("añ") == 1 and text_tokens("año") == 2  # UTF-8 bytes: ñ is two
    assert text_tokens("2026") == 4  # a digit each
    assert text_tokens(" ") == 0 and text_tokens("a b") == 2 and text_tokens("  ") == 1
    assert text_tokens(" " * 8) == 1 and text_tokens(" " * 9) == 2 and text_tokens("\n") == 1
    assert text_tokens('{"a":1}') == 7 and text_tokens("🙂") == 4  # a symbol costs its bytes
    assert text_tokens("¿cuál es mi factura más grande sin pagar?") == 17
    assert text_tokens("m²") == 1 and text_tokens("²abcdef") == 3  # ² is a letter-like \w, not a \d
    assert text_tokens("snake_case") == 2 + 1 + 2  # an underscore is a symbol


def _tokens_piece_by_piece(text: str) -> int:
    """The estimate's rule spelled out one piece at a time, as the tokenizers' pre-tokenizers cut."""
    import re

    tokens = 0
    for match in re.finditer(r"(?P<letters>[^\W\d_]+)|(?P<digit>\d)|(?P<space>\s+)|(?P<other>[^\w\s]+|_+)", text):
        kind, piece = match.lastgroup, match.group()
        if kind == "letters":
            tokens += (len(piece.encode()) + 2) // 3
        elif kind == "digit":
            tokens += 1
        elif kind == "space":
            tokens += 0 if piece == " " else (len(piece) + 7) // 8
        else:
            tokens += len(piece.encode())
    return tokens


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)
       | st.text(alphabet=' _-"{}:,.0123456789abcñÑé²٣\n\t🙂', max_size=80))
def test_the_estimate_is_the_piece_by_piece_rule_on_any_text(text: str) -> None:
    assert text_tokens(text) == _tokens_piece_by_piece(text)


def test_a_turns_estimate_counts_its_calls_results_reasoning_and_images() -> None:
    assert estimate_tokens(Turn(role="user", text="abc")) == PER_TURN + 1
    call = ToolCall("c1", "list_invoices", '{"limit":1}')
    asked = Turn(role="assistant", tool_calls=(call,), reasoning="abc")
    assert estimate_tokens(asked) == PER_TURN + PER_TURN + text_tokens("c1") + text_tokens("list_invoices") + text_tokens('{"limit":1}') + 1
    assert estimate_tokens(Turn(role="tool", text="abc", tool_call_id="c1")) == PER_TURN + 1 + text_tokens("c1")
    picture = ImagePart(mime="image/png", data=b"x")
    assert estimate_tokens(Turn(role="user", text="abc", images=(picture, picture))) == PER_TURN + 1 + 2 * PER_IMAGE


def _conversation() -> list[Turn]:
    call = ToolCall("c1", "list_invoices", "{}")
    return [
        Turn(role="user", text="abc" * 10),
        Turn(role="assistant", text="def" * 10),
        Turn(role="user", text="ghi" * 10),
        Turn(role="assistant", tool_calls=(call,)),
        Turn(role="tool", text="jkl" * 100, tool_call_id="c1"),
        Turn(role="assistant", text="mno" * 10),
        Turn(role="user", text="pqr" * 10),
    ]


def test_trimming_at_exactly_the_budget_keeps_all_and_one_token_less_drops_the_oldest_exchange() -> None:
    turns = _conversation()
    total = sum(estimate_tokens(t) for t in turns)
    assert trim(turns, total) == turns
    assert trim(turns, total - 1) == turns[2:]  # the first question and its answer go together
    without_first = sum(estimate_tokens(t) for t in turns[2:])
    assert trim(turns, without_first) == turns[2:]
    assert trim(turns, without_first - 1) == turns[6:]  # the call can't stay without its result: only the question


def test_a_tool_result_never_stays_without_its_call() -> None:
    turns = _conversation()
    tail = sum(estimate_tokens(t) for t in turns[4:])  # fits the result and what follows, not the call with it
    kept = trim(turns, tail)
    assert kept == turns[6:]
    assert trim(turns, tail + estimate_tokens(turns[3])) == turns[6:]  # the call and result fit, but no user turn before them
    assert trim(turns, tail + estimate_tokens(turns[3]) + estimate_tokens(turns[2])) == turns[2:]


def test_each_turn_is_estimated_once_per_turn_of_the_worker() -> None:
    turns = _conversation()
    cost = costs_once()
    assert [cost(t) for t in turns] == [estimate_tokens(t) for t in turns]
    assert trim(turns, 10**6, cost) == turns


def _said() -> Any:
    """A new chat's ``said(role, **message)``: a message added to it."""
    from datetime import UTC, datetime

    from domain.chats.model import Chat, ChatMessage

    now = datetime(2026, 11, 24, 15, tzinfo=UTC)
    chat = Chat.start(tenant_id="t1", user_id="u1", session_id="s1", first_message="hola", now=now)
    return lambda role, **kw: ChatMessage.new(chat, role, now=now, **kw)


def test_stored_messages_become_the_turns_the_model_gets() -> None:
    from application.chats.history import calls_json, result_json, turns_of

    said = _said()
    call, other = ToolCall("c1", "list_invoices", '{"limit":1}'), ToolCall("c2", "client_balance", "{}")
    messages = [
        said(MessageRole.USER, text="¿cuánto me deben?", attachments=["f1", "f2"]),
        said(MessageRole.ASSISTANT, text="Busco.", tool_calls=calls_json([call, other])),
        said(MessageRole.TOOL, tool_results=[result_json(call, '{"invoices":[]}', False), result_json(other, "no such client", True)]),
        said(MessageRole.ASSISTANT, text="Nada pendiente."),
        said(MessageRole.USER, text="gracias"),
        said(MessageRole.ASSISTANT, text="", status=MessageStatus.PENDING),  # still being answered: left out
    ]
    assert turns_of(messages) == [
        Turn(role="user", text="¿cuánto me deben?\n\n[attached file ids: f1, f2]"),
        Turn(role="assistant", text="Busco.", tool_calls=(call, other)),
        Turn(role="tool", text='{"invoices":[]}', tool_call_id="c1", tool_error=False),
        Turn(role="tool", text="no such client", tool_call_id="c2", tool_error=True),
        Turn(role="assistant", text="Nada pendiente."),
        Turn(role="user", text="gracias"),
    ]


def test_a_failed_answer_and_calls_left_half_answered_are_not_sent_again() -> None:
    from application.chats.history import calls_json, result_json, turns_of

    said = _said()
    call, other = ToolCall("c1", "list_invoices", "{}"), ToolCall("c2", "list_quotes", "{}")
    failed = said(MessageRole.ASSISTANT, text="")
    failed.fail("PROVIDER_ERROR", "refused")
    messages = [
        said(MessageRole.USER, text="uno"),
        said(MessageRole.ASSISTANT, text="", tool_calls=calls_json([call, other])),
        said(MessageRole.TOOL, tool_results=[result_json(call, "[]", False)]),  # c2 never answered
        failed,
        said(MessageRole.USER, text="dos"),
    ]
    assert turns_of(messages) == [Turn(role="user", text="uno"), Turn(role="user", text="dos")]
