"""A local S3 server (moto's standalone server) for integration tests.

Import the fixtures into a test module (``from tests.s3server import s3_bucket, s3_endpoint``):
``s3_endpoint`` starts one server per session on a free port, ``s3_bucket`` makes a fresh,
empty bucket per test so tests cannot see each other's objects.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"


def admin_client(endpoint_url: str) -> Any:
    """A plain client for arranging and inspecting the bucket behind an adapter's back."""
    return boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(
            signature_version="s3v4",
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            s3={"addressing_style": "path"},
        ),
    )


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    name = f"istmo-test-{uuid.uuid4().hex[:16]}"
    admin_client(s3_endpoint).create_bucket(Bucket=name)
    return name
