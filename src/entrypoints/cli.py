"""The ``istmo`` command line: serve, migrate, manage tenants, issue dev tokens, collect garbage,
run the job worker and look after its jobs."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import click

from application.files.commands import CollectFileGarbage
from application.tenancy.handlers import CreateTenant, EnsureUser
from domain.jobs.model import Job, JobStateError, JobStatus
from domain.shared.errors import DomainError
from domain.shared.model import parse_id
from domain.tenancy.model import Role
from entrypoints.config import ConfigurationError, parse_duration
from entrypoints.cli_common import ProgressLine, open_container as _container, run as _handle, tenant as _tenant
from entrypoints.cli_signatures import signatures as _signatures




@click.group()
def main() -> None:
    """Istmo: integrations and communications for Panamanian PYMEs."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes.")
@click.option("--with-worker", is_flag=True, help="Also run the job worker in this process (with --dev).")
@click.option("--unix-socket", default=None, help="gunicorn listens on this socket instead (behind deploy/nginx.conf).")
def serve(host: str, port: int, dev: bool, workers: int, with_worker: bool, unix_socket: str | None) -> None:
    """Serve the API (GraphQL at /graphql)."""
    if with_worker and not dev:
        raise click.UsageError("--with-worker needs --dev; in production run `istmo worker` beside the server")
    if dev:
        from entrypoints.app import create_app
        from entrypoints.worker import start_worker_thread

        container = _container()
        worker = container.worker() if with_worker else None
        thread = start_worker_thread(worker) if worker is not None else None
        if worker is not None:
            signal.signal(signal.SIGTERM, _interrupt)  # stop like Ctrl-C: the worker then stops gracefully
        try:
            create_app(container=container).run(host=host, port=port, threaded=True, use_reloader=False)
        except KeyboardInterrupt:
            pass
        finally:
            if worker is not None and thread is not None:
                worker.stop()
                thread.join()
        return
    from entrypoints.gunicorn import serve_with_gunicorn

    serve_with_gunicorn(host=host, port=port, workers=workers, unix_socket=unix_socket)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the migrations up to REVISION."""
    from adapters.db.migrate import upgrade

    container = _container()
    upgrade(container.engine(), revision)
    click.echo(f"database at {revision}", err=True)


@main.group()
def tenants() -> None:
    """Tenants."""


@tenants.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--external-id", default=None, help="The WorkOS organization id, if any.")
@click.option("--exist-ok", is_flag=True, help="Succeed when the tenant already exists.")
def tenants_create(slug: str, name: str, external_id: str | None, exist_ok: bool) -> None:
    """Create the tenant SLUG."""
    result = _handle(
        _container(),
        CreateTenant(actor=None, slug=slug, name=name, external_id=external_id, exist_ok=exist_ok),
    )
    verb = "created" if result.created else "exists"
    click.echo(f"tenant {result.slug} {verb} ({result.tenant_id})", err=True)


@tenants.command("list")
def tenants_list() -> None:
    """Every tenant, by slug, one JSON object a line (id, slug, name, WorkOS id, deleted)."""
    from application.tenancy.handlers import ListTenants

    for view in _handle(_container(), ListTenants(actor=None)):
        click.echo(json.dumps({
            "id": view.tenant_id, "slug": view.slug, "name": view.name, "externalId": view.external_id,
            "deleted": view.deleted,
        }))


@main.command()
@click.option("--tenant", "tenant_ref", required=True, help="The tenant's slug or id.")
@click.option("--user", "email", default=None, help="The user's email (created if missing).")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="owner", show_default=True)
@click.option("--ttl", default="8h", show_default=True, help="How long the token lives: 30m, 8h, 7d.")
@click.option("--session", default=None, help="The login session (sid claim) to continue; a fresh one if not given.")
def token(tenant_ref: str, email: str | None, role: str, ttl: str, session: str | None) -> None:
    """Print a bearer token (HS256, signed with ISTMO_JWT_SECRET) alone on stdout."""
    container = _container()
    tenant_slug = _tenant(container, tenant_ref).slug
    settings = container.settings()
    if settings.jwks_url or not settings.jwt_secret:
        raise click.ClickException("tokens are issued by WorkOS when ISTMO_JWKS_URL is set")
    try:
        lifetime = int(parse_duration(ttl, name="--ttl").total_seconds())
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from None
    user = _handle(
        container,
        EnsureUser(actor=None, tenant_slug=tenant_slug, email=email or f"dev@{tenant_slug}.local", role=Role(role)),
    )
    from adapters.auth.jwt import HmacJwtVerifier

    issuer = HmacJwtVerifier(settings.jwt_secret)
    click.echo(issuer.issue(tenant=tenant_slug, subject=user.user_id, role=role, ttl_seconds=lifetime, session=session))


@main.group()
def files() -> None:
    """Files."""


@files.command("gc")
def files_gc() -> None:
    """Delete expired temporary files, unreferenced blobs and stale uploads (after a grace period).
    On a terminal, stderr shows how far it is."""
    with ProgressLine("files gc", changed="removed") as progress:
        report = _handle(_container(), CollectFileGarbage(actor=None, progress=progress))
    json.dump(
        {
            "expiredFiles": report.expired_files,
            "orphanBlobs": report.orphan_blobs,
            "staleStaging": report.stale_staging,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


@main.command()
@click.option("--concurrency", type=click.IntRange(min=1), default=None,
              help="Jobs run at once (default ISTMO_WORKER_CONCURRENCY).")
def worker(concurrency: int | None) -> None:
    """Run queued jobs until SIGTERM/SIGINT (then finish or release what is running)."""
    from entrypoints.worker import run_worker_process

    container = _container()
    if concurrency is not None:
        container.worker.add_kwargs(concurrency=concurrency)
    try:
        run_worker_process(container.worker())
    finally:
        container.shutdown_resources()


@main.group()
def jobs() -> None:
    """Durable jobs: see them, retry the dead or failed ones."""


def _job_json(job: Job) -> dict[str, Any]:
    """What an operator sees of a job: never its payload (it may hold addresses or tokens)."""
    return {
        "id": job.id,
        "kind": job.kind,
        "tenantId": job.tenant_id,
        "status": str(job.status),
        "attempts": job.attempts,
        "maxAttempts": job.max_attempts,
        "runAt": job.run_at.isoformat(),
        "lastError": job.last_error,
        "createdAt": job.created_at.isoformat(),
        "updatedAt": job.updated_at.isoformat(),
        "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
    }


@jobs.command("list")
@click.option("--status", type=click.Choice([s.value for s in JobStatus], case_sensitive=False), default=None)
@click.option("--kind", default=None)
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True, help="At most this many (any number).")
@click.option("--after", "after_id", default=None, help="Start after this job (its id: the last one a list printed).")
def jobs_list(status: str | None, kind: str | None, limit: int, after_id: str | None) -> None:
    """List jobs, newest first, one JSON object a line; page after page, so any number."""
    queue = _container().job_queue()
    wanted = JobStatus(status.upper()) if status else None
    after = parse_id(after_id, field="--after") if after_id else None
    listed = 0
    while listed < limit:
        page = min(_PAGE, limit - listed)
        found = queue.find(status=wanted, kind=kind, limit=page, after=after)
        for job in found:
            click.echo(json.dumps(_job_json(job)))
        listed += len(found)
        if len(found) < page:
            return
        after = found[-1].id
    click.echo(f"more may follow: --after {after}", err=True)


@jobs.command("retry")
@click.argument("job_id")
def jobs_retry(job_id: str) -> None:
    """Queue a DEAD or FAILED job again now, with its attempts reset."""
    queue = _container().job_queue()
    try:
        job = queue.retry(parse_id(job_id, field="ID"))
    except DomainError as error:
        raise click.ClickException(f"{error.code}: {error.message}") from None
    except LookupError as error:
        raise click.ClickException(str(error).strip("'\"")) from None
    except JobStateError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"job {job.id} queued again ({job.kind})", err=True)


@main.group()
def webhooks() -> None:
    """The webhook inbox: see stored deliveries, replay one."""


def _webhook_json(event: Any) -> dict[str, Any]:
    """What an operator sees of an event: never its body or headers."""
    return {
        "id": event.id,
        "provider": event.provider,
        "providerEventId": event.provider_event_id,
        "tenantId": event.tenant_id,
        "eventType": event.event_type,
        "status": str(event.status),
        "attempts": event.attempts,
        "replays": event.replays,
        "lastError": event.last_error,
        "receivedAt": event.received_at.isoformat(),
        "processedAt": event.processed_at.isoformat() if event.processed_at else None,
    }


_PAGE = 1000


def _webhook_events(container: Any, limit: int | None, after: str | None, **selection: Any) -> Iterator[Any]:
    """The events ``selection`` picks, newest first, page after page (``after``: a cursor to start
    after); at most ``limit`` (``None``: all). Each page is its own query: any number can be listed."""
    from application.webhooks.commands import ListWebhookEvents
    from application.webhooks.views import WebhookEventCursor

    listed = 0
    while limit is None or listed < limit:
        page = _PAGE if limit is None else min(_PAGE, limit - listed)
        events = _handle(container, ListWebhookEvents(actor=None, limit=page, after=after, **selection))
        yield from events
        listed += len(events)
        if len(events) < page:
            return
        after = WebhookEventCursor.of(events[-1]).encode()


def _since(value: datetime | None) -> datetime | None:
    return None if value is None else (value if value.tzinfo else value.replace(tzinfo=UTC))


_SELECTION = [
    click.option("--provider", default=None),
    click.option("--status", default=None, help="RECEIVED, PROCESSED, FAILED, DEAD or UNMATCHED."),
    click.option("--tenant", "tenant_ref", default=None, help="Only this tenant's events (its slug or id)."),
    click.option("--since", type=click.DateTime(), default=None, help="Received at or after (UTC unless a zone is given)."),
]


def _selection_options(command: Any) -> Any:
    for option in reversed(_SELECTION):
        command = option(command)
    return command


@webhooks.command("list")
@_selection_options
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True, help="At most this many (any number).")
@click.option("--after", default=None, help="Start after this cursor (printed when --limit stopped the list).")
def webhooks_list(
    provider: str | None, status: str | None, tenant_ref: str | None, since: datetime | None, limit: int, after: str | None
) -> None:
    """List webhook events, newest first, one JSON object a line."""
    from application.webhooks.views import WebhookEventCursor

    last = None
    listed = 0
    container = _container()
    tenant_id = None if tenant_ref is None else _tenant(container, tenant_ref).tenant_id
    selection = dict(tenant_id=tenant_id, provider=provider, status=status, received_from=_since(since))
    for last in _webhook_events(container, limit, after, **selection):
        click.echo(json.dumps(_webhook_json(last)))
        listed += 1
    if last is not None and listed == limit:
        click.echo(f"more may follow: --after {WebhookEventCursor.of(last).encode()}", err=True)


@webhooks.command("replay")
@click.argument("event_id", required=False)
@_selection_options
@click.option("--all-failed", is_flag=True, help="Every FAILED and DEAD event (narrowed by the other filters).")
def webhooks_replay(
    event_id: str | None, provider: str | None, status: str | None, tenant_ref: str | None, since: datetime | None,
    all_failed: bool,
) -> None:
    """Process finished webhook events once more (a new job each; the workers run them): the one
    EVENT_ID names, or every one the filter picks (e.g. an outage's: --status FAILED --since ...,
    or --all-failed). On a terminal, stderr shows how far it is."""
    from application.webhooks.commands import ReplayWebhookEvent

    container = _container()
    if event_id is not None:
        if any(value is not None for value in (provider, status, tenant_ref, since)) or all_failed:
            raise click.UsageError("give an EVENT_ID or a filter, not both")
        event = _handle(container, ReplayWebhookEvent(actor=None, event_id=event_id))
        click.echo(f"webhook event {event.id} queued again ({event.provider} {event.provider_event_id})", err=True)
        return
    if all_failed and status is not None:
        raise click.UsageError("--all-failed picks the FAILED and DEAD events: give it or --status, not both")
    if status is None and since is None and not all_failed:
        raise click.UsageError("name an EVENT_ID, or pick events with --status, --since or --all-failed")
    tenant_id = None if tenant_ref is None else _tenant(container, tenant_ref).tenant_id
    selection = dict(tenant_id=tenant_id, provider=provider, received_from=_since(since))
    statuses = ("FAILED", "DEAD") if all_failed else (status,)
    ids = [
        event.id for wanted in statuses for event in _webhook_events(container, None, None, status=wanted, **selection)
    ]
    with ProgressLine("webhooks replay", checked="replayed") as progress:
        for done, found in enumerate(ids, start=1):
            _handle(container, ReplayWebhookEvent(actor=None, event_id=found))
            progress(done, len(ids))
    click.echo(f"replayed {len(ids)}/{len(ids)}" if ids else "no event matches", err=True)


@main.group("secrets")
def secrets_group() -> None:
    """The keys that seal provider tokens and secrets at rest (ISTMO_SECRET_KEYS)."""


@secrets_group.command("new-key")
def secrets_new_key() -> None:
    """Print a new Fernet key alone on stdout (put it first in ISTMO_SECRET_KEYS)."""
    from adapters.secrets.fernet import generate_key

    click.echo(generate_key())


@secrets_group.command("rotate")
def secrets_rotate() -> None:
    """Reseal every sealed column under the primary (first) key of ISTMO_SECRET_KEYS.

    Prints one JSON object: rows resealed per column, and the keys of rows none of the keys
    opens (left untouched; the command then exits with status 1). Never a secret. On a terminal,
    stderr shows how far it is.
    """
    from adapters.db.secrets import rotate_sealed_columns

    container = _container()
    try:
        with ProgressLine("secrets rotate", changed="resealed") as progress:
            watched = {"progress": progress} if progress.live else {}  # the total is counted for a watcher only
            report = rotate_sealed_columns(container.engine(), container.secret_box(), **watched)
    finally:
        container.shutdown_resources()
    json.dump(
        {
            "resealed": report.resealed,
            "unreadable": report.unreadable,
            "changedMeanwhile": report.changed_meanwhile,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    if report.unreadable:
        raise click.ClickException(
            "some sealed values open with none of the keys in ISTMO_SECRET_KEYS (listed above, left as they are)"
        )



main.add_command(_signatures)


@main.group()
def qbo() -> None:
    """QuickBooks Online."""


@qbo.command("sync")
@click.option("--tenant", "tenant_ref", required=True, help="The tenant's slug or id.")
@click.option("--full/--catch-up", default=True, show_default=True,
              help="Push every client and invoice (the backfill), or read what changed in QuickBooks.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Show the workers' progress until done.")
def qbo_sync(tenant_ref: str, full: bool, wait: bool) -> None:
    """Queue a sync of the tenant's QuickBooks company; the workers (istmo worker) run it."""
    import time

    from application.integrations.quickbooks.commands import GetQuickbooksConnection, SyncQuickbooks
    from application.integrations.quickbooks.handlers import system_actor

    container = _container()
    try:
        actor = system_actor(_tenant(container, tenant_ref).tenant_id)
        queued = _handle(container, SyncQuickbooks(actor=actor, full=full))
        click.echo(f"queued {queued.customers} customers and {queued.invoices} invoices"
                   if full else f"catch-up queued ({queued.job_id})", err=True)
        if not (wait and full):
            return
        view = _handle(container, GetQuickbooksConnection(actor=actor))
        total = view.pending + view.synced + view.failed
        with click.progressbar(length=total, label="QuickBooks sync", file=sys.stderr) as bar:
            done = 0
            while True:
                view = _handle(container, GetQuickbooksConnection(actor=actor))
                now_done = view.synced + view.failed
                bar.update(max(0, now_done - done))
                done = max(done, now_done)
                if view.pending == 0:
                    break
                time.sleep(1)
        click.echo(f"synced {view.synced}, failed {view.failed} (quickbooksSyncItems(status: FAILED) says why)", err=True)
    finally:
        container.shutdown_resources()


if __name__ == "__main__":
    main()
