"""``PyHankoDocumentSealer``: stamps, a completion certificate page and a PAdES signature, with pyHanko.

The sealed PDF is an incremental update of the signed document: its first bytes are the
original file unchanged (whose SHA-256 the certificate page states), followed by one revision
that draws the signature stamps where the template placed the element of id ``istmo-signature``
(the foot of the last page when it has none), appends the certificate page(s), and carries
the PAdES (ETSI.CAdES.detached) signature over the whole file, with an RFC 3161 timestamp when
a TSA is configured. That revision writes in Helvetica, not embedded: a document that claimed
PDF/A (an invoice, a quote), PDF/UA or PDF/X in its XMP metadata no longer does once sealed
(its first revision, the document as signed, still says so, and still is). Verification is
pyHanko's: the signature must be cryptographically valid, cover the entire file, and (to be
"trusted") chain to this instance's certificate.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from asn1crypto import keys as asn1_keys
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.images import pil_image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from adapters.signing.certificate import SealingIdentity
from application.signatures.ports import CompletionCertificate, SealCheck, Stamp
from domain.signatures.errors import SealingNotConfigured

FIELD = "IstmoSeal"
T = TypeVar("T")
_A4 = (595.0, 842.0)
_STAMP_W, _STAMP_H, _MARGIN = 150.0, 55.0, 36.0
# XMP schemas that identify a conformance level (PDF/A, PDF/UA, PDF/X) the sealed revision breaks.
_CONFORMANCE_SCHEMAS = (
    b"http://www.aiim.org/pdfa/ns/id/",
    b"http://www.aiim.org/pdfua/ns/id/",
    b"http://www.npes.org/pdfx/ns/id/",
)


def _text(value: str) -> bytes:
    """A PDF string literal in WinAnsi (Helvetica's encoding); what it cannot show becomes ?."""
    raw = value.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _wrap(line: str, width: int = 95) -> list[str]:
    out = []
    while len(line) > width:
        out.append(line[:width])
        line = "    " + line[width:]
    out.append(line)
    return out


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class PyHankoDocumentSealer:
    def __init__(self, identity: SealingIdentity, *, tsa_url: str | None = None,
                 timestamper: timestamps.TimeStamper | None = None, timeout: float = 15.0) -> None:
        self._identity = identity
        cert = asn1_x509.Certificate.load(_der(identity.cert_pem))
        self._cert = cert
        self._signer = signers.SimpleSigner(
            signing_cert=cert,
            signing_key=_private_key(identity),
            cert_registry=SimpleCertificateStore.from_certs([cert]),
        )
        if timestamper is None and tsa_url:
            timestamper = timestamps.HTTPTimeStamper(tsa_url, timeout=int(timeout))
        self._timestamper = timestamper

    def __repr__(self) -> str:
        return f"PyHankoDocumentSealer(certificate={self._cert.subject.human_friendly!r})"

    # --- sealing -----------------------------------------------------------------------------

    def seal(self, pdf: bytes, stamps: Sequence[Stamp], certificate: CompletionCertificate) -> bytes:
        return _outside_event_loop(self._seal, pdf, stamps, certificate)

    def _seal(self, pdf: bytes, stamps: Sequence[Stamp], certificate: CompletionCertificate) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        self._stamp(writer, stamps)
        self._certificate_pages(writer, certificate)
        _withdraw_conformance_claim(writer)
        metadata = signers.PdfSignatureMetadata(
            field_name=FIELD, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
            reason="Documento firmado y sellado por Istmo", name=self._cert.subject.human_friendly,
        )
        out = io.BytesIO()
        signers.PdfSigner(metadata, signer=self._signer, timestamper=self._timestamper).sign_pdf(writer, output=out)
        return out.getvalue()

    def _stamp(self, writer: IncrementalPdfFileWriter, stamps: Sequence[Stamp]) -> None:
        if not stamps:
            return
        anchor = _signature_anchor(writer)
        page_index = anchor[0] if anchor else -1
        page_ref, _ = writer.find_page_for_modification(page_index)
        box = page_ref.get_object().get("/MediaBox") or generic.ArrayObject(map(generic.FloatObject, (0, 0, *_A4)))
        left, bottom, right = float(box[0]), float(box[1]), float(box[2])
        xobjects = generic.DictionaryObject()
        fonts = generic.DictionaryObject({pdf_name("/IstmoF1"): _helvetica(writer)})
        ops = [b"Q q"]  # close the page's own graphics state (opened by the q prepended below)
        per_row = max(1, int((right - (anchor[1] if anchor else left) - _MARGIN) // (_STAMP_W + 10)))
        for index, stamp in enumerate(stamps):
            column, row = index % per_row, index // per_row
            if anchor:  # where the template asks: rows down from the element's top left corner
                x = anchor[1] + column * (_STAMP_W + 10)
                y = anchor[2] - (row + 1) * (_STAMP_H + 22)
            else:  # the default: the foot of the last page, from the right
                x = right - _MARGIN - (column + 1) * _STAMP_W - column * 10
                y = bottom + _MARGIN + row * (_STAMP_H + 22)
            if stamp.image is not None:
                image = Image.open(io.BytesIO(stamp.image))
                image.load()
                if image.mode not in ("RGB", "L"):
                    background = Image.new("RGB", image.size, (255, 255, 255))
                    background.paste(image, mask=image.convert("RGBA").getchannel("A"))
                    image = background
                name = f"/IstmoSig{index}"
                xobjects[pdf_name(name)] = pil_image(image, writer)
                scale = min(_STAMP_W / image.width, _STAMP_H / image.height)
                w, h = image.width * scale, image.height * scale
                ops.append(b"q %.2f 0 0 %.2f %.2f %.2f cm %s Do Q" % (w, h, x, y + 12, name.encode()))
            else:
                ops.append(b"BT /IstmoF1 16 Tf %.2f %.2f Td %s Tj ET" % (x, y + 30, _text(stamp.typed_name or "")))
            label = f"{stamp.signer} - {_when(stamp.signed_at)}"
            ops.append(b"0.4 w %.2f %.2f m %.2f %.2f l S" % (x, y + 10, x + _STAMP_W, y + 10))
            ops.append(b"BT /IstmoF1 6 Tf %.2f %.2f Td %s Tj ET" % (x, y + 2, _text(label[:60])))
        ops.append(b"Q")
        resources = generic.DictionaryObject({pdf_name("/Font"): fonts})
        if len(xobjects):
            resources[pdf_name("/XObject")] = xobjects
        page = page_ref.get_object()
        if "/Contents" not in page:  # a blank page: give it an empty content array to add to
            page[pdf_name("/Contents")] = writer.add_object(generic.ArrayObject())
            writer.update_container(page)
        opening = writer.add_object(generic.StreamObject(stream_data=b"q"))
        writer.add_stream_to_page(page_index, opening, prepend=True)
        content = generic.StreamObject(stream_data=b"\n".join(ops))
        writer.add_stream_to_page(page_index, writer.add_object(content), resources=resources)

    def _certificate_pages(self, writer: IncrementalPdfFileWriter, cert: CompletionCertificate) -> None:
        lines: list[tuple[int, str]] = [
            (14, "Certificado de finalizacion / Completion certificate"),
            (9, ""),
            (9, f"Documento / Document: {cert.document_name}"),
            (9, f"SHA-256 antes de sellar / before sealing: {cert.source_sha256}"),
            (9, f"Completado / Completed: {_when(cert.completed_at)}"),
            (9, f"Cadena de auditoria / Audit chain head: entry {cert.chain_seq}, {cert.chain_head}"),
            (9, f"Sellado por / Sealed by: {self._cert.subject.human_friendly}"),
            (9, ""),
        ]
        for number, signer in enumerate(cert.signers, start=1):
            who = signer.name + (f" <{signer.email}>" if signer.email else "")
            lines.append((11, f"Firmante {number} / Signer {number}: {who}"))
            lines.append((9, f"Firmo / Signed: {_when(signer.signed_at)}" + (f"  IP {signer.ip}" if signer.ip else "")))
            for event in signer.events:
                text = f"- {_when(event.at)}  {event.event}  {event.actor}"
                if event.ip:
                    text += f"  IP {event.ip}"
                if event.user_agent:
                    text += f"  UA {event.user_agent}"
                lines.extend((8, part) for part in _wrap(text))
            lines.append((9, ""))
        lines.append((7, ("Este certificado registra eventos; no afirma validez juridica de la firma. "
                          "This certificate records events; it claims no legal status.")))
        font = _helvetica(writer)
        page_lines: list[list[tuple[int, str]]] = [[]]
        y = _A4[1] - 60
        for size, text in lines:
            if y < 50:
                page_lines.append([])
                y = _A4[1] - 60
            page_lines[-1].append((size, text))
            y -= size + 5
        for chunk in page_lines:
            ops, y = [b"BT"], _A4[1] - 60
            for size, text in chunk:
                ops.append(b"/IstmoF1 %d Tf 1 0 0 1 50 %.2f Tm %s Tj" % (size, y, _text(text)))
                y -= size + 5
            ops.append(b"ET")
            page = generic.DictionaryObject({
                pdf_name("/Type"): pdf_name("/Page"),
                pdf_name("/MediaBox"): generic.ArrayObject([generic.NumberObject(0), generic.NumberObject(0),
                                                            generic.FloatObject(_A4[0]), generic.FloatObject(_A4[1])]),
                pdf_name("/Resources"): generic.DictionaryObject({
                    pdf_name("/Font"): generic.DictionaryObject({pdf_name("/IstmoF1"): font}),
                }),
                pdf_name("/Contents"): writer.add_object(generic.StreamObject(stream_data=b"\n".join(ops))),
            })
            writer.insert_page(page)

    # --- verification ------------------------------------------------------------------------

    def verify(self, pdf: bytes) -> SealCheck:
        return _outside_event_loop(self._verify, pdf)

    def _verify(self, pdf: bytes) -> SealCheck:
        try:
            reader = PdfFileReader(io.BytesIO(pdf), strict=False)
            embedded = reader.embedded_signatures
        except Exception as error:  # noqa: BLE001 - any parse failure means "not a sealed PDF we can read"
            return SealCheck(intact=False, trusted=False, problem=f"not a readable PDF: {type(error).__name__}: {error}"[:300])
        if not embedded:
            return SealCheck(intact=False, trusted=False, problem="the PDF carries no signature")
        signature = embedded[-1]
        try:
            status = validate_pdf_signature(
                signature, ValidationContext(trust_roots=[self._cert], allow_fetching=False)
            )
        except (SignatureValidationError, ValueError, KeyError, TypeError) as error:
            return SealCheck(intact=False, trusted=False, problem=f"the signature cannot be validated: {error}"[:300])
        whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        problem = None
        if not (status.intact and status.valid):
            problem = "the signed bytes were changed: the document digest or the signature does not match"
        elif not whole:
            problem = "bytes were added after the seal: the signature does not cover the whole file"
        elif not status.trusted:
            problem = "the seal was not made by this instance's certificate"
        timestamp = status.timestamp_validity
        return SealCheck(
            intact=bool(status.intact and status.valid and whole),
            trusted=bool(status.trusted),
            problem=problem,
            sealed_by=status.signing_cert.subject.human_friendly if status.signing_cert else None,
            sealed_at=status.signer_reported_dt,
            timestamped_at=timestamp.timestamp if timestamp is not None else None,
            details={"field": signature.field_name, "coverage": status.coverage.name if status.coverage else None},
        )

    # --- chain heads -------------------------------------------------------------------------

    def timestamp(self, digest: bytes) -> bytes | None:
        if self._timestamper is None:
            return None
        timestamper = self._timestamper
        token = _outside_event_loop(lambda: asyncio.run(timestamper.async_timestamp(digest, "sha256")))
        return bytes(token.dump())


SIGNATURE_ANCHOR = "istmo-signature"
"""The id a template gives the element where signatures go (``<div id="istmo-signature">``):
WeasyPrint writes every id as a named destination (page, left, top), which the sealer looks up."""


def _signature_anchor(writer: IncrementalPdfFileWriter) -> tuple[int, float, float] | None:
    """The page index and the top left corner of the template's signature place, if it has one."""
    try:
        names = writer.root["/Names"]["/Dests"]["/Names"]
    except KeyError:
        return None
    for position in range(0, len(names) - 1, 2):
        if str(names[position]) != SIGNATURE_ANCHOR:
            continue
        destination = names[position + 1].get_object()
        if isinstance(destination, generic.DictionaryObject):
            destination = destination["/D"]
        page, kind = destination.raw_get(0), str(destination[1])
        if kind != "/XYZ" or len(destination) < 4:
            return None
        for index in range(int(writer.root["/Pages"]["/Count"])):
            ref, _ = writer.find_page_for_modification(index)
            if ref.idnum == getattr(page, "idnum", None):
                return index, float(destination[2] or 0), float(destination[3] or 0)
        return None
    return None


def _withdraw_conformance_claim(writer: IncrementalPdfFileWriter) -> None:
    """The sealed revision's catalog drops XMP metadata that claims a conformance level (the info
    dictionary keeps the title, author and dates; pyHanko updates it)."""
    metadata = writer.root.get("/Metadata")
    if metadata is None:
        return
    stream = metadata.get_object()
    try:
        data = stream.data if isinstance(stream, generic.StreamObject) else b""
    except (PdfError, NotImplementedError, ValueError):  # XMP that cannot be decoded is left as it is
        return
    if any(schema in data for schema in _CONFORMANCE_SCHEMAS):
        del writer.root["/Metadata"]
        writer.update_root()


def _outside_event_loop(function: Callable[..., T], *args: Any) -> T:
    """pyHanko's synchronous calls run their own event loop: inside a running one (an async
    GraphQL resolver) they run on a thread of their own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def _helvetica(writer: IncrementalPdfFileWriter) -> generic.IndirectObject:
    return writer.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Font"),
        pdf_name("/Subtype"): pdf_name("/Type1"),
        pdf_name("/BaseFont"): pdf_name("/Helvetica"),
        pdf_name("/Encoding"): pdf_name("/WinAnsiEncoding"),
    }))


def _der(data: bytes) -> bytes:
    return pem.unarmor(data)[2] if pem.detect(data) else data


def _private_key(identity: SealingIdentity) -> asn1_keys.PrivateKeyInfo:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(identity.key_pem, password=identity.key_password)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return asn1_keys.PrivateKeyInfo.load(der)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class UnconfiguredSealer:
    """Production without ``ISTMO_SIGNING_CERT``/``ISTMO_SIGNING_KEY``: signatures and requests work,
    sealing is refused with ``SEALING_NOT_CONFIGURED`` and no seal verifies."""

    def seal(self, pdf: bytes, stamps: Sequence[Stamp], certificate: CompletionCertificate) -> bytes:
        raise SealingNotConfigured(
            "no sealing certificate is configured (ISTMO_SIGNING_CERT and ISTMO_SIGNING_KEY)", field=None
        )

    def verify(self, pdf: bytes) -> SealCheck:
        return SealCheck(intact=False, trusted=False, problem="this instance has no sealing certificate configured")

    def timestamp(self, digest: bytes) -> bytes | None:
        return None
