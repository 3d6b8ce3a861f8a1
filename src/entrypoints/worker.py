"""Running the job worker: as its own process (``istmo worker``) or as a thread beside the dev server."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import structlog

from application.jobs.worker import Worker

log = structlog.get_logger(__name__)


def run_worker_process(worker: Worker) -> None:
    """Run until SIGTERM or SIGINT: then stop claiming, let running jobs finish within the grace
    period and release the ones still running (they go back to the queue without losing an attempt)."""

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("worker.signal", signal=signal.Signals(signum).name, worker=worker.name)
        # Not Event.set() here: the main thread may hold the event's lock when the signal lands.
        threading.Thread(target=worker.stop, daemon=True).start()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        worker.run_until_stopped()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def start_worker_thread(worker: Worker) -> threading.Thread:
    """An in-process worker for the one-command demo (``istmo serve --dev --with-worker``)."""
    thread = threading.Thread(target=worker.run_until_stopped, name="istmo-worker", daemon=True)
    thread.start()
    return thread
