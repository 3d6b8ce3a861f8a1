"""The ``deliveries.sweep`` job: an email or WhatsApp message left SENDING after every run of its
job stopped mid-attempt (the last one and its spare) becomes UNCERTAIN, in any tenant; a message
claimed recently, or in any other state, is left alone; an UNCERTAIN one can be retried by hand."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dependency_injector import providers
from sqlalchemy import text

from application.deliveries.sweep import SWEEP_JOB
from tests.fakes.clock import FakeClock
from tests.integration.api import data
from tests.integration.whatsapp_support import START, TEMPLATE, Api, GraphApi
from tests.providers.server import ProviderServer, provider_server  # noqa: F401 - fixture

ERROR = "error { code message field }"
SEND_EMAIL = f"""mutation($input: SendEmailInput!) {{
  sendEmail(input: $input) {{ emailMessage {{ id status }} {ERROR} }} }}"""
EMAIL = f"""query($id: ID!) {{ getEmailMessageById(id: $id) {{
  emailMessage {{ status lastError attempts {{ outcome }} }} {ERROR} }} }}"""
RETRY_EMAIL = f"mutation($id: ID!) {{ retryEmail(id: $id) {{ emailMessage {{ status }} {ERROR} }} }}"


def sweep(api: Api) -> int:
    """A worker with only the sweep's schedule: its current slot runs (once per slot)."""
    schedules = [s for s in api.service.container.schedules() if s.kind == SWEEP_JOB]
    return int(api.service.container.worker(schedules=schedules).run_once())


def every_run_spent(api: Api) -> None:
    """The delivery jobs ended DEAD: their last run and its spare both stopped mid-attempt."""
    with api.service.container.engine().begin() as connection:
        connection.execute(text("UPDATE jobs SET status = 'DEAD', attempts = max_attempts WHERE kind <> :sweep"),
                           {"sweep": SWEEP_JOB})


def claimed(api: Api, table: str, message_id: str, minutes_ago: int) -> None:
    """The message as a worker left it: SENDING, claimed ``minutes_ago``, then nothing more."""
    at = api.clock.now() - timedelta(minutes=minutes_ago)
    with api.service.container.engine().begin() as connection:
        connection.execute(
            text(f"UPDATE {table} SET status = 'SENDING', updated_at = :at WHERE id = :id"), {"at": at, "id": message_id}
        )


def send_email(api: Api, headers: dict[str, str]) -> str:
    sent = data(api.service, SEND_EMAIL, {"input": {"to": ["ana@cliente.com.pa"], "subject": "Hola", "text": "Hola"}},
                headers=headers)["sendEmail"]
    assert sent["error"] is None
    return str(sent["emailMessage"]["id"])


def email_of(api: Api, headers: dict[str, str], message_id: str) -> dict[str, Any]:
    return data(api.service, EMAIL, {"id": message_id}, headers=headers)["getEmailMessageById"]["emailMessage"]


def test_messages_left_sending_become_uncertain_in_every_tenant_and_others_are_left_alone(
    make_service: Any, provider_server: ProviderServer  # noqa: F811
) -> None:
    clock = FakeClock(START)
    service = make_service(whatsapp_graph_url=provider_server.url)
    service.container.clock.override(providers.Object(clock))
    api = Api(service, clock, GraphApi(provider_server))
    api.connect()
    acme, globex = service.headers("acme"), service.headers("globex")
    clock.advance(timedelta(hours=3))

    stale_email, other_tenants_email = send_email(api, acme), send_email(api, globex)
    recent_email, queued_email = send_email(api, acme), send_email(api, acme)
    [stale_whatsapp] = api.send(c=api.client(), template=TEMPLATE)["messages"]
    [recent_whatsapp] = api.send(c=api.client("Otra", "6123-4568"), template=TEMPLATE)["messages"]
    claimed(api, "email_messages", stale_email, minutes_ago=61)
    claimed(api, "email_messages", other_tenants_email, minutes_ago=120)
    claimed(api, "email_messages", recent_email, minutes_ago=59)
    claimed(api, "whatsapp_messages", stale_whatsapp["id"], minutes_ago=90)
    claimed(api, "whatsapp_messages", recent_whatsapp["id"], minutes_ago=5)
    every_run_spent(api)

    assert sweep(api) == 1

    swept = email_of(api, acme, stale_email)
    assert swept["status"] == "UNCERTAIN" and "no run of its job is left" in swept["lastError"]
    assert email_of(api, globex, other_tenants_email)["status"] == "UNCERTAIN"
    assert email_of(api, acme, recent_email)["status"] == "SENDING"
    assert email_of(api, acme, queued_email)["status"] == "QUEUED"
    whatsapp = api.message(stale_whatsapp["id"])
    assert whatsapp["status"] == "UNCERTAIN" and "no run of its job is left" in whatsapp["errorTitle"]
    assert api.message(recent_whatsapp["id"])["status"] == "SENDING"
    assert api.graph.sent() == []  # the sweep never sends

    clock.advance(timedelta(minutes=15))
    assert sweep(api) == 1  # the next slot: nothing more to do
    assert email_of(api, acme, stale_email) == swept
    retried = data(service, RETRY_EMAIL, {"id": stale_email}, headers=acme)["retryEmail"]
    assert retried == {"emailMessage": {"status": "QUEUED"}, "error": None}


def test_the_sweep_is_scheduled() -> None:
    from application.deliveries.module import MODULE
    from application.shared.modules import assemble

    service = assemble([MODULE], uow_factory=None, values={"clock": object()})
    [sweep_schedule] = [s for s in service.schedules if s.kind == SWEEP_JOB]
    assert sweep_schedule.interval == timedelta(minutes=15)
