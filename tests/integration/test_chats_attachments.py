"""Attachments: judged by the sniffed type, sent as text (PDF text layer, CSV) or as images, refused
with the reason otherwise; and ``ExtractDocumentFields``, the request other domains send."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest

from application.chats.extraction import ExtractDocumentFields, ExtractionUnavailable
from tests.integration.api import add_file
from tests.integration.chats_documents import PNG, text_pdf
from tests.integration.chats_support import Chats, chats_factory, last_user  # noqa: F401
from tests.providers.llm import Said, Step
from tests.providers.server import Reply, provider_server  # noqa: F401 - fixture

INVOICE_PDF = text_pdf("FACTURA 001-2026", "Proveedor: Papeleria Central", "RUC 155-1-2026 DV 12", "Total 107.00 USD")


def describe(conversation: list[Said]) -> Step:
    said = [s for s in conversation if s.role == "user"][-1]
    return Step(text=f"images={said.images} text={said.text!r}")


def _file(chats: Chats, content: bytes, filename: str, slug: str = "acme") -> str:
    return str(add_file(chats.service, chats.service.headers(slug), content, filename=filename)["id"])


def test_a_pdf_is_read_through_its_text_layer_as_data(chats_factory: Any) -> None:
    chats = chats_factory(describe)
    chats.configure("DEEPSEEK")
    pdf = _file(chats, INVOICE_PDF, "proveedor.pdf")
    _, messages = chats.ask("¿Qué es este documento?", attachments=[pdf])
    seen = last_user(chats.llm.seen[-1])
    assert "<document name='proveedor.pdf'" in seen and "Total 107.00 USD" in seen and "</document>" in seen
    assert messages[0]["attachments"] == [pdf]
    assert messages[-1]["status"] == "COMPLETE"


def test_csv_goes_as_text_and_an_image_as_an_image(chats_factory: Any) -> None:
    chats = chats_factory(describe)
    chats.configure("OPENAI")
    csv = _file(chats, "fecha,monto\n2026-10-01,107.00\n".encode(), "banco.csv")
    png = _file(chats, PNG, "foto.png")
    _, messages = chats.ask("Mira", attachments=[csv, png])
    assert "2026-10-01,107.00" in messages[-1]["text"] and messages[-1]["text"].startswith("images=1")


def test_images_are_refused_for_deepseek_with_the_reason(chats_factory: Any) -> None:
    chats = chats_factory(describe)
    chats.configure("DEEPSEEK")
    refused = chats.send("Mira", attachments=[_file(chats, PNG, "foto.png")])
    assert refused["error"]["code"] == "ATTACHMENT_REFUSED" and "DeepSeek takes text only" in refused["error"]["message"]


def test_the_sniffed_type_decides_not_the_name(chats_factory: Any) -> None:
    chats = chats_factory(describe)
    chats.configure("OPENAI")
    disguised = _file(chats, b"PK\x03\x04" + b"\x00" * 200, "factura.pdf")  # a zip named .pdf
    refused = chats.send("Mira", attachments=[disguised])
    assert refused["error"]["code"] == "ATTACHMENT_REFUSED" and refused["error"]["field"] == "attachmentIds"
    assert "factura.pdf" in refused["error"]["message"]


def test_another_tenants_file_and_too_many_attachments_are_refused(chats_factory: Any) -> None:
    chats = chats_factory(describe)
    chats.configure("OPENAI")
    theirs = _file(chats, INVOICE_PDF, "suya.pdf", slug="otro")
    assert chats.send("Mira", attachments=[theirs])["error"]["code"] == "NOT_FOUND"
    ids = [_file(chats, f"linea {n}\n".encode(), f"n{n}.txt") for n in range(6)]
    assert chats.send("Mira", attachments=ids[:5])["error"] is None
    chats.jobs()
    assert chats.send("Mira", attachments=ids)["error"]["field"] == "attachmentIds"


def test_a_scanned_pdf_without_text_fails_the_turn_with_the_reason(chats_factory: Any) -> None:
    chats = chats_factory(describe)
    chats.configure("OPENAI")
    _, messages = chats.ask("Mira", attachments=[_file(chats, text_pdf(), "scan.pdf")])
    assert messages[-1]["errorCode"] == "ATTACHMENT_REFUSED" and "no text layer" in messages[-1]["errorMessage"]
    assert chats.llm.server.requests == []


def test_a_pdf_over_the_page_limit_is_refused(chats_factory: Any) -> None:
    chats = chats_factory(describe)
    chats.configure("OPENAI")
    _, messages = chats.ask("Mira", attachments=[_file(chats, text_pdf("x", pages=51), "largo.pdf")])
    assert messages[-1]["errorCode"] == "ATTACHMENT_REFUSED" and "51 pages" in messages[-1]["errorMessage"]
    _, messages = chats.ask("Mira", attachments=[_file(chats, text_pdf("y", pages=50), "justo.pdf")])
    assert messages[-1]["status"] == "COMPLETE"


# --- ExtractDocumentFields ------------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {"supplier": {"type": "string"}, "ruc": {"type": "string"}, "total": {"type": "string"}},
    "required": ["supplier", "ruc", "total"],
    "additionalProperties": False,
}
FIELDS = {"supplier": "Papeleria Central", "ruc": "155-1-2026", "total": "107.00"}


def _extract(chats: Chats, file_id: str) -> Any:
    command = ExtractDocumentFields(actor=None, file_id=UUID(file_id), json_schema=SCHEMA, instructions="Read the supplier invoice.")
    return chats.service.container.bus().handle(command, tenant_id=chats.tenant_id)


@pytest.mark.parametrize("provider", ["OPENAI", "DEEPSEEK", "ANTHROPIC"])
def test_extraction_fills_the_schema_with_the_tenants_provider(chats_factory: Any, provider: str) -> None:
    def reader(conversation: list[Said]) -> Step:
        assert "Total 107.00 USD" in conversation[-1].text
        return Step(text=json.dumps(FIELDS))

    chats = chats_factory(reader)
    chats.configure(provider)
    if provider == "ANTHROPIC":  # a forced tool carries the answer
        chats.llm.server.route("POST", r"/v1/messages", lambda req: Reply.json({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "stop_reason": "tool_use", "stop_sequence": None,
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "document", "input": FIELDS}],
            "usage": {"input_tokens": 50, "output_tokens": 20}}))
    extracted = _extract(chats, _file(chats, INVOICE_PDF, "proveedor.pdf"))
    assert extracted.data == FIELDS and extracted.provider == provider and extracted.usage["input"] > 0


def test_extraction_is_unavailable_with_a_clear_reason(chats_factory: Any) -> None:
    chats = chats_factory(lambda conversation: Step(text=json.dumps({"supplier": "X"})))
    pdf = _file(chats, INVOICE_PDF, "proveedor.pdf")
    with pytest.raises(ExtractionUnavailable, match="no AI provider is configured"):
        _extract(chats, pdf)
    chats.configure("OPENAI")
    with pytest.raises(ExtractionUnavailable, match="does not fit the schema"):
        _extract(chats, pdf)
    chats.llm.faults.append(Reply.json({"error": {"message": "Incorrect API key"}}, status=401))
    with pytest.raises(ExtractionUnavailable, match="OPENAI failed \\(auth\\)"):
        _extract(chats, pdf)
    with pytest.raises(ExtractionUnavailable, match="not stored for this tenant"):
        _extract(chats, _file(chats, INVOICE_PDF + b" ", "otro.pdf", slug="otro"))


@pytest.mark.parametrize("provider", ["OPENAI", "ANTHROPIC", "DEEPSEEK"])
def test_a_scanned_pdf_goes_as_the_file_to_providers_that_read_pdfs(chats_factory: Any, provider: str) -> None:
    chats = chats_factory(lambda conversation: Step(text=json.dumps(FIELDS)))
    chats.configure(provider)
    chats.llm.server.route("POST", r"/v1/messages", lambda req: Reply.json({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "stop_reason": "tool_use", "stop_sequence": None,
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "document", "input": FIELDS}],
        "usage": {"input_tokens": 50, "output_tokens": 20}}))
    scan = _file(chats, text_pdf(), "escaneo.pdf")
    if provider == "DEEPSEEK":
        with pytest.raises(ExtractionUnavailable, match="no text layer .* reads text only"):
            _extract(chats, scan)
        return
    assert _extract(chats, scan).data == FIELDS
    content = chats.llm.server.requests[-1].json()["messages"][-1]["content"]
    if provider == "OPENAI":
        assert content[1]["type"] == "file" and content[1]["file"]["file_data"].startswith("data:application/pdf;base64,")
    else:
        assert content[0]["type"] == "document" and content[0]["source"]["media_type"] == "application/pdf"
