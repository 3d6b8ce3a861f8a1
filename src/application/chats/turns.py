"""A model turn, run by the worker: the conversation and the user's attachments go to the tenant's
model; its tool calls run (at most ``max_tool_rounds`` rounds) over the tenant's records; text
deltas and tool progress are relayed to the stream; the answer, the tool calls and their results,
usage and latency are stored whether anyone is still listening or not."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from application.chats.commands import ChatPolicy, RunChatTurn
from application.chats.handlers import check_budget
from application.chats.history import SYSTEM_PROMPT, calls_json, costs_once, result_json, trim, turns_of
from application.chats.ports import (
    ChatsUnitOfWork,
    ImagePart,
    ModelError,
    ModelRequest,
    PdfText,
    ToolCall,
    Turn,
    TurnEvents,
)
from application.chats.settings import ProviderChoice
from application.chats.tools import ToolContext, run_tool, tool_specs
from application.files.keeping import blob_key
from application.files.ports import FileStorage
from application.shared.modules import Messages
from application.shared.ports import Clock
from domain.chats.attachments import MAX_EXTRACTED_CHARS, PDF, check_file_for_chat, check_pages, is_image_file
from domain.chats.errors import (
    AttachmentRefused,
    ProviderBalanceExhausted,
    ProviderSettingsInvalid,
    ProviderUnavailable,
    ToolLoopExceeded,
)
from domain.chats.model import ChatMessage, MessageRole, MessageStatus, Provider
from domain.invoicing.values import business_date
from domain.shared.errors import DomainError
from domain.tenancy.model import Actor, Role

log = structlog.get_logger(__name__)


@dataclass
class _Progress:
    rounds: list[tuple[Turn, list[tuple[ToolCall, str, bool]]]] = field(default_factory=list)
    text: str = ""
    tokens_in: int = 0
    tokens_out: int = 0


class _Failed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _failure(error: ModelError, provider: Provider) -> _Failed:
    if error.kind == "auth":
        return _Failed(ProviderSettingsInvalid.code, f"{provider} refused the API key: an owner or admin configures the chat provider again")
    if error.kind == "balance":
        return _Failed(ProviderBalanceExhausted.code, f"{provider}: provider balance exhausted")
    if error.kind in ("rate_limited", "unavailable", "timeout"):
        return _Failed(ProviderUnavailable.code, f"{provider} is unavailable ({error.message[:200]}); try again in a moment")
    return _Failed("PROVIDER_ERROR", f"{provider} refused the request: {error.message[:300]}")


class RunChatTurnHandler:
    def __init__(
        self,
        clock: Clock,
        policy: ChatPolicy,
        choice: ProviderChoice,
        messages: Messages,
        events: TurnEvents,
        storage: FileStorage,
        pdf_text: PdfText,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._policy = policy
        self._choice = choice
        self._messages = messages
        self._events = events
        self._storage = storage
        self._pdf_text = pdf_text
        self._monotonic = monotonic

    def __call__(self, cmd: RunChatTurn, uow: ChatsUnitOfWork) -> str | None:
        started = self._monotonic()
        turn_id = cmd.message_id
        with uow:
            found = uow.chats.conversation(turn_id)
            if found is None or MessageStatus(found[1][-1].status) is not MessageStatus.PENDING:
                return None  # answered already (a job run twice), or deleted with its chat
            chat, history = found
            message = history[-1]
            turns = turns_of(history)
            actor = Actor(tenant_id=chat.tenant_id, user_id=chat.user_id, role=Role.MEMBER, session_id=chat.session_id)
            refused: _Failed | None = None
            try:
                resolved = self._choice.resolve(uow)
                check_budget(uow, self._policy, self._clock.now())
                extra_text, images = self._attachments(uow, message, resolved.provider)
            except DomainError as error:
                refused = _Failed(error.code, error.message)
        if refused is not None:
            return self._finish(uow, turn_id, _Progress(), None, refused, started)
        if extra_text or images:
            last = turns[-1]
            turns[-1] = Turn(role="user", text=last.text + extra_text, images=images)
        progress = _Progress()
        context = ToolContext(actor=actor, messages=self._messages, today=business_date(self._clock.now()))
        try:
            self._loop(resolved, turns, context, progress, turn_id, started)
        except _Failed as failed:
            if failed.code == ProviderSettingsInvalid.code and resolved.settings is not None:
                self._mark_invalid(uow, failed.message)
            return self._finish(uow, turn_id, progress, resolved, failed, started)
        return self._finish(uow, turn_id, progress, resolved, None, started)

    # --- the model and its tools ---

    def _loop(self, resolved: Any, turns: list[Turn], context: ToolContext, progress: _Progress, turn_id: str, started: float) -> None:
        system = SYSTEM_PROMPT.format(today=context.today.isoformat())
        specs = tool_specs()
        cost = costs_once()
        rounds = 0
        while True:
            left = self._policy.turn_seconds - (self._monotonic() - started)
            if left <= 0:
                raise _Failed("TURN_DEADLINE", f"the answer took longer than {self._policy.turn_seconds:.0f} s and was stopped")
            request = ModelRequest(
                model=resolved.model_name, system=system, turns=tuple(trim(turns, self._policy.history_tokens, cost)),
                tools=specs, max_tokens=self._policy.max_answer_tokens, timeout=left,
            )
            try:
                reply = resolved.model.complete(request, on_text=lambda delta: self._events.publish(turn_id, {"type": "delta", "text": delta}))
            except ModelError as error:
                raise _failure(error, resolved.provider) from None
            progress.tokens_in += reply.tokens_in
            progress.tokens_out += reply.tokens_out
            if not reply.tool_calls:
                progress.text = reply.text
                return
            rounds += 1
            if rounds > self._policy.max_tool_rounds:
                raise _Failed(ToolLoopExceeded.code, f"the assistant asked for tools more than {self._policy.max_tool_rounds} times for one message and was stopped")
            asked = Turn(role="assistant", text=reply.text, tool_calls=reply.tool_calls, reasoning=reply.reasoning)
            results: list[tuple[ToolCall, str, bool]] = []
            for call in reply.tool_calls:
                self._events.publish(turn_id, {"type": "tool_started", "id": call.id, "name": call.name})
                content, is_error = run_tool(context, call.name, call.arguments)
                results.append((call, content, is_error))
                self._events.publish(turn_id, {"type": "tool_finished", "id": call.id, "name": call.name, "error": is_error})
            progress.rounds.append((asked, results))
            turns.append(asked)
            turns.extend(Turn(role="tool", text=c, tool_call_id=call.id, tool_error=e) for call, c, e in results)

    def _attachments(self, uow: ChatsUnitOfWork, message: ChatMessage, provider: Provider) -> tuple[str, tuple[ImagePart, ...]]:
        """The current message's files: text-based ones as text (inside markers: data, not
        instructions), images as images; checked again on the sniffed type."""
        texts: list[str] = []
        images: list[ImagePart] = []
        for file_id in message.attachments or ():
            file = uow.file_views.get(file_id)
            if file is None:
                raise AttachmentRefused(f"file {file_id} is no longer stored", field="attachmentIds")
            check_file_for_chat(name=file.name, mime=file.mime, size=file.size, provider=provider)
            data = b"".join(self._storage.read(blob_key(message.tenant_id, file.sha256)))
            if is_image_file(file.mime):
                images.append(ImagePart(mime=file.mime.split(";")[0], data=data))
                continue
            if file.mime.startswith(PDF):
                try:
                    text, pages = self._pdf_text.extract(data)
                except ValueError:
                    raise AttachmentRefused(f"{file.name} is not a readable PDF", field="attachmentIds") from None
                check_pages(file.name, pages)
                if not text.strip():
                    raise AttachmentRefused(f"{file.name} has no text layer (a scan): the assistant cannot read it", field="attachmentIds")
            else:
                text = data.decode("utf-8", errors="replace")
            texts.append(
                f"\n\n<document name={file.name!r} file_id={file.id}>\n{text[:MAX_EXTRACTED_CHARS]}\n</document>"
                + ("\n(the document was cut)" if len(text) > MAX_EXTRACTED_CHARS else "")
            )
        return "".join(texts), tuple(images)

    # --- storing the outcome ---

    def _mark_invalid(self, uow: ChatsUnitOfWork, reason: str) -> None:
        with uow:
            settings = uow.chat_settings.get()
            if settings is not None:
                settings.mark_invalid(reason, now=self._clock.now())
                uow.commit()

    def _finish(self, uow: ChatsUnitOfWork, turn_id: str, progress: _Progress, resolved: Any, failed: _Failed | None, started: float) -> str | None:
        now = self._clock.now()
        latency = int((self._monotonic() - started) * 1000)
        with uow:
            found = uow.chats.with_chat(turn_id, for_update=True)
            if found is None or MessageStatus(found[1].status) is not MessageStatus.PENDING:
                return None
            chat, message = found
            provider = None if resolved is None else str(resolved.provider)
            model = None if resolved is None else resolved.model_name
            for asked, results in progress.rounds:
                calls = ChatMessage.new(chat, MessageRole.ASSISTANT, now=now, text=asked.text, tool_calls=calls_json(asked.tool_calls))
                calls.reasoning, calls.provider, calls.model = asked.reasoning, provider, model
                uow.chats.add_message(calls)
                uow.chats.add_message(ChatMessage.new(
                    chat, MessageRole.TOOL, now=now, tool_results=[result_json(c, content, err) for c, content, err in results]
                ))
            answer = ChatMessage.new(chat, MessageRole.ASSISTANT, now=now, text=progress.text)
            answer.provider, answer.model = provider, model
            answer.tokens_in, answer.tokens_out, answer.latency_ms = progress.tokens_in, progress.tokens_out, latency
            if failed is None:
                message.status = MessageStatus.COMPLETE
            else:
                answer.fail(failed.code, failed.message)
                message.fail(failed.code, failed.message)
            uow.chats.add_message(answer)
            if chat.provider is None and provider is not None:
                chat.provider, chat.model = provider, model
            chat.pending_message_id = None
            # Not waiting for the disk (~4 ms a turn): turns run as jobs, and the job's durable
            # completion flushes this first; lost in a crash, the message is still PENDING and the
            # job runs the turn again.
            uow.commit(durable=False)
        usage = {"input": progress.tokens_in, "output": progress.tokens_out}
        if failed is None:
            self._events.publish(turn_id, {"type": "done", "message_id": answer.id, "usage": usage})
        else:
            log.info("chats.turn_failed", code=failed.code, chat_id=chat.id)
            self._events.publish(turn_id, {"type": "error", "message_id": answer.id, "code": failed.code, "message": failed.message, "usage": usage})
        return answer.id
