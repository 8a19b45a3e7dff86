import ipaddress

import pytest
from common.urls import UrlRefused, check_callback_url, check_image_url, is_public

NONE: frozenset[str] = frozenset()


async def _refused(url: str, *, allow_http: bool = False, allowed_hosts: frozenset[str] = NONE) -> UrlRefused:
    with pytest.raises(UrlRefused) as err:
        await check_image_url(url, allow_http=allow_http, allowed_hosts=allowed_hosts)
    assert (err.value.status, err.value.code, err.value.field) == (400, "InvalidImageUrl", "imageUrl")
    return err.value


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1:8100/x.png",
        "https://[::1]/x.png",
        "https://[::ffff:127.0.0.1]/x.png",
        "https://[fe80::1]/x.png",
        "https://[2002:7f00:1::]/x.png",
        "https://[64:ff9b::a00:1]/x.png",
        "https://10.0.0.1/x.png",
        "https://172.16.0.1/x.png",
        "https://192.168.1.1/x.png",
        "https://100.64.0.1/x.png",
        "https://0.0.0.0/x.png",
        "https://224.0.0.1/x.png",
        "https://240.0.0.1/x.png",
        "https://255.255.255.255/x.png",
        "https://2130706433/x.png",
        "https://0x7f.1/x.png",
        "https://127.1/x.png",
    ],
)
async def test_addresses_inside_a_network_are_refused(url: str) -> None:
    err = await _refused(url)
    assert "not a public address" in err.detail and "Use an https:// URL of a public host." in err.detail


async def test_a_decimal_loopback_over_http_is_refused_even_when_http_is_allowed() -> None:
    await _refused("http://2130706433/", allow_http=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/x",
        "https://LOCALHOST./x",
        "https://a.localhost/x",
        "https://printer.local/x",
        "https://foo.internal/x",
        "https://metadata.google.internal/computeMetadata/v1/",
    ],
)
async def test_local_names_are_refused_without_resolving(url: str) -> None:
    assert "is not public" in (await _refused(url)).detail


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    assert "does not resolve" in (await _refused("https://nonexistent.invalid/x")).detail


@pytest.mark.parametrize(
    "url",
    [
        "",
        "https://",
        "https:///x",
        "https://a b.com/x",
        "https://x.com/\r\nHost: y",
        "https://x.com/\tx",
        "https://x.com/x\x00.png",
        " https://8.8.8.8/x.png",
        "https://8.8.8.8/" + "x" * 2040,
        "ftp://8.8.8.8/x.png",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "gopher://8.8.8.8/x",
        "8.8.8.8/x.png",
        "//8.8.8.8/x.png",
        "http://8.8.8.8/x.png",
        "https://user:pw@8.8.8.8/x",
        "https://@8.8.8.8/x",
        "https://[::1/x",
        "https://8.8.8.8:99999/x",
        "https://8.8.8.8:0/x",
        "https://8.8.8.8:http/x",
        "https://x..com/x",
        "https://x_\\.com/x",
        "oss://",
        "oss://bucket",
        "oss://bucket/",
    ],
)
async def test_malformed_urls_and_other_schemes_are_refused(url: str) -> None:
    await _refused(url)


@pytest.mark.parametrize(
    ("url", "allow_http", "allowed_hosts"),
    [
        ("https://8.8.8.8/x.png", False, NONE),
        ("https://93.184.216.34:8443/a/b.jpg?sig=abc#frag", False, NONE),
        ("https://[2001:4860:4860::8888]/x.png", False, NONE),
        ("http://8.8.8.8/x.png", True, NONE),
        ("http://127.0.0.1:8100/x.png", True, frozenset({"127.0.0.1"})),
        ("https://Emulator:8100/x.png", False, frozenset({"emulator"})),
        ("oss://dashscope-instant/abc/x.png", False, NONE),
    ],
)
async def test_public_and_allowed_urls_are_returned_unchanged(
    url: str, allow_http: bool, allowed_hosts: frozenset[str]
) -> None:
    assert await check_image_url(url, allow_http=allow_http, allowed_hosts=allowed_hosts) == url


async def test_the_error_names_the_field_it_was_given() -> None:
    with pytest.raises(UrlRefused) as err:
        await check_image_url("ftp://x", allow_http=False, allowed_hosts=NONE, field="ossUrl")
    assert err.value.field == "ossUrl"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("::ffff:8.8.8.8", True),
        ("fec0::1", False),
        ("2001::1", False),
        ("100.127.255.255", False),
        ("198.18.0.1", False),
        ("::", False),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


async def test_a_callback_url_is_refused_with_its_own_code_and_never_as_oss() -> None:
    for url in ("https://10.0.0.1/x", "oss://bucket/x", "http://8.8.8.8/hook"):
        with pytest.raises(UrlRefused) as err:
            await check_callback_url(url, allow_http=False, allowed_hosts=NONE)
        assert (err.value.status, err.value.code, err.value.field) == (
            400,
            "InvalidCallbackUrl",
            "callbackUrl",
        )


async def test_a_checked_callback_url_carries_the_addresses_to_connect_to() -> None:
    checked = await check_callback_url("https://8.8.8.8/hook", allow_http=False, allowed_hosts=NONE)
    assert checked.url == "https://8.8.8.8/hook"
    assert checked.addresses == (ipaddress.ip_address("8.8.8.8"),)
    exempt = await check_callback_url(
        "http://127.0.0.1:9/hook", allow_http=True, allowed_hosts=frozenset({"127.0.0.1"})
    )
    assert exempt.addresses == ()
