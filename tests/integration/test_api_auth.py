"""Authentication through the HTTP API: every refused token is a 401 naming the reason.

HS256 mode (the default) with tokens made here, and RS256 against a JWKS served by a local
HTTP server started by the test (what WorkOS publishes), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text

from adapters.auth.jwt import HmacJwtVerifier
from tests.integration.api import gql

ME = "{ me { tenantId userId role } }"
OTHER_SECRET = "another-secret-that-is-also-long-enough-for-hs256"


def post_me(service: Any, authorization: str | None) -> Any:
    headers = {} if authorization is None else {"Authorization": authorization}
    return service.client.post("/graphql", json={"query": ME}, headers=headers)


def assert_refused(response: Any, code: str, *, leaked: tuple[str, ...] = ()) -> dict[str, Any]:
    """A 401 with a JSON error naming ``code`` and a WWW-Authenticate challenge; nothing echoed."""
    assert response.status_code == 401, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert body["error"]["message"]
    challenge = response.headers.get("WWW-Authenticate", "")
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
    everything = response.get_data(as_text=True) + "".join(f"{k}: {v}" for k, v in response.headers.items())
    for secret in leaked:
        assert secret not in everything
    return body["error"]


def hs256(payload: dict[str, Any], secret: str, **headers: Any) -> str:
    return jwt.encode(payload, secret, algorithm="HS256", headers=headers or None)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    payload = {"sub": "user-1", "org_id": "acme", "role": "owner", "iat": now, "exp": now + 600}
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not None}


# --- HS256 mode ---------------------------------------------------------------------------


@pytest.fixture
def secret(service: Any) -> str:
    value = service.container.settings().jwt_secret
    assert value
    return value


def test_a_valid_token_authenticates(service: Any, secret: str) -> None:
    tenant_id = service.tenant("acme")
    response = post_me(service, f"Bearer {hs256(claims(role='admin'), secret)}")
    assert response.status_code == 200
    assert response.get_json()["data"]["me"] == {"tenantId": tenant_id, "userId": "user-1", "role": "admin"}


def test_a_missing_authorization_header_is_refused(service: Any) -> None:
    service.tenant("acme")
    error = assert_refused(post_me(service, None), "MISSING_TOKEN")
    assert "Authorization" in error["message"]


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "Token abc.def.ghi", "bearer"]
)
def test_a_malformed_authorization_header_is_refused(service: Any, authorization: str) -> None:
    error = assert_refused(post_me(service, authorization), "MALFORMED_HEADER")
    assert "Bearer <token>" in error["message"]


def test_a_token_that_is_not_a_jwt_is_refused(service: Any) -> None:
    assert_refused(post_me(service, "Bearer not-a-jwt"), "INVALID_TOKEN", leaked=("not-a-jwt",))


def test_an_expired_token_is_refused(service: Any, secret: str) -> None:
    service.tenant("acme")
    token = hs256(claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), secret)
    error = assert_refused(post_me(service, f"Bearer {token}"), "TOKEN_EXPIRED", leaked=(token, secret))
    assert "expired" in error["message"]


def test_a_token_signed_with_another_secret_is_refused(service: Any, secret: str) -> None:
    service.tenant("acme")
    token = hs256(claims(), OTHER_SECRET)
    error = assert_refused(
        post_me(service, f"Bearer {token}"), "BAD_SIGNATURE", leaked=(token, secret, OTHER_SECRET)
    )
    assert "signature" in error["message"]


def test_a_token_with_an_altered_payload_is_refused(service: Any, secret: str) -> None:
    service.tenant("acme")
    service.tenant("globex")
    header, _payload, signature = hs256(claims(), secret).split(".")
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims(org_id="globex")).encode()).decode()
    token = f"{header}.{forged_payload}.{signature}"
    assert_refused(post_me(service, f"Bearer {token}"), "BAD_SIGNATURE", leaked=(token, secret))


def test_an_unsigned_alg_none_token_is_refused(service: Any, secret: str) -> None:
    service.tenant("acme")
    token = jwt.encode(claims(), None, algorithm="none")
    assert token.endswith(".")  # no signature at all
    error = assert_refused(post_me(service, f"Bearer {token}"), "BAD_SIGNATURE", leaked=(token, secret))
    assert "HS256" in error["message"]


def test_a_token_without_org_id_is_refused(service: Any, secret: str) -> None:
    service.tenant("acme")
    token = hs256(claims(org_id=None), secret)
    error = assert_refused(post_me(service, f"Bearer {token}"), "INVALID_TOKEN", leaked=(token, secret))
    assert "org_id" in error["message"]


@pytest.mark.parametrize("missing", ["sub", "exp"])
def test_a_token_without_a_required_claim_is_refused(service: Any, secret: str, missing: str) -> None:
    service.tenant("acme")
    token = hs256(claims(**{missing: None}), secret)
    error = assert_refused(post_me(service, f"Bearer {token}"), "INVALID_TOKEN", leaked=(token, secret))
    assert missing in error["message"]


def test_a_token_for_an_unknown_tenant_is_refused(service: Any, secret: str) -> None:
    service.tenant("acme")
    token = HmacJwtVerifier(secret).issue(tenant="nobody", subject="user-1", role="owner", ttl_seconds=600)
    error = assert_refused(post_me(service, f"Bearer {token}"), "UNKNOWN_TENANT", leaked=(token, secret))
    assert "tenant" in error["message"]


def test_an_authentication_failure_runs_nothing(service: Any) -> None:
    """A refused request never reaches the resolvers: a mutation without a token changes nothing."""
    from tests.integration.api import ADD_FILE, assert_nothing_left, upload

    service.tenant("acme")
    response = upload(service, ADD_FILE, b"%PDF-1.7 x", headers={"Authorization": "Bearer nope"})
    assert_refused(response, "INVALID_TOKEN")
    assert_nothing_left(service)


def test_a_deactivated_user_is_refused(service: Any, secret: str) -> None:
    from application.tenancy.handlers import EnsureUser

    service.tenant("acme")
    user = service.container.bus().handle(EnsureUser(actor=None, tenant_slug="acme", email="ana@example.com"))
    by_id = f"Bearer {hs256(claims(sub=user.user_id), secret)}"
    by_email = f"Bearer {hs256(claims(sub='ana@example.com'), secret)}"
    assert post_me(service, by_id).status_code == 200

    with service.container.engine().begin() as connection:
        connection.execute(
            text("UPDATE users SET active = :no WHERE id = :id"), {"no": False, "id": user.user_id}
        )

    assert_refused(post_me(service, by_id), "USER_DEACTIVATED")
    assert_refused(post_me(service, by_email), "USER_DEACTIVATED")
    assert post_me(service, f"Bearer {hs256(claims(sub='someone-else'), secret)}").status_code == 200


# --- RS256 against a JWKS -----------------------------------------------------------------


class Jwks:
    """A JWKS endpoint on a free loopback port; ``keys`` can be changed while it runs."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.requests = 0
        jwks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                jwks.requests += 1
                body = json.dumps({"keys": jwks.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    return (
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


@pytest.fixture
def jwks(rsa_keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]) -> Iterator[Jwks]:
    server = Jwks()
    public = jwt.algorithms.RSAAlgorithm.to_jwk(rsa_keys[0].public_key(), as_dict=True)
    server.keys = [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]
    yield server
    server.close()


@pytest.fixture
def workos(make_service: Any, jwks: Jwks) -> Any:
    service = make_service(jwks_url=jwks.url, jwt_secret=None)
    service.tenant("acme", external_id="org_123")
    return service


def rs256(key: rsa.RSAPrivateKey, *, kid: str | None = "k1", **overrides: Any) -> str:
    payload = claims(**{"sub": "user_01HZX", "org_id": "org_123", "role": "admin", **overrides})
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid} if kid else None)


