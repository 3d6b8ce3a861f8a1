"""The egress policy: a host a tenant configures may not be an internal address, in any notation."""

from __future__ import annotations

import pytest

from adapters.egress.policy import EgressPolicy, EgressRefused


def resolving(*addresses: str):  # type: ignore[no-untyped-def]
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    "host, reason",
    [
        ("127.0.0.1", "loopback"), ("127.1", "loopback"), ("2130706433", "loopback"), ("0x7f.1", "loopback"),
        ("017700000001", "loopback"), ("[::1]", "loopback"), ("::ffff:127.0.0.1", "loopback"),
        ("2002:7f00:1::1", "loopback"),  # 6to4 carrying 127.0.0.1
        ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
        ("10.0.0.5", "private"), ("172.16.0.1", "private"), ("172.31.255.255", "private"),
        ("192.168.1.1", "private"), ("fc00::1", "private"), ("100.64.0.1", "shared"),
        ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"), ("localhost", "not a public host name"), ("Mail.LOCALHOST.", "not a public"),
        ("metadata.google.internal", "not a public"), ("printer.local", "not a public"), ("mailhog", "not a public"),
    ],
)
def test_an_internal_host_is_refused_before_any_look_up(host: str, reason: str) -> None:
    policy = EgressPolicy(resolver=lambda host, port: pytest.fail("no look-up for an internal host"))
    with pytest.raises(EgressRefused, match=reason):
        policy.addresses(host, 25)


@pytest.mark.parametrize("edge, refused", [("172.15.255.255", False), ("172.32.0.0", False), ("100.63.255.255", False),
                                          ("100.128.0.0", False), ("172.16.0.0", True), ("100.127.255.255", True)])
def test_the_private_ranges_end_where_they_end(edge: str, refused: bool) -> None:
    policy = EgressPolicy()
    if refused:
        with pytest.raises(EgressRefused):
            policy.addresses(edge, 25)
    else:
        assert policy.addresses(edge, 25) == [edge]


def test_a_name_is_refused_when_any_of_its_addresses_is_internal() -> None:
    assert EgressPolicy(resolver=resolving("93.184.216.34")).addresses("smtp.acme.pa", 587) == ["93.184.216.34"]
    for inside in ("127.0.0.1", "10.1.2.3", "::ffff:169.254.169.254"):
        with pytest.raises(EgressRefused, match="'smtp.acme.pa' resolves to"):
            EgressPolicy(resolver=resolving("93.184.216.34", inside)).addresses("smtp.acme.pa", 587)


def test_a_name_that_does_not_resolve_is_refused_naming_it() -> None:
    def fails(host: str, port: int) -> list[str]:
        raise OSError("no DNS")

    with pytest.raises(EgressRefused, match="'smtp.nowhere.pa' does not resolve"):
        EgressPolicy(resolver=fails).addresses("smtp.nowhere.pa", 25)
    with pytest.raises(EgressRefused, match="does not resolve"):
        EgressPolicy(resolver=resolving()).addresses("smtp.nowhere.pa", 25)


def test_the_allow_list_lets_a_deployment_reach_its_private_relay() -> None:
    policy = EgressPolicy(["10.0.0.0/8", "relay.corp", " "], resolver=resolving("192.168.5.5"))
    assert policy.addresses("10.9.8.7", 25) == ["10.9.8.7"]
    assert policy.addresses("relay.corp", 25) == ["192.168.5.5"]  # a host allowed by name: any address
    with pytest.raises(EgressRefused):
        policy.addresses("192.168.0.1", 25)  # outside the allowed network
    with pytest.raises(EgressRefused, match="resolves to a private address"):
        policy.addresses("other.corp.pa", 25)
