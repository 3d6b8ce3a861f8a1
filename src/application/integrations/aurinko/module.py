"""The Aurinko module: a tenant's mailbox connection (OAuth), its inbox sync, and its webhook."""

from __future__ import annotations

from datetime import timedelta

from application.integrations.aurinko import commands as c
from application.integrations.aurinko import handlers as h
from application.integrations.aurinko.ports import ProviderRefused, ProviderUnavailable, TokenRejected
from application.integrations.aurinko.webhook import PROVIDER, AurinkoWebhookProcessor
from application.jobs.errors import PermanentJobError, TransientJobError
from application.jobs.schedules import Schedule
from application.shared.modules import Dependencies, DomainModule, Registrations
from application.shared.secrets import SecretUnreadable
from domain.jobs.model import Job


def register(deps: Dependencies) -> Registrations:
    clock, secrets, oauth, states = deps.clock, deps.secrets, deps.aurinko_oauth, deps.oauth_states
    policy = deps.get("aurinko_policy", c.AurinkoPolicy(configured=False, return_url=""))
    return Registrations(
        handlers={
            c.GetAurinkoAuthorizationUrl: h.GetAurinkoAuthorizationUrlHandler(oauth, states, clock, policy),
            c.ConnectAurinko: h.ConnectAurinkoHandler(oauth, states, secrets, clock, policy),
            c.DisconnectAurinko: h.DisconnectAurinkoHandler(oauth, secrets, clock),
            c.GetAurinkoConnection: h.GetAurinkoConnectionHandler(),
            c.MarkAurinkoNeedsReconnect: h.MarkAurinkoNeedsReconnectHandler(clock),
            c.SyncInbox: h.SyncInboxHandler(clock),
            c.RunInboxSync: h.RunInboxSyncHandler(deps.inbox_provider, secrets, clock, policy),
            c.SyncAllInboxes: h.SyncAllInboxesHandler(),
            c.QueueAccountSync: h.QueueAccountSyncHandler(),
            c.FindInboxMessages: h.FindInboxMessagesHandler(),
        },
        jobs=_jobs(deps),
        schedules=[Schedule(kind=h.SYNC_ALL_JOB, interval=deps.get("aurinko_sync_every", timedelta(minutes=5)))],
        provides={"webhook_processors": {PROVIDER: AurinkoWebhookProcessor(deps.messages)}},
    )


def _jobs(deps: Dependencies) -> dict[str, object]:
    """``aurinko.sync`` (one connection; payload: its id) and ``aurinko.sync_all`` (the schedule).
    Provider failures become the runner's transient/permanent errors; reasons carry no token."""

    def run_sync(job: Job) -> None:
        if job.tenant_id is None or not isinstance(job.payload.get("connection_id"), str):
            raise PermanentJobError("aurinko.sync needs a tenant and a connection_id")
        command = c.RunInboxSync(actor=h.system_actor(job.tenant_id), connection_id=job.payload["connection_id"])
        try:
            deps.messages.handle(command)
        except h.SyncNotReady as error:
            raise TransientJobError(str(error), retry_after=error.retry_after) from None
        except h.SyncBusy:
            raise TransientJobError("aurinko: another sync of this mailbox is running", retry_after=30) from None
        except ProviderUnavailable as error:
            raise TransientJobError(f"aurinko: {error.reason}", retry_after=error.retry_after) from None
        except TokenRejected as error:
            raise PermanentJobError(f"aurinko: {error.reason}; the mailbox must be connected again") from None
        except ProviderRefused as error:
            raise PermanentJobError(f"aurinko: {error.reason}") from None
        except SecretUnreadable:
            raise PermanentJobError("aurinko: the stored token does not open with ISTMO_SECRET_KEYS") from None

    def sync_all(job: Job) -> None:
        deps.messages.handle(c.SyncAllInboxes(actor=None, slot=job.dedupe_key))

    return {h.SYNC_JOB: run_sync, h.SYNC_ALL_JOB: sync_all}


MODULE = DomainModule(
    name="aurinko",
    needs=("clock", "secrets", "aurinko_oauth", "inbox_provider", "oauth_states"),
    register=register,
)