def test_a_workos_token_authenticates_against_the_jwks(workos: Any, jwks: Jwks, rsa_keys: Any) -> None:
    response = post_me(workos, f"Bearer {rs256(rsa_keys[0])}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["data"]["me"] == {
        "tenantId": workos.tenant("acme"),
        "userId": "user_01HZX",
        "role": "admin",
    }
    assert jwks.requests >= 1


def test_a_workos_token_may_name_the_tenant_by_slug(workos: Any, rsa_keys: Any) -> None:
    globex = workos.tenant("globex")
    response = post_me(workos, f"Bearer {rs256(rsa_keys[0], org_id='globex', role='member')}")
    assert response.status_code == 200
    assert response.get_json()["data"]["me"]["tenantId"] == globex
    assert response.get_json()["data"]["me"]["role"] == "member"


def test_a_workos_token_with_an_unknown_kid_is_refused(workos: Any, rsa_keys: Any) -> None:
    token = rs256(rsa_keys[0], kid="k-unknown")
    assert_refused(post_me(workos, f"Bearer {token}"), "BAD_SIGNATURE", leaked=(token,))


def test_a_workos_token_signed_by_another_key_is_refused(workos: Any, rsa_keys: Any) -> None:
    token = rs256(rsa_keys[1])  # claims the published kid, signed by a key that is not published
    assert_refused(post_me(workos, f"Bearer {token}"), "BAD_SIGNATURE", leaked=(token,))


