"""Rate limits (issue 19): per tenant on /graphql, per client address on the webhook routes, in
memory or in Redis; exactly at each limit a request passes and one past it is 429 with
Retry-After and an error naming the limit."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import redis

from entrypoints.config import ConfigurationError, Settings, Variables
from entrypoints.http.rate_limits import RateLimits
from tests.conftest import Service
from tests.integration.webhooks_helpers import POLAR_SECRET, WORKOS_SECRET, count
from tests.webhook_signing import polar_headers

ME = {"query": "{ me { tenantId } }"}
REDIS_URL = "redis://127.0.0.1:6379/0"


def _limited(make_service: Callable[..., Service], **variables: str) -> Service:
    return make_service(
        variables=Variables({f"ISTMO_{name}": value for name, value in variables.items()}),
        polar_webhook_secret=POLAR_SECRET, workos_webhook_secret=WORKOS_SECRET,
    )


def _graphql(service: Service, headers: dict[str, str], **environ: Any) -> Any:
    return service.client.post("/graphql", json=ME, headers=headers, environ_base=environ)


def test_a_tenant_gets_exactly_its_limit_then_429_naming_it(make_service: Callable[..., Service]) -> None:
    service = _limited(make_service, RATE_LIMIT_TENANT="3/minute")
    acme = service.headers("acme")
    answers = [_graphql(service, acme) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    refused = _graphql(service, acme)
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    error = refused.get_json()["errors"][0]
    assert error["extensions"] == {"code": "RATE_LIMITED", "limit": "3 requests per 1 minute per tenant",
                                   "retryAfter": retry_after}
    assert error["message"] == f"rate limit exceeded: at most 3 requests per 1 minute per tenant; retry in {retry_after} s"


def test_tenants_are_counted_apart(make_service: Callable[..., Service]) -> None:
    service = _limited(make_service, RATE_LIMIT_TENANT="2/minute")
    acme, beta = service.headers("acme"), service.headers("beta")
    assert [_graphql(service, acme).status_code for _ in range(3)] == [200, 200, 429]
    # a second token of the same tenant (another user) shares the tenant's count
    assert _graphql(service, service.headers("acme", subject="user-2")).status_code == 429
    assert [_graphql(service, beta).status_code for _ in range(2)] == [200, 200]


def test_without_a_valid_token_the_address_is_counted(make_service: Callable[..., Service]) -> None:
    service = _limited(make_service, RATE_LIMIT_TENANT="2/minute")
    bad = {"Authorization": "Bearer not-a-token"}
    assert [_graphql(service, bad).status_code for _ in range(2)] == [401, 401]
    assert _graphql(service, bad).status_code == 429
    assert _graphql(service, bad, REMOTE_ADDR="10.9.8.7").status_code == 401  # another address
    assert _graphql(service, service.headers("acme")).status_code == 200  # a tenant has its own count


def _polar(service: Service, n: int, **environ: Any) -> Any:
    body = b'{"type":"order.created","timestamp":"2026-12-01T10:00:00Z","data":{}}'
    return service.client.post("/webhooks/polar", data=body, headers=polar_headers(POLAR_SECRET, body, msg_id=f"m-{n}"),
                               environ_base=environ)


def test_webhooks_are_limited_per_address_across_routes(make_service: Callable[..., Service]) -> None:
    service = _limited(make_service, RATE_LIMIT_WEBHOOK_IP="3/hour")
    assert [_polar(service, n).status_code for n in range(2)] == [200, 200]
    # the third request counted is on another webhook route: the count is shared by them all
    assert service.client.post("/webhooks/workos", data=b"{}").status_code == 401
    refused = _polar(service, 3)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert refused.get_json()["error"]["code"] == "RATE_LIMITED"
    assert "at most 3 requests per 1 hour from one address to the webhook routes" in refused.get_json()["error"]["message"]
    assert count(service, "webhook_events") == 2  # the refused delivery is not stored
    assert _polar(service, 4, REMOTE_ADDR="192.0.2.10").status_code == 200
    # GraphQL is not counted against the webhook limit
    assert _graphql(service, service.headers("acme")).status_code == 200


def test_forwarded_for_is_trusted_only_with_proxy_hops(make_service: Callable[..., Service]) -> None:
    spoofed = {"HTTP_X_FORWARDED_FOR": f"198.51.100.{uuid.uuid4().int % 250}"}
    direct = _limited(make_service, RATE_LIMIT_WEBHOOK_IP="1/hour")
    assert direct.client.post("/webhooks/workos", data=b"{}", environ_base=spoofed).status_code == 401
    # a client choosing its own X-Forwarded-For is still the same address without PROXY_HOPS
    other = {"HTTP_X_FORWARDED_FOR": "203.0.113.99"}
    assert direct.client.post("/webhooks/workos", data=b"{}", environ_base=other).status_code == 429

    proxied = _limited(make_service, RATE_LIMIT_WEBHOOK_IP="1/hour", PROXY_HOPS="1")
    assert proxied.client.post("/webhooks/workos", data=b"{}", environ_base=spoofed).status_code == 401
    assert proxied.client.post("/webhooks/workos", data=b"{}", environ_base=other).status_code == 401
    assert proxied.client.post("/webhooks/workos", data=b"{}", environ_base=other).status_code == 429


def test_a_limit_switched_off_is_not_counted(make_service: Callable[..., Service]) -> None:
    service = _limited(make_service, RATE_LIMIT_TENANT="off", RATE_LIMIT_WEBHOOK_IP="off")
    acme = service.headers("acme")
    assert {_graphql(service, acme).status_code for _ in range(30)} == {200}


def test_redis_shares_the_count_between_processes(make_service: Callable[..., Service]) -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {error}")
    tenant = f"r{uuid.uuid4().hex[:12]}"  # a fresh count in the shared Redis
    one = _limited(make_service, RATE_LIMIT_TENANT="3/minute", REDIS_URL=REDIS_URL)
    two = _limited(make_service, RATE_LIMIT_TENANT="3/minute", REDIS_URL=REDIS_URL)
    assert [_graphql(one, one.headers(tenant)).status_code for _ in range(2)] == [200, 200]
    assert _graphql(two, two.headers(tenant)).status_code == 200  # the third, counted in Redis
    assert _graphql(two, two.headers(tenant)).status_code == 429
    assert _graphql(one, one.headers(tenant)).status_code == 429


@pytest.mark.parametrize("value", ["lots", "10/fortnight", "-1/minute", "１０/minute"])
def test_a_limit_that_does_not_parse_stops_the_start_naming_the_variable(value: str) -> None:
    settings = Settings(variables=Variables({"ISTMO_RATE_LIMIT_TENANT": value}))
    with pytest.raises(ConfigurationError, match="ISTMO_RATE_LIMIT_TENANT must be a rate like 600/minute"):
        RateLimits.from_settings(settings)


def test_defaults() -> None:
    limits = RateLimits.from_settings(Settings())
    assert (str(limits.tenant), str(limits.webhook_address)) == ("1200 per 1 minute", "1200 per 1 minute")
    assert (limits.storage_uri, limits.proxy_hops) == ("memory://", 0)
