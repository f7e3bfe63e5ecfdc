"""Which URLs a subscription may call: http(s) only, no credentials, a host, and only public addresses unless
private ones are allowed; the addresses are checked again at delivery (a name may resolve elsewhere by then)."""

from __future__ import annotations

import pytest

from ar.delivery.outbound_urls import OutboundUrlRefused, check_addresses, check_url

PUBLIC = "93.184.215.14"
NAMES = {"example.com": [PUBLIC], "intranet.example": ["10.1.2.3"], "sneaky.example": [PUBLIC, "127.0.0.1"],
         "localhost": ["127.0.0.1", "::1"]}


def resolver(host: str, _port: int) -> list[str]:
    if host not in NAMES:
        raise OSError(f"{host} does not resolve")
    return NAMES[host]


REFUSED = {
    "ftp://example.com/hook": "http and https",
    "file:///etc/passwd": "http and https",
    "http://user:pw@example.com/hook": "credentials",
    "https:///no-host": "no host",
    "http://example.com:99999/": "not a valid URL",
    "http://" + "a" * 64 + ".example/": "not a valid host name",
    "http://127.0.0.1/hook": "loopback",
    "http://10.0.0.1/hook": "private",
    "http://192.168.1.10:8080/": "private",
    "http://169.254.169.254/latest/meta-data": "link-local",
    "http://[::1]/hook": "loopback",
    "http://[::ffff:127.0.0.1]/hook": "loopback",
    "http://224.0.0.1/": "multicast",
    "http://0.0.0.0/": "unspecified",
    "http://localhost:9000/hook": "loopback",
    "http://intranet.example/hook": "private",
    "http://sneaky.example/hook": "loopback",
}


@pytest.mark.parametrize("url", REFUSED)
def test_refused_urls_name_the_url_field_and_why(url: str) -> None:
    with pytest.raises(OutboundUrlRefused) as refused:
        check_url(url, allow_private=False, resolver=resolver)
    assert refused.value.field == "url"
    assert REFUSED[url] in refused.value.detail


@pytest.mark.parametrize("url", ["https://example.com/hook", "http://example.com:8080/x?y=1",
                                 f"https://{PUBLIC}/hook", "https://not-yet-registered.example/hook"])
def test_public_urls_and_names_that_do_not_resolve_yet_are_accepted(url: str) -> None:
    assert check_url(url, allow_private=False, resolver=resolver) == url


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000/hook", "http://10.0.0.1/", "http://[::1]/",
                                 "http://localhost/"])
def test_private_addresses_are_accepted_when_configuration_allows_them(url: str) -> None:
    assert check_url(url, allow_private=True, resolver=resolver) == url


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "http://u:p@127.0.0.1/"])
def test_allowing_private_addresses_still_refuses_other_schemes_and_credentials(url: str) -> None:
    with pytest.raises(OutboundUrlRefused):
        check_url(url, allow_private=True, resolver=resolver)


def test_a_name_that_resolves_to_loopback_at_delivery_time_is_refused_then() -> None:
    check_url("https://rebind.example/hook", allow_private=False, resolver=lambda h, p: [PUBLIC])
    with pytest.raises(OutboundUrlRefused, match="loopback"):
        check_addresses("rebind.example", 443, allow_private=False, resolver=lambda h, p: ["127.0.0.1"])