def test_a_workos_token_signed_with_hs256_using_the_public_key_is_refused(workos: Any, rsa_keys: Any) -> None:
    """Algorithm confusion: the published key used as an HMAC secret must not verify."""
    pem = (
        rsa_keys[0]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    payload = jwt.utils.base64url_encode(json.dumps(claims(sub="user_01HZX", org_id="org_123")).encode())
    signature = jwt.utils.base64url_encode(hmac.new(pem, header + b"." + payload, hashlib.sha256).digest())
    token = (header + b"." + payload + b"." + signature).decode()
    assert_refused(post_me(workos, f"Bearer {token}"), "BAD_SIGNATURE", leaked=(token,))


def test_an_expired_workos_token_is_refused(workos: Any, rsa_keys: Any) -> None:
    token = rs256(rsa_keys[0], exp=int(time.time()) - 3600)
    assert_refused(post_me(workos, f"Bearer {token}"), "TOKEN_EXPIRED", leaked=(token,))


def test_a_workos_token_for_an_unknown_organization_is_refused(workos: Any, rsa_keys: Any) -> None:
    token = rs256(rsa_keys[0], org_id="org_999")
    assert_refused(post_me(workos, f"Bearer {token}"), "UNKNOWN_TENANT", leaked=(token,))


def test_an_hs256_token_is_refused_in_jwks_mode(workos: Any) -> None:
    token = hs256(claims(org_id="org_123"), "test-jwt-secret-that-is-long-enough-for-hs256", kid="k1")
    assert_refused(post_me(workos, f"Bearer {token}"), "BAD_SIGNATURE", leaked=(token,))


def test_a_workos_deactivated_user_is_refused(workos: Any, rsa_keys: Any) -> None:
    from application.tenancy.handlers import EnsureUser

    user = workos.container.bus().handle(EnsureUser(actor=None, tenant_slug="acme", email="ana@example.com"))
    with workos.container.engine().begin() as connection:
        connection.execute(
            text("UPDATE users SET external_id = :sub, active = :no WHERE id = :id"),
            {"sub": "user_01HZX", "no": False, "id": user.user_id},
        )
    assert_refused(post_me(workos, f"Bearer {rs256(rsa_keys[0])}"), "USER_DEACTIVATED")


def test_graphql_operations_are_authenticated_in_jwks_mode(workos: Any, rsa_keys: Any) -> None:
    payload = gql(workos, "{ entityTypes }", headers={"Authorization": f"Bearer {rs256(rsa_keys[0])}"})
    assert "INVOICE" in payload["data"]["entityTypes"]


@pytest.mark.parametrize(
    "exp, refusal",
    [
        (lambda now: now + 31 * 24 * 3600 - 60, None),  # just inside the longest lifetime
        (lambda now: now + 31 * 24 * 3600 + 60, "INVALID_TOKEN"),  # just past it
        (lambda now: 32503680000, "INVALID_TOKEN"),  # the year 3000
        (lambda now: str(now + 600), "INVALID_TOKEN"),  # a number, but as a string
        (lambda now: float(now + 600), "INVALID_TOKEN"),
        (lambda now: True, "TOKEN_EXPIRED"),  # PyJWT reads a boolean as 1 (1970)
    ],
)
def test_a_token_must_expire_as_a_whole_number_within_31_days(
    service: Any, secret: str, exp: Any, refusal: str | None
) -> None:
    service.tenant("acme")
    response = post_me(service, f"Bearer {hs256(claims(exp=exp(int(time.time()))), secret)}")
    if refusal is None:
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        assert_refused(response, refusal)


def test_istmo_token_issues_no_token_longer_than_31_days(secret: str) -> None:
    from adapters.auth.jwt import HmacJwtVerifier

    verifier = HmacJwtVerifier(secret)
    assert verifier.verify(verifier.issue(tenant="acme", subject="u", role="owner", ttl_seconds=31 * 24 * 3600))
    for ttl in (31 * 24 * 3600 + 1, 0, -5):
        with pytest.raises(ValueError, match="between 1 second and 31 days"):
            verifier.issue(tenant="acme", subject="u", role="owner", ttl_seconds=ttl)
