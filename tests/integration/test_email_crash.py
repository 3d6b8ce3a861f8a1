"""A worker process killed (SIGKILL) in the middle of a batch of 200 emails to a real SMTP server.

The workers are ``istmo worker`` processes (the production container, ``ISTMO_SMTP_URL`` pointed
at an aiosmtpd server in this process); the server answers each DATA a little late, so the kill
can land after the server kept a message and before the worker recorded it. Then: nothing is
lost (every message ends SENT or UNCERTAIN, never stuck QUEUED or SENDING), a SENT message was
delivered exactly once (counted by Message-ID at the server), an UNCERTAIN one at most once, and
only ``retryEmail`` sends an UNCERTAIN message again.

On PostgreSQL two workers survive the kill and share the rest of the batch; on SQLite one
worker at a time (as the README says to run it there).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.db.emails.tables import email_messages
from application.emails.commands import RetryEmail, SendEmail
from domain.shared.delivery import DeliveryStatus
from domain.tenancy.model import Actor, Role
from tests.smtpserver import SmtpServer

BATCH = 200
LEASE = timedelta(seconds=2)


def _worker(settings: Any, ready: Any) -> None:
    """``istmo worker`` in a process of its own, polling fast."""
    from entrypoints.container import build_container
    from entrypoints.worker import run_worker_process

    container = build_container(settings)
    container.worker.add_kwargs(concurrency=4, poll_interval=0.05, grace=5)
    ready.set()
    try:
        run_worker_process(container.worker())
    finally:
        container.shutdown_resources()


class Workers:
    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.context = multiprocessing.get_context("spawn")
        self.started: list[Any] = []

    def start(self) -> Any:
        ready = self.context.Event()
        process = self.context.Process(target=_worker, args=(self.settings, ready), daemon=True)
        process.start()
        self.started.append(process)
        assert ready.wait(60), "the worker process did not start"
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        for process in self.started:
            process.join(30)
            if process.is_alive():
                process.kill()
                process.join(5)


def wait_until(condition: Callable[[], bool], *, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the workers"
        time.sleep(0.05)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        server.handler.delay = 0.02
        yield server


@pytest.fixture
def setup(make_service: Any, smtp: SmtpServer) -> Iterator[tuple[Any, Workers]]:
    service = make_service(smtp_url=smtp.url(starttls="false"), job_lease=LEASE, job_max_attempts=20)
    workers = Workers(service.container.settings())
    try:
        yield service, workers
    finally:
        workers.stop_all()


def _statuses(service: Any) -> dict[str, tuple[str, str]]:
    """message row id -> (status, Message-ID)"""
    with service.container.engine().connect() as connection:
        rows = connection.execute(select(email_messages.c.id, email_messages.c.status, email_messages.c.internet_message_id))
        return {row.id: (str(row.status), row.internet_message_id) for row in rows}


@pytest.mark.xdist_group("email-crash")
def test_a_worker_killed_mid_batch_loses_no_email_and_sends_none_twice_unless_uncertain(
    setup: tuple[Any, Workers], smtp: SmtpServer, database_url: str
) -> None:
    service, workers = setup
    tenant_id = service.tenant("acme")
    actor = Actor(tenant_id=tenant_id, user_id="owner@acme.pa", role=Role.OWNER)
    bus = service.container.bus()
    for n in range(BATCH):
        bus.handle(SendEmail(actor=actor, to=(f"cliente{n}@example.com",), subject=f"Factura {n}", text="Adjunta"))

    doomed = workers.start()
    wait_until(lambda: len(smtp.received) >= 40)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(30)
    assert doomed.exitcode == -signal.SIGKILL
    at_kill = Counter(status for status, _ in _statuses(service).values())
    assert at_kill[str(DeliveryStatus.QUEUED)] > 0, "the kill should land mid-batch"

    survivors = 2 if database_url.startswith("postgresql") else 1
    for _ in range(survivors):
        workers.start()
    final = {str(DeliveryStatus.SENT), str(DeliveryStatus.UNCERTAIN)}
    wait_until(lambda: all(status in final for status, _ in _statuses(service).values()))

    messages = _statuses(service)
    assert len(messages) == BATCH
    delivered = smtp.counts_by_message_id()
    known = {message_id for _, message_id in messages.values()}
    assert set(delivered) <= known, "the server got a message nobody sent"
    uncertain = [row_id for row_id, (status, _) in messages.items() if status == str(DeliveryStatus.UNCERTAIN)]
    for row_id, (status, message_id) in messages.items():
        if status == str(DeliveryStatus.SENT):
            assert delivered[message_id] == 1, f"{message_id} is SENT but was delivered {delivered[message_id]} times"
        else:
            assert delivered[message_id] <= 1, f"{message_id} is UNCERTAIN and was delivered twice"

    print(f"at the kill: {dict(at_kill)}; after: {len(uncertain)} UNCERTAIN, {len(delivered)} delivered")
    # Only a person sends an UNCERTAIN message again: retryEmail, with the same Message-ID.
    for row_id in uncertain:
        bus.handle(RetryEmail(actor=actor, message_id=row_id))
    wait_until(lambda: all(status == str(DeliveryStatus.SENT) for status, _ in _statuses(service).values()))
    after_retry = smtp.counts_by_message_id()
    for row_id, (_, message_id) in _statuses(service).items():
        # a SENT message is not sent again; a retried UNCERTAIN one exactly once more
        expected = delivered[message_id] + 1 if row_id in uncertain else 1
        assert after_retry[message_id] == expected, f"{message_id}: {after_retry[message_id]} deliveries, not {expected}"
