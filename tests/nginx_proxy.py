"""The shipped ``deploy/nginx.conf`` run for a test or the bench: its port, upstream and files
moved under a temporary directory (each line replaced must be in the file, once)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "nginx.conf"
PER_ADDRESS = 32  # limit_conn in deploy/nginx.conf


def nginx_unavailable() -> str | None:
    if shutil.which("nginx") is None:
        return "nginx is not installed (make test installs Debian's package when run as root)"
    return None


def render_config(tmp: Path, *, port: int, upstream: str) -> str:
    """``upstream`` as nginx's ``server`` takes it: ``unix:/path/to.sock`` or ``127.0.0.1:8000``."""
    text = CONFIG.read_text()
    user = "user root;" if os.geteuid() == 0 else ""  # the workers must reach the caller's 0700 dirs
    for shipped, here in (
        ("user www-data;", user),
        ("pid /run/istmo-nginx.pid;", f"pid {tmp / 'nginx.pid'};"),
        ("/var/log/nginx/istmo-access.log", str(tmp / "access.log")),
        ("/var/log/nginx/istmo-error.log", str(tmp / "error.log")),
        ("unix:/run/istmo/gunicorn.sock", upstream),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
    ):
        assert text.count(shipped) == 1, f"deploy/nginx.conf no longer has {shipped!r} once"
        text = text.replace(shipped, here)
    assert text.count("/var/lib/nginx/istmo-") == 5
    return text.replace("/var/lib/nginx/istmo-", str(tmp / "nginx-"))


def nginx_command(tmp: Path, *, port: int, upstream: str) -> list[str]:
    """Writes the config and checks it (``RuntimeError`` with nginx's words if it fails); the
    command that runs nginx in the foreground."""
    (tmp / "nginx.conf").write_text(render_config(tmp, port=port, upstream=upstream))
    nginx = [shutil.which("nginx") or "nginx", "-e", str(tmp / "error.log"), "-p", str(tmp), "-c", str(tmp / "nginx.conf")]
    checked = subprocess.run([*nginx, "-t"], capture_output=True, text=True, timeout=60, check=False)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx cannot run here: {checked.stderr.strip()[-500:]}")
    return [*nginx, "-g", "daemon off;"]
