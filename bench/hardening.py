"""Production under abuse (issue 19): webhooks through nginx beside gunicorn alone, and a noisy
neighbour on the PDF renderer.

a. Webhooks and renders: one gunicorn (production, 2 workers x 4 threads, PostgreSQL) on a
   loopback port and nginx with the shipped ``deploy/nginx.conf`` in front of it. wrk sends the
   same number of Polar-signed deliveries straight to gunicorn and through nginx, in the same run
   (the service, database and machine alike); stored rows per second and wrk's latency
   percentiles. Then one invoice's ``renderInvoicePdf`` over HTTP, each way in turn.
b. Noisy neighbour: a renderer of two workers (as on this two-core machine). Tenant B renders a
   one-page invoice, one render after another: alone, then while tenant A previews a template
   that loops without output from four threads (each preview runs until the render time limit,
   2 s here, and is retried at once; a RENDER_BUSY refusal after 0.1 s). With fair shares (the
   renders carry their tenant) and, for comparison, without them (no tenant: the pool's plain
   first-come queue, as before issue 19). Target: B's p50 with A flooding <= 2x B's p50 alone.

Run alone: ``python -m bench.hardening``.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Self

from bench.common import ROOT, header, line, migrate, postgres_database, postgres_unavailable

RENDERS = 20  # renderInvoicePdf requests each way, alternating
DELIVERIES = 2500  # per run; four runs: direct, proxied, proxied, direct (the machine's drift weighs on both)
NEIGHBOUR_RENDERS = 30
ROUNDS = 3  # alone, flood, alone, flood, ...
BASELINE_RENDERS = 6  # without fair shares each render waits for A's: fewer, or it takes minutes
FLOODERS = 4
SLOW_TIMEOUT = 2.0
SLOW_AFTER = 0.5  # A's previews yield the CPU after this (ISTMO_PDF_SLOW_AFTER, 5 s by default)
LOOP = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --- a. webhooks through nginx -------------------------------------------------------------------


def _webhooks() -> dict[str, Any]:
    from tests.nginx_proxy import nginx_command, nginx_unavailable

    from bench import webhooks

    reason = postgres_unavailable() or nginx_unavailable()
    if reason:
        return {"skipped": reason}
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (make bench installs it as root)"}
    with postgres_database() as url, tempfile.TemporaryDirectory(prefix="istmo-bench-proxy-") as tmp_name:
        tmp = Path(tmp_name)
        migrate(url)
        runs = ("direct1", "proxied1", "proxied2", "direct2")
        files = {name: tmp / f"{name}.tsv" for name in ("warm", "warmp", *runs)}
        for name, path in files.items():
            webhooks._write_deliveries(path, webhooks.WARMUP if name.startswith("warm") else DELIVERIES, name)
        port, proxy_port = webhooks._free_port(), webhooks._free_port()
        env = {**webhooks._server_env(tmp, url), "ISTMO_PROXY_HOPS": "1"}
        command = [sys.executable, "-m", "entrypoints.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
        log = open(tmp / "server.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=ROOT)
        proxy = None
        try:
            webhooks._wait_ready(port, server)
            proxy = subprocess.Popen(nginx_command(tmp, port=proxy_port, upstream=f"127.0.0.1:{port}"),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            webhooks._wait_ready(proxy_port, proxy)
            webhooks._wrk(port, files["warm"])
            webhooks._wrk(proxy_port, files["warmp"])
            measured: dict[str, Any] = {
                name: webhooks._wrk(port if name.startswith("direct") else proxy_port, files[name]) for name in runs
            }
            renders = _renders(port, proxy_port, env)
        finally:
            for process in (proxy, server):
                if process is not None:
                    process.terminate()
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        process.kill()
            log.close()
        for name in runs:
            measured[name]["stored"] = webhooks._count(
                url, f"SELECT count(*) FROM webhook_events WHERE provider_event_id LIKE 'msg_{name}_%'"
            )
    return {
        **{kind: [measured[f"{kind}1"], measured[f"{kind}2"]] for kind in ("direct", "proxied")},
        "renders": renders,
    }


def _renders(port: int, proxy_port: int, env: dict[str, str]) -> dict[str, list[float]]:
    """renderInvoicePdf of one invoice over HTTP, straight to gunicorn and through nginx in turn (ms)."""
    import http.client
    import json

    from tests.integration.test_api_pdf import CREATE_CLIENT, CREATE_INVOICE, RENDER_INVOICE

    from adapters.auth.jwt import HmacJwtVerifier

    made = subprocess.run([sys.executable, "-m", "entrypoints.cli", "tenants", "create", "acme", "--name", "Acme S.A."],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    if made.returncode != 0:
        raise RuntimeError(made.stderr[-500:])
    token = HmacJwtVerifier(env["ISTMO_JWT_SECRET"]).issue(tenant="acme", subject="bench", role="owner", ttl_seconds=900)

    def graphql(to: int, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", to, timeout=120)
        try:
            connection.request("POST", "/graphql", body=json.dumps({"query": query, "variables": variables}),
                               headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
            payload = json.loads(connection.getresponse().read())
        finally:
            connection.close()
        if payload.get("errors"):
            raise RuntimeError(str(payload["errors"])[:500])
        return dict(payload["data"])

    client = graphql(port, CREATE_CLIENT, {"input": {"name": "Constructora Las Cumbres, S.A.", "taxpayerType": "JURIDICO",
                                                     "ruc": "8-123-4567", "dv": "12"}})["createClient"]["client"]
    lines = [{"description": f"Artículo {n}", "quantity": "2", "unitPrice": "8.50", "taxRate": 7} for n in range(8)]
    invoice = graphql(port, CREATE_INVOICE, {"input": {"clientId": client["id"], "lines": lines}})["createInvoice"]["invoice"]
    times: dict[str, list[float]] = {"direct": [], "proxied": []}
    for n in range(RENDERS + 2):
        for kind, to in (("direct", port), ("proxied", proxy_port)) if n % 2 else (("proxied", proxy_port), ("direct", port)):
            started = time.perf_counter()
            result = graphql(to, RENDER_INVOICE, {"invoiceId": invoice["id"]})["renderInvoicePdf"]
            if result["error"] is not None:
                raise RuntimeError(str(result["error"]))
            if n >= 2:  # the first two each way warm the render workers
                times[kind].append((time.perf_counter() - started) * 1000)
    return times


def webhooks_section(label: str) -> None:
    header(
        f"[{label}] webhooks through nginx (deploy/nginx.conf) beside gunicorn alone: {DELIVERIES} Polar-signed "
        "deliveries a run, two runs each (alone, nginx, nginx, alone), wrk with 16 connections, gunicorn production 2x4 on PostgreSQL"
    )
    out = _webhooks()
    if "skipped" in out:
        print(f"  skipped: {out['skipped']}", flush=True)
        return
    for name, label_text in (("direct", "gunicorn alone"), ("proxied", "through nginx")):
        rounds = out[name]
        walls = [figures["duration_us"] / 1e6 for figures in rounds]
        rates = [figures["stored"] / wall if wall else 0.0 for figures, wall in zip(rounds, walls, strict=True)]
        line(f"{label_text}: stored / not 2xx (two runs)",
             f"{sum(f['stored'] for f in rounds)} / {sum(f['non_2xx'] for f in rounds)}")
        line(f"{label_text}: webhooks per second (both runs; each)",
             f"{sum(f['stored'] for f in rounds) / sum(walls):.0f} /s ({rates[0]:.0f}; {rates[1]:.0f})")
        line(f"{label_text}: latency p50 / p99 (mean of the runs)",
             f"{statistics.mean(f['p50_us'] for f in rounds) / 1000:.1f} / "
             f"{statistics.mean(f['p99_us'] for f in rounds) / 1000:.1f} ms")


    for kind, label_text in (("direct", "gunicorn alone"), ("proxied", "through nginx")):
        times = out["renders"][kind]
        line(f"{label_text}: renderInvoicePdf p50 / p99 ({len(times)}, over HTTP)",
             f"{statistics.median(times):.0f} / {_percentile(times, 0.99):.0f} ms")


# --- b. noisy neighbour ---------------------------------------------------------------------------


def _timed_renders(renderer: Any, count: int, tenant: str | None) -> list[float]:
    from application.pdf.documents import PdfLayout, sample_invoice

    times = []
    for n in range(count):
        started = time.perf_counter()
        renderer.render(sample_invoice(number=f"FE-{n:010d}"), PdfLayout(), {}, tenant_id=tenant)
        times.append((time.perf_counter() - started) * 1000)
    return times


class _Flood:
    """Tenant A previewing a looping template from several threads until stopped."""

    def __init__(self, renderer: Any, tenant: str | None) -> None:
        from application.pdf.documents import PdfLayout, sample_invoice

        self.outcomes: dict[str, int] = {}
        self._stop = threading.Event()
        slow = PdfLayout(custom_body_template=LOOP)

        def flood() -> None:
            while not self._stop.is_set():
                try:
                    renderer.render(sample_invoice(), slow, {}, tenant_id=tenant)
                    code = "OK"
                except Exception as error:  # noqa: BLE001 - a figure: which refusals the flood met
                    code = getattr(error, "code", type(error).__name__)
                self.outcomes[code] = self.outcomes.get(code, 0) + 1
                if code == "RENDER_BUSY":
                    self._stop.wait(0.1)

        self._threads = [threading.Thread(target=flood, daemon=True) for _ in range(FLOODERS)]

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        time.sleep(SLOW_TIMEOUT)  # the flood under way: both workers taken once
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(SLOW_TIMEOUT * 10)


def _neighbour() -> dict[str, Any]:
    """B alone and B beside A's flood in alternating rounds (the machine's drift weighs on both)."""
    from adapters.pdf.weasyprint import RendererSettings, WeasyPrintPdfRenderer

    alone: list[float] = []
    fair: list[float] = []
    fair_flood: dict[str, int] = {}
    with WeasyPrintPdfRenderer(RendererSettings(processes=2, timeout=SLOW_TIMEOUT, slow_after=SLOW_AFTER)) as renderer:
        renderer.start()
        _timed_renders(renderer, 3, "B")  # warm both workers' caches
        for _ in range(ROUNDS):
            alone += _timed_renders(renderer, NEIGHBOUR_RENDERS // ROUNDS, "B")
            with _Flood(renderer, "A") as flood:
                fair += _timed_renders(renderer, NEIGHBOUR_RENDERS // ROUNDS, "B")
            for code, times in flood.outcomes.items():
                fair_flood[code] = fair_flood.get(code, 0) + times
        with _Flood(renderer, None) as plain_flood:
            plain = _timed_renders(renderer, BASELINE_RENDERS, None)
    return {"alone": alone, "fair": fair, "plain": plain, "fair_flood": fair_flood, "plain_flood": plain_flood.outcomes}


def neighbour_section(label: str) -> None:
    header(
        f"[{label}] noisy neighbour: tenant B's one-page invoice renders (one after another) while tenant A "
        f"previews a looping template from {FLOODERS} threads; 2 render workers, {SLOW_TIMEOUT:g} s render limit"
    )
    out = _neighbour()
    alone_p50 = statistics.median(out["alone"])
    for key, text in (("alone", "B alone"), ("fair", "B while A floods, fair shares"),
                      ("plain", "B while A floods, first come first served (before)")):
        times = out[key]
        p50 = statistics.median(times)
        target = ("<= 2x alone", p50 <= 2 * alone_p50) if key == "fair" else ("", None)
        line(f"{text}: p50 / p99 ({len(times)} renders)", f"{p50:.0f} / {_percentile(times, 0.99):.0f} ms",
             target[0], target[1])
    line("B with A flooding, fair shares: p50 / B alone p50", f"{statistics.median(out['fair']) / alone_p50:.2f}x")
    line("A's previews during it (fair shares)", ", ".join(f"{k} {v}" for k, v in sorted(out["fair_flood"].items())))
    line("A's previews during it (first come)", ", ".join(f"{k} {v}" for k, v in sorted(out["plain_flood"].items())))


def main() -> None:
    webhooks_section("12a")
    neighbour_section("12b")


if __name__ == "__main__":
    main()
