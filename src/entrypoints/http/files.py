"""The local storage's own signed routes: download a blob, or upload one directly.

With S3/Spaces storage the signed URLs point at the bucket and these routes are not used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, request, send_file

from adapters.storage.disposition import content_disposition
from adapters.storage.local import LocalFileStorage
from adapters.storage.signing import SignedUrlExpired, SignedUrlInvalid
from entrypoints.http.errors import json_error
from entrypoints.http.services import services

blueprint = Blueprint("files", __name__)
G = TypeVar("G")

CHUNK = 1 << 20


def _local_storage() -> LocalFileStorage | None:
    storage = services().storage()
    return storage if isinstance(storage, LocalFileStorage) else None


def _verified(verify: Callable[[str], G], token: str) -> G | Response:
    """The grant a signed link carries, or the response that says why it is refused."""
    try:
        return verify(token)
    except SignedUrlExpired as expired:
        return json_error(410, "LINK_EXPIRED", str(expired))
    except SignedUrlInvalid as invalid:
        return json_error(403, "LINK_INVALID", str(invalid))


@blueprint.get("/files/download/<token>")
def download(token: str) -> Any:
    storage = _local_storage()
    if storage is None:
        return json_error(404, "NOT_FOUND", "downloads are served by the object storage")
    grant = _verified(storage.verify_download, token)
    if isinstance(grant, Response):
        return grant
    path = storage.path_of(grant.key)
    if not path.is_file():
        return json_error(404, "NOT_FOUND", "the file no longer exists")
    response: Response = send_file(path, mimetype=grant.mime, conditional=True, max_age=0)
    response.headers["Content-Disposition"] = content_disposition(grant.filename, inline=grant.inline)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.put("/files/upload/<token>")
def upload(token: str) -> Any:
    storage = _local_storage()
    if storage is None:
        return json_error(404, "NOT_FOUND", "uploads go straight to the object storage")
    grant = _verified(storage.verify_upload, token)
    if isinstance(grant, Response):
        return grant
    if request.content_length is None:
        return json_error(411, "LENGTH_REQUIRED", "send a Content-Length header")
    if request.content_length != grant.size:
        return json_error(
            400, "SIZE_MISMATCH",
            f"Content-Length is {request.content_length}, the upload was declared as {grant.size} bytes",
        )
    if request.mimetype != grant.mime:
        return json_error(
            400, "TYPE_MISMATCH", f"Content-Type is {request.mimetype!r}, declared {grant.mime!r}"
        )
    writer = storage.open_staging_at(grant.ref)
    received = 0
    try:
        while chunk := request.stream.read(CHUNK):
            received += len(chunk)
            if received > grant.size:
                break
            writer.write(chunk)
    except BaseException:
        writer.close()
        storage.discard_staged(grant.ref)
        raise
    writer.close()
    if received != grant.size:
        storage.discard_staged(grant.ref)
        return json_error(400, "SIZE_MISMATCH", f"received {received} bytes, declared {grant.size}")
    return Response(status=204)
