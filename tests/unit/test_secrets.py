"""The SecretBox (``FernetSecretBox``): round trip, context binding, rotation, nothing leaked."""

from __future__ import annotations

import logging

import pytest
import structlog
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.secrets.fernet import FernetSecretBox, generate_key, valid_key
from application.shared.secrets import SecretUnreadable

KEY_A = generate_key()
KEY_B = generate_key()
TOKEN = "aurinko-access-token-3f9a7c"
CONTEXT = "aurinko:tenant-1:connection-1"


def test_a_sealed_value_opens_to_the_same_plaintext_and_does_not_show_it() -> None:
    box = FernetSecretBox([KEY_A])

    sealed = box.seal(TOKEN, context=CONTEXT)

    assert TOKEN not in sealed and CONTEXT not in sealed
    assert box.open(sealed, context=CONTEXT) == TOKEN
    assert box.seal(TOKEN, context=CONTEXT) != sealed, "each seal is fresh (random IV)"


@settings(max_examples=200, deadline=None)
@given(plaintext=st.text(), context=st.text(min_size=0, max_size=80))
def test_every_text_round_trips_under_its_context(plaintext: str, context: str) -> None:
    box = FernetSecretBox([KEY_A])

    assert box.open(box.seal(plaintext, context=context), context=context) == plaintext


@settings(max_examples=100, deadline=None)
@given(plaintext=st.text(), context=st.text(max_size=40), other=st.text(max_size=40))
def test_a_value_never_opens_under_another_context(plaintext: str, context: str, other: str) -> None:
    box = FernetSecretBox([KEY_A])
    sealed = box.seal(plaintext, context=context)

    if other == context:
        assert box.open(sealed, context=other) == plaintext
    else:
        with pytest.raises(SecretUnreadable):
            box.open(sealed, context=other)


@pytest.mark.parametrize(
    "moved_to",
    [
        "aurinko:tenant-1:connection-2",  # another row of the same tenant
        "aurinko:tenant-2:connection-1",  # the same row id under another tenant
        "whatsapp:tenant-1:connection-1",  # another column / domain
        "aurinko:tenant-1:connection-1 ",  # not a prefix match either
        "aurinko:tenant-1:connection",
    ],
)
def test_a_ciphertext_moved_to_another_row_or_tenant_does_not_open(moved_to: str) -> None:
    box = FernetSecretBox([KEY_A])
    sealed = box.seal(TOKEN, context=CONTEXT)

    with pytest.raises(SecretUnreadable) as error:
        box.open(sealed, context=moved_to)
    assert TOKEN not in str(error.value)
    with pytest.raises(SecretUnreadable):
        box.reseal(sealed, context=moved_to)


def test_a_plain_fernet_token_without_a_context_frame_does_not_open() -> None:
    raw = Fernet(KEY_A).encrypt(TOKEN.encode()).decode()

    with pytest.raises(SecretUnreadable):
        FernetSecretBox([KEY_A]).open(raw, context=CONTEXT)


@pytest.mark.parametrize("tamper", ["flip", "truncate", "garbage", "empty", "non-ascii"])
def test_a_tampered_value_does_not_open(tamper: str) -> None:
    box = FernetSecretBox([KEY_A])
    sealed = box.seal(TOKEN, context=CONTEXT)
    bad = {
        "flip": sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:],
        "truncate": sealed[:-10],
        "garbage": "not-a-fernet-token",
        "empty": "",
        "non-ascii": sealed[:-1] + "é",
    }[tamper]

    with pytest.raises(SecretUnreadable):
        box.open(bad, context=CONTEXT)


def test_another_key_does_not_open_it() -> None:
    sealed = FernetSecretBox([KEY_A]).seal(TOKEN, context=CONTEXT)

    with pytest.raises(SecretUnreadable):
        FernetSecretBox([KEY_B]).open(sealed, context=CONTEXT)


def test_rotation_a_new_primary_key_still_opens_the_old_values_and_reseal_moves_them_to_it() -> None:
    old_box = FernetSecretBox([KEY_A])
    old = old_box.seal(TOKEN, context=CONTEXT)

    rotated = FernetSecretBox([KEY_B, KEY_A])  # the new key first, the old one kept after it
    assert rotated.open(old, context=CONTEXT) == TOKEN, "old ciphertexts still open"
    fresh = rotated.seal("another", context=CONTEXT)
    assert FernetSecretBox([KEY_B]).open(fresh, context=CONTEXT) == "another", "new values use the primary"
    with pytest.raises(SecretUnreadable):
        old_box.open(fresh, context=CONTEXT)

    resealed = rotated.reseal(old, context=CONTEXT)

    new_only = FernetSecretBox([KEY_B])
    assert new_only.open(resealed, context=CONTEXT) == TOKEN, "after rotation the new key alone opens it"
    with pytest.raises(SecretUnreadable):
        new_only.open(old, context=CONTEXT)
    with pytest.raises(SecretUnreadable):
        old_box.open(resealed, context=CONTEXT)


def test_keys_are_checked_and_the_error_names_the_position_never_the_key() -> None:
    assert valid_key(KEY_A) and not valid_key("short") and not valid_key("é" * 44)

    with pytest.raises(ValueError) as error:
        FernetSecretBox([KEY_A, "not-a-key-but-a-secret-value"])
    assert "#2" in str(error.value) and "not-a-key-but-a-secret-value" not in str(error.value)


def test_without_keys_nothing_is_sealed_or_opened() -> None:
    box = FernetSecretBox([])

    with pytest.raises(SecretUnreadable, match="ISTMO_SECRET_KEYS"):
        box.seal(TOKEN, context=CONTEXT)
    with pytest.raises(SecretUnreadable):
        box.open("anything", context=CONTEXT)


def test_nothing_secret_is_logged_or_put_in_an_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    box = FernetSecretBox([KEY_B, KEY_A])
    with structlog.testing.capture_logs() as logs:
        sealed = box.seal(TOKEN, context=CONTEXT)
        box.open(sealed, context=CONTEXT)
        box.reseal(sealed, context=CONTEXT)
        errors = []
        for attempt in (lambda: box.open(sealed, context="other"), lambda: box.open(sealed[:-3], context=CONTEXT)):
            try:
                attempt()
            except SecretUnreadable as error:
                errors.append(f"{error!s} {error!r} {error.__cause__!r} {error.__context__!r}")

    written = " ".join([caplog.text, *map(str, logs), *errors])
    for secret in (TOKEN, KEY_A, KEY_B, sealed):
        assert secret not in written
    assert len(errors) == 2
