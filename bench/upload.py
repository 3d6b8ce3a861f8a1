"""Target 1: a 500 MB upload through the service (GraphQL multipart ``addFile``) to local storage.

Run by ``python -m bench`` in a fresh subprocess (``python -m bench.upload``), which prints one
JSON object on its last line. The request goes through the real WSGI app
(``werkzeug.test.run_wsgi_app``); its body is generated lazily by ``LazyBody``, so the body is
never held in memory: 4 MiB of ``os.urandom`` reused, with a per-chunk counter (and run number)
written over its first 16 bytes, so no two chunks are equal.

Throughput is compared with raw ``hashlib.sha256`` over the very same bytes, generated the same
way, in the same process, just before each upload.

Memory: what is reported is the growth of the process's peak resident set during the uploads.
After the app is built and warmed (a 1 MB upload imports and allocates everything lazy), the
kernel's peak-RSS mark is reset (``echo 5 > /proc/self/clear_refs`` sets VmHWM to the current
VmRSS); growth = VmHWM after the uploads - VmRSS just before them. Page cache (the staged file's
pages) is not resident set and is not counted; every buffer the service, werkzeug, the parser,
the hasher and the writer allocate is. Where clear_refs cannot be written, growth falls back to
``ru_maxrss`` after - before in this fresh process (less exact: the warm-up's peak is the floor).
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import MB, build_service, multipart_head, multipart_tail, new_boundary

SIZE = 500 * MB
PIECE = 4 << 20
RUNS = int(os.environ.get("BENCH_UPLOAD_RUNS", "5"))


class Content:
    """``size`` bytes of non-repeating content, made from one 4 MiB random buffer."""

    def __init__(self, size: int, run: int, base: bytearray) -> None:
        self.size = size
        self.run = run
        self._base = base

    def chunks(self) -> Iterator[memoryview]:
        """Each chunk is a view of the shared buffer, valid until the next one is produced."""
        view = memoryview(self._base)
        left, index = self.size, 0
        while left:
            self._base[:16] = self.run.to_bytes(4, "big") + index.to_bytes(12, "big")
            n = min(left, len(self._base))
            yield view[:n]
            left -= n
            index += 1


class LazyBody(io.RawIOBase):
    """A wsgi.input that yields head + content + tail without ever holding the body."""

    def __init__(self, head: bytes, content: Content, tail: bytes) -> None:
        self.length = len(head) + content.size + len(tail)
        self._segments = self._all(head, content, tail)
        self._current = memoryview(b"")

    @staticmethod
    def _all(head: bytes, content: Content, tail: bytes) -> Iterator[memoryview]:
        yield memoryview(head)
        yield from content.chunks()
        yield memoryview(tail)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        out = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(out):
            if not self._current:
                self._current = next(self._segments, None)  # type: ignore[assignment]
                if self._current is None:
                    self._current = memoryview(b"")
                    break
                continue
            n = min(len(out) - filled, len(self._current))
            out[filled : filled + n] = self._current[:n]
            self._current = self._current[n:]
            filled += n
        return filled


def raw_sha256(content: Content) -> tuple[str, float]:
    digest = hashlib.sha256()
    started = time.perf_counter()
    for chunk in content.chunks():
        digest.update(chunk)
    return digest.hexdigest(), time.perf_counter() - started


def upload(service: Any, content: Content, headers: dict[str, str]) -> tuple[int, dict[str, Any], float]:
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    boundary = new_boundary()
    body = LazyBody(multipart_head(boundary, "big.bin"), content, multipart_tail(boundary))
    builder = EnvironBuilder(path="/graphql", method="POST", headers=headers)
    environ = builder.get_environ()
    builder.close()
    # Set after get_environ(): EnvironBuilder would make up its own multipart boundary.
    environ["CONTENT_TYPE"] = f"multipart/form-data; boundary={boundary}"
    environ["wsgi.input"] = body
    environ["CONTENT_LENGTH"] = str(body.length)
    started = time.perf_counter()
    app_iter, status, _headers = run_wsgi_app(service.app.wsgi_app, environ, buffered=True)
    payload = b"".join(app_iter)
    elapsed = time.perf_counter() - started
    return int(status.split()[0]), json.loads(payload), elapsed


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as handle:
            for row in handle:
                if row.startswith(field + ":"):
                    return int(row.split()[1])
    except OSError:
        pass
    return None


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="istmo-bench-upload-") as tmp:
        service = build_service(Path(tmp), max_upload_bytes=SIZE + 100 * MB)
        try:
            headers = service.headers("bench-upload")
            base = bytearray(os.urandom(PIECE))
            warm_status, warm, _ = upload(service, Content(1 * MB, 0, base), headers)
            assert warm_status == 200 and warm["data"]["addFile"]["file"], warm
            gc.collect()

            exact = _reset_peak()
            before_kb = _status_kb("VmRSS") if exact else None
            before_max_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            runs = []
            for run in range(1, RUNS + 1):
                content = Content(SIZE, run, base)
                expected, sha_seconds = raw_sha256(content)
                cpu_before = _cpu_seconds()
                status, result, seconds = upload(service, content, headers)
                cpu = _cpu_seconds() - cpu_before
                added = (result.get("data") or {}).get("addFile") or {}
                file = added.get("file") or {}
                runs.append({
                    "status": status,
                    "seconds": seconds,
                    "cpu_seconds": cpu,
                    "sha_seconds": sha_seconds,
                    "ok": status == 200
                    and file.get("status") == "READY"
                    and file.get("size") == SIZE
                    and file.get("sha256") == expected,
                    "file_status": file.get("status"),
                    "size": file.get("size"),
                    "sha256_matches": file.get("sha256") == expected,
                    "error": added.get("error")
                    or result.get("errors")
                    or (result if status != 200 else None),
                })
            if exact:
                peak_kb = _status_kb("VmHWM") or 0
                growth = (peak_kb - (before_kb or 0)) * 1024
                method = "VmHWM after - VmRSS before (peak reset via /proc/self/clear_refs)"
            else:
                growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_max_kb) * 1024
                method = "ru_maxrss after - before, fresh process (clear_refs unavailable)"
            staged_left = sum(1 for p in (Path(tmp) / "files" / "staging").rglob("*") if p.is_file())
        finally:
            service.close()
    mbps = [SIZE / r["seconds"] / MB for r in runs]
    sha_mbps = [SIZE / r["sha_seconds"] / MB for r in runs]
    ratios = [r["sha_seconds"] / r["seconds"] for r in runs]
    return {
        "size": SIZE,
        "runs": runs,
        "upload_mbps": mbps,
        "sha_mbps": sha_mbps,
        "ratios": ratios,
        "median_ratio": statistics.median(ratios),
        "median_cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
        "median_sha_seconds": statistics.median(r["sha_seconds"] for r in runs),
        "rss_growth": growth,
        "rss_method": method,
        "staged_left": staged_left,
    }


if __name__ == "__main__":
    if "--profile" in sys.argv:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        out = main()
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    else:
        out = main()
    print(json.dumps(out))
