"""A pool of warm render worker processes with a wall-clock timeout per job.

Workers are started lazily (first job or ``start()``), from a ``forkserver`` that has already
imported WeasyPrint (on the accelerated path), so a new worker only builds its engine (~0.3 s)
instead of starting an interpreter and importing everything (~1 s with ``spawn``). Each job is sent to an idle worker
over its own pipe; the caller's thread waits at most ``timeout`` seconds for the answer, then
kills the worker, starts a replacement and raises ``RenderTimeout``. A worker that dies (killed
by the kernel, crashed) is replaced the same way. A render still running after ``slow_after``
seconds lowers its worker's CPU priority (nice 10), so that on a busy host it slows the other
workers' renders less; that worker is replaced once it answers. Any number of threads may call ``submit``;
jobs beyond the pool size wait for a free worker.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.pdf.worker import WorkerSettings, serve
from domain.pdf.errors import RenderFailed, RenderTimeout, RenderTooLarge, TemplateInvalid
from domain.shared.errors import DomainError, InvalidInput

_ERRORS: dict[str, type[DomainError]] = {
    "TemplateInvalid": TemplateInvalid,
    "RenderTimeout": RenderTimeout,
    "RenderTooLarge": RenderTooLarge,
    "RenderFailed": RenderFailed,
    "InvalidInput": InvalidInput,
}
# What the forkserver imports for its workers. Stock workers import WeasyPrint themselves, from
# its sources (see adapters.pdf.accelerated), after the finder that skips compiled modules.
_PRELOAD = {True: ["weasyprint", "adapters.pdf.engine"], False: ["adapters.pdf.worker"]}


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolSettings:
    processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    timeout: float = 30.0  # seconds of wall clock per render
    start_timeout: float = 60.0  # seconds for a new worker to become ready
    queue_timeout: float = 120.0  # seconds a job may wait for a free worker
    slow_after: float | None = 5.0  # seconds after which a render yields the CPU (None: never)
    start_method: str = "forkserver"
    worker: WorkerSettings = field(default_factory=WorkerSettings)


@dataclass(frozen=True, slots=True)
class JobResult:
    value: Any
    pid: int
    seconds: float  # time spent in the worker
    peak_rss_kb: int  # the worker's peak resident size so far (VmHWM)


SLOW_NICE = 10  # the nice value of a worker whose render has run past ``slow_after``


class _Worker:
    def __init__(self, process: Any, conn: Any) -> None:
        self.process = process
        self.conn = conn
        self.ready = False
        self.pid: int = process.pid
        self.yielded = False  # niced for a slow render: replaced after it (a nice value only goes up)
        self.stopped = False
        self._stopping = threading.Lock()

    def stop(self, *, kill: bool) -> None:
        """Stop the process and close its pipe, once: ``WorkerPool.close`` and the request thread
        that held the worker may both stop it, and a second ``close()`` of the pipe's descriptor
        was an EBADF (the preview then failed with an OSError instead of a render failure)."""
        with self._stopping:
            if self.stopped:
                return
            self.stopped = True
        try:
            if kill:
                self.process.kill()
            else:
                self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(timeout=0.5 if kill else 2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=2)
        self.conn.close()


class WorkerPool:
    def __init__(self, settings: PoolSettings | None = None, *, target: Callable[..., None] = serve) -> None:
        self.settings = settings or PoolSettings()
        if self.settings.processes < 1:
            raise ValueError("a worker pool needs at least one process")
        self._target = target
        self._lock = threading.Lock()
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._workers: set[_Worker] = set()
        self._ctx: Any = None
        self._owner_pid: int | None = None
        self._closed = False

    # --- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start the workers now and wait until all are warm (otherwise: on first use)."""
        self._ensure_started()
        warm = []
        for _ in range(self.settings.processes):
            worker = self._acquire()
            warm.append(worker)
            try:
                self._wait_ready(worker)
            except BaseException:
                for other in warm:
                    self._release(other, replace=other is worker)
                raise
        for worker in warm:
            self._release(worker)

    def close(self) -> None:
        """Stop every worker; jobs still running are killed with their worker."""
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, set()
        while True:
            try:
                self._idle.get_nowait()
            except queue.Empty:
                break
        for worker in workers:
            worker.stop(kill=not worker.ready)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pids(self) -> list[int]:
        with self._lock:
            return sorted(worker.pid for worker in self._workers)

    def _ensure_started(self) -> None:
        with self._lock:
            if self._closed:
                raise RenderFailed("the PDF renderer is closed")
            if self._owner_pid == os.getpid():
                return
            # First use, or first use in a forked child: its parent's workers are not ours.
            self._workers = set()
            self._idle = queue.Queue()
            self._ctx = multiprocessing.get_context(self.settings.start_method)
            if self.settings.start_method == "forkserver":
                self._ctx.set_forkserver_preload(_PRELOAD[self.settings.worker.accelerated])
            self._owner_pid = os.getpid()
            for _ in range(self.settings.processes):
                self._idle.put(self._spawn_locked())

    def _spawn_locked(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=self._target, args=(child, self.settings.worker), name="istmo-pdf-worker", daemon=True
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        self._workers.add(worker)
        return worker

    # --- jobs ---------------------------------------------------------------------------

    def submit(self, job: Any, *, timeout: float | None = None) -> JobResult:
        """Run ``job`` on a worker; its value, or the domain error the worker raised."""
        self._ensure_started()
        worker = self._acquire()
        replace = True
        try:
            self._wait_ready(worker)
            budget = self.settings.timeout if timeout is None else timeout
            try:
                worker.conn.send(job)
                if not self._answered(worker, budget):
                    raise RenderTimeout(f"the render took longer than {budget:g} s and was stopped")
                status, value, stats = worker.conn.recv()
            except (EOFError, OSError) as error:
                raise self._death(worker, error) from None
            replace = bool(stats.get("retire")) or worker.yielded
            if status == "ok":
                return JobResult(value, stats["pid"], stats["seconds"], stats["peak_rss_kb"])
            kind, message, field_name, line = value
            error_class = _ERRORS.get(kind, RenderFailed)
            if error_class is TemplateInvalid:
                raise TemplateInvalid(message, field=field_name, line=line)
            raise error_class(message, field=field_name)
        finally:
            self._release(worker, replace=replace)

    def _answered(self, worker: _Worker, budget: float) -> bool:
        """Whether the worker answers within ``budget`` seconds. A render still running after
        ``slow_after`` yields the CPU to the other workers' (on a busy host one tenant's slow template
        would otherwise slow every other tenant's render): its worker's nice value goes up."""
        slow_after = self.settings.slow_after
        if slow_after is None or slow_after >= budget:
            return bool(worker.conn.poll(budget))
        if worker.conn.poll(slow_after):
            return True
        try:
            os.setpriority(os.PRIO_PROCESS, worker.pid, SLOW_NICE)
            worker.yielded = True
        except OSError:  # gone already: the poll below sees it
            pass
        return bool(worker.conn.poll(budget - slow_after))

    def _acquire(self) -> _Worker:
        try:
            worker = self._idle.get(timeout=self.settings.queue_timeout)
        except queue.Empty:
            raise RenderTimeout(
                f"no PDF worker became free within {self.settings.queue_timeout:g} s"
            ) from None
        if worker.ready:
            return worker
        # a replacement still starting (its predecessor was stopped at its time limit): a warm worker
        # idle beside it goes first, so that another render does not wait for the start
        try:
            warm = self._idle.get_nowait()
        except queue.Empty:
            return worker
        self._idle.put(worker)
        return warm

    def _wait_ready(self, worker: _Worker) -> None:
        if worker.ready:
            return
        try:
            if not worker.conn.poll(self.settings.start_timeout):
                raise RenderFailed(f"a PDF worker did not start within {self.settings.start_timeout:g} s")
            status, value, _ = worker.conn.recv()
        except (EOFError, OSError) as error:
            raise self._death(worker, error) from None
        if status != "ready":
            raise RenderFailed(f"a PDF worker could not start: {value[1] if value else status}")
        worker.ready = True

    def _death(self, worker: _Worker, error: BaseException) -> DomainError:
        worker.process.join(timeout=1)
        code = worker.process.exitcode
        if code is not None and code < 0 and -code == 9:
            return RenderTooLarge("the PDF worker was killed, most likely for exceeding its memory limit")
        return RenderFailed(f"the PDF worker stopped unexpectedly (exit code {code}, {type(error).__name__})")

    def _release(self, worker: _Worker, *, replace: bool = False) -> None:
        """Hand ``worker`` back, or stop it and put a fresh one in its place."""
        with self._lock:
            closed = self._closed
            if replace or closed:
                self._workers.discard(worker)
        if not replace and not closed:
            self._idle.put(worker)
            return
        worker.stop(kill=True)
        if closed:
            return
        with self._lock:
            if self._closed:
                return
            fresh = self._spawn_locked()
        self._idle.put(fresh)

