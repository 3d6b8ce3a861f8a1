"""A worker process killed (SIGKILL) in the middle of a batch of WhatsApp sends: no message is lost,
and none reaches the Graph API twice; a message whose send was cut short ends UNCERTAIN (maybe sent,
resent only by ``retryWhatsapp``), every other one SENT exactly once. The Graph API is the local
server of this process; the workers are real ``istmo worker`` processes on the same database."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tests.integration.whatsapp_support import TEMPLATE, Api
from tests.providers.graph import GraphApi
from tests.providers.server import ProviderServer, Recorded, Reply, provider_server  # noqa: F401 - fixture
from tests.fakes.clock import FakeClock

COUNT = 200


def _worker_process(settings: Any, ready: Any) -> None:
    from entrypoints.container import build_container
    from entrypoints.worker import run_worker_process

    container = build_container(settings)
    worker = container.worker(concurrency=4, poll_interval=0.05, grace=10, schedules=())
    ready.set()
    run_worker_process(worker)
    container.shutdown_resources()


def _start(settings: Any) -> Any:
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    process = context.Process(target=_worker_process, args=(settings, ready), daemon=True)
    process.start()
    assert ready.wait(60), "the worker process did not start"
    return process


def _statuses(api: Api) -> Counter[str]:
    with api.service.container.engine().connect() as connection:
        return Counter(connection.execute(text("SELECT status FROM whatsapp_messages")).scalars())


def _wait(condition: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the workers"
        time.sleep(0.05)


@pytest.mark.xdist_group("processes")
def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    make_service: Any, provider_server: ProviderServer
) -> None:
    service = make_service(whatsapp_graph_url=provider_server.url, job_lease=timedelta(seconds=2))
    graph = GraphApi(provider_server)
    api = Api(service, FakeClock(), graph)  # the clock is only the test's: the workers use the real one
    api.connect()
    slow = graph._messages

    def answer_slowly(request: Recorded) -> Reply:
        time.sleep(0.02)  # the provider call a kill can interrupt
        return slow(request)

    provider_server.route("POST", rf"/{graph.phone_number_id}/messages", answer_slowly)
    ids = [api.send(to=f"+50761{n:06d}", template=TEMPLATE)["messages"][0]["id"] for n in range(COUNT)]
    settings = replace(service.container.settings())
    processes = []
    try:
        doomed = _start(settings)
        processes.append(doomed)
        _wait(lambda: _statuses(api)["SENT"] >= 40)
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.join(30)
        assert doomed.exitcode == -signal.SIGKILL
        at_kill = _statuses(api)
        assert at_kill["QUEUED"] > 0, "the kill should come mid-batch"

        processes.append(_start(settings))
        _wait(lambda: _statuses(api)["SENT"] + _statuses(api)["UNCERTAIN"] == COUNT)
    finally:
        for process in processes:
            if process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
                process.join(30)

    with service.container.engine().connect() as connection:
        final = dict(connection.execute(text("SELECT id, status FROM whatsapp_messages")).all())
    assert set(final) == set(ids)  # nothing lost
    delivered = graph.delivered
    assert max(delivered.values()) == 1  # nothing reached WhatsApp twice
    for message_id, status in final.items():
        if status == "SENT":
            assert delivered[message_id] == 1, message_id
        else:
            assert status == "UNCERTAIN" and delivered[message_id] <= 1, (message_id, status)
    assert Counter(final.values())["UNCERTAIN"] == at_kill["SENDING"]  # exactly those cut short
