"""Blobs in an S3-compatible bucket (DigitalOcean Spaces in production, moto in tests).

Object layout under ``prefix``: ``blobs/{tenant}/{sha[:2]}/{sha}`` for kept blobs and
``staging/{ref}`` for bytes being written or uploaded, the same layout as the local storage.
Links are presigned S3 URLs: clients download from and upload to the bucket directly.

Staging writes keep at most one 8 MiB part in memory: a small object is sent with one
``PutObject`` on ``close()``, anything larger as a multipart upload that is aborted if any step
fails. Incomplete multipart uploads left by a crashed process are not visible as objects; a
bucket lifecycle rule (``AbortIncompleteMultipartUpload``) should reclaim them.

Credentials are handed to boto3 and never kept, logged or shown in ``repr``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from adapters.storage.disposition import content_disposition
from adapters.storage.keys import BLOB_KEY, STAGING_REF, check_staging_ref, split_blob_key
from application.files.ports import StoredBlob, UploadTarget
from application.shared.ports import Clock

CHUNK = 1 << 20
PART_SIZE = 8 << 20
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
MAX_SINGLE_COPY = 5 << 30
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class StorageUnavailable(RuntimeError):
    """The bucket cannot be reached with the configured endpoint and credentials."""


class S3FileStorage:
    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key: str | None,
        secret_key: str | None,
        path_style: bool = False,
        prefix: str = "",
        clock: Clock,
    ) -> None:
        self._bucket = bucket
        self._endpoint_url = endpoint_url
        self._prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self._clock = clock
        self._client = boto3.client(
            "s3",
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(
                signature_version="s3v4",
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                s3={"addressing_style": "path" if path_style else "auto"},
                retries={"max_attempts": 5, "mode": "standard"},
            ),
        )

    def __repr__(self) -> str:
        return (
            f"S3FileStorage(bucket={self._bucket!r}, endpoint_url={self._endpoint_url!r}, "
            f"prefix={self._prefix!r})"
        )

    # --- object keys -------------------------------------------------------------------

    def _blob_object(self, key: str) -> str:
        tenant, sha = split_blob_key(key)
        return f"{self._prefix}blobs/{tenant}/{sha[:2]}/{sha}"

    def _staging_object(self, ref: str) -> str:
        return f"{self._prefix}staging/{check_staging_ref(ref)}"

    # --- staging -----------------------------------------------------------------------

    def open_staging(self) -> _S3StagingWriter:
        ref = f"uploads/{uuid.uuid4().hex}"
        return _S3StagingWriter(self._client, self._bucket, self._staging_object(ref), ref)

    def read_staged(self, ref: str) -> Iterator[bytes]:
        return self._get(self._staging_object(ref), ref)

    def commit_staged(self, ref: str, key: str) -> None:
        source = self._staging_object(ref)
        target = self._blob_object(key)
        try:
            size = self._client.head_object(Bucket=self._bucket, Key=source)["ContentLength"]
            copy_source = {"Bucket": self._bucket, "Key": source}
            if size <= MAX_SINGLE_COPY:
                self._client.copy_object(Bucket=self._bucket, Key=target, CopySource=copy_source)
            else:
                self._client.copy(
                    copy_source,
                    self._bucket,
                    target,
                    Config=TransferConfig(multipart_threshold=MAX_SINGLE_COPY, multipart_chunksize=1 << 30),
                )
        except ClientError as exc:
            if _missing(exc):
                raise KeyError(ref) from None
            raise
        self._client.delete_object(Bucket=self._bucket, Key=source)

    def discard_staged(self, ref: str) -> None:
        self._delete(self._staging_object(ref))

    # --- blobs -------------------------------------------------------------------------

    def read(self, key: str) -> Iterator[bytes]:
        return self._get(self._blob_object(key), key)

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self._bucket, Key=self._blob_object(key))
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self._delete(self._blob_object(key))

    def list_blobs(self) -> Iterator[StoredBlob]:
        root = f"{self._prefix}blobs/"
        for obj in self._list(root):
            parts = obj["Key"][len(root) :].split("/")
            if len(parts) == 3 and parts[2][:2] == parts[1]:
                key = f"{parts[0]}/{parts[2]}"
                if BLOB_KEY.match(key):
                    yield StoredBlob(key, _utc(obj["LastModified"]))

    def list_staged(self) -> Iterator[StoredBlob]:
        root = f"{self._prefix}staging/"
        for obj in self._list(root):
            ref = obj["Key"][len(root) :]
            if STAGING_REF.match(ref):
                yield StoredBlob(ref, _utc(obj["LastModified"]))

    # --- signed links ------------------------------------------------------------------

    def download_url(
        self, key: str, *, filename: str, mime: str, expires_in: int, inline: bool
    ) -> str:
        return self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": self._blob_object(key),
                "ResponseContentDisposition": content_disposition(filename, inline=inline),
                "ResponseContentType": mime,
            },
            ExpiresIn=_lifetime(expires_in),
        )

    def upload_target(self, ref: str, *, size: int, mime: str, expires_in: int) -> UploadTarget:
        if size < 0:
            raise ValueError(f"an upload cannot have a negative size: {size}")
        lifetime = _lifetime(expires_in)
        expires_at = self._clock.now() + timedelta(seconds=lifetime)
        url = self._client.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self._bucket,
                "Key": self._staging_object(ref),
                "ContentType": mime,
                "ContentLength": size,
            },
            ExpiresIn=lifetime,
            HttpMethod="PUT",
        )
        return UploadTarget(
            url=url,
            method="PUT",
            headers={"Content-Type": mime, "Content-Length": str(size)},
            expires_at=expires_at.astimezone(UTC),
        )

    def check(self) -> None:
        try:
            self._client.head_bucket(Bucket=self._bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "unknown")
            raise StorageUnavailable(f"S3 bucket {self._bucket!r} is not usable: {code}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(
                f"S3 bucket {self._bucket!r} is not reachable: {type(exc).__name__}"
            ) from exc

    # --- helpers -----------------------------------------------------------------------

    def _get(self, object_key: str, port_key: str) -> Iterator[bytes]:
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=object_key)["Body"]
        except ClientError as exc:
            if _missing(exc):
                raise KeyError(port_key) from None
            raise
        return _BodyChunks(body)

    def _delete(self, object_key: str) -> None:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=object_key)
        except ClientError as exc:
            if not _missing(exc):
                raise

    def _list(self, prefix: str) -> Iterator[dict[str, Any]]:
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
            yield from page.get("Contents", [])


class _S3StagingWriter:
    """Buffers one part at a time; becomes a multipart upload once more than a part arrives."""

    def __init__(self, client: Any, bucket: str, object_key: str, ref: str) -> None:
        self.ref = ref
        self._client = client
        self._bucket = bucket
        self._key = object_key
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._state = "open"  # "open" -> "closed" | "failed"

    def write(self, data: bytes, /) -> int:
        if self._state != "open":
            raise ValueError(f"write to a {self._state} staging writer")
        view = memoryview(data).cast("B")
        written = view.nbytes
        try:
            while view:
                room = PART_SIZE - len(self._buffer)
                if room == 0:
                    # The buffer is a full part and more bytes follow: it cannot be the last one.
                    self._send_part()
                    continue
                self._buffer += view[:room]
                view = view[room:]
        except BaseException:
            self._fail()
            raise
        return written

    def close(self) -> None:
        if self._state != "open":
            return
        try:
            if self._upload_id is None:
                self._client.put_object(Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer))
            else:
                if self._buffer:
                    self._send_part()
                self._client.complete_multipart_upload(
                    Bucket=self._bucket,
                    Key=self._key,
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts},
                )
        except BaseException:
            self._fail()
            raise
        self._state = "closed"
        self._buffer = bytearray()

    def _send_part(self) -> None:
        if self._upload_id is None:
            created = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key)
            self._upload_id = created["UploadId"]
        number = len(self._parts) + 1
        sent = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=bytes(self._buffer),
        )
        self._parts.append({"ETag": sent["ETag"], "PartNumber": number})
        self._buffer.clear()

    def _fail(self) -> None:
        self._state = "failed"
        self._buffer = bytearray()
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            try:
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=self._key, UploadId=upload_id
                )
            except (ClientError, BotoCoreError):
                pass  # the original failure matters more; a lifecycle rule reclaims the parts


class _BodyChunks:
    """The chunks of a ``GetObject`` body; releases the connection when exhausted or closed."""

    def __init__(self, body: Any) -> None:
        self._body = body
        self._chunks = body.iter_chunks(CHUNK)

    def __iter__(self) -> _BodyChunks:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._body.close()


# --- Content-Disposition (RFC 6266 / RFC 8187) ---------------------------------------------

def _lifetime(expires_in: int) -> int:
    if expires_in <= 0:
        raise ValueError(f"a link must live a positive number of seconds, not {expires_in}")
    return min(int(expires_in), MAX_PRESIGN_SECONDS)


def _missing(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = str(error.get("Code", ""))
    return code in _MISSING_CODES or (status == 404 and code not in {"NoSuchBucket"})


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
