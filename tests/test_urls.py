from __future__ import annotations

import pytest

from archive.exceptions import InvalidInput, InvalidURL
from archive.urls import normalise_url, url_host, validate_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("  https://example.com/a  ", "https://example.com/a"),
        ("http://example.com", "http://example.com"),
        ("HTTPS://Example.com/Path?q=1", "HTTPS://Example.com/Path?q=1"),
        ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
        ("http://[::1]/", "http://[::1]/"),
    ],
)
def test_validate_url_accepts_http_and_strips(given: str, expected: str) -> None:
    assert validate_url(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("foo", "invalid URL 'foo': no scheme/host"),
        ("ftp://x", "unsupported scheme 'ftp' in 'ftp://x'"),
        ("mailto:someone@example.com", "unsupported scheme 'mailto'"),
        ("javascript:alert(1)", "unsupported scheme 'javascript'"),
        ("example.com:8080/a", "no scheme/host"),
        ("localhost:8080", "no scheme/host"),
        ("example.com/a", "no scheme/host"),
        ("", "empty"),
        ("   ", "empty"),
        ("http://", "no scheme/host"),
        ("http://exa mple.com/", "whitespace"),
        ("http://example.com:99999/", "invalid URL"),
        ("http://example.com:abc/", "invalid URL"),
        ("http://[::1/", "invalid URL"),
        ("//example.com/a", "no scheme/host"),
    ],
)
def test_validate_url_rejects_with_one_line(given: str, message: str) -> None:
    with pytest.raises(InvalidURL) as info:
        validate_url(given)
    text = str(info.value)
    assert message in text
    assert "\n" not in text
    # The CLI maps InvalidInput to exit status 2.
    assert isinstance(info.value, InvalidInput)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("HTTP://Example.COM/Story", "http://example.com/Story"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com?a=1", "https://example.com/?a=1"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        (
            "https://example.com/a?utm_source=tw&id=7&UTM_Medium=x&fbclid=1&page=2&gclid=g",
            "https://example.com/a?id=7&page=2",
        ),
        (
            "https://example.com/a?dclid=1&msclkid=2&mc_cid=3&mc_eid=4&igshid=5&_ga=6&yclid=7"
            "&ref_src=twsrc",
            "https://example.com/a",
        ),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?b=2&a=1"),
        ("https://example.com/a?q=caf%C3%A9&x=a+b", "https://example.com/a?q=caf%C3%A9&x=a+b"),
        ("https://example.com/a?flag&utm_x=1", "https://example.com/a?flag"),
        ("https://example.com/a?", "https://example.com/a"),
        ("https://bücher.example/Straße", "https://xn--bcher-kva.example/Straße"),
        ("https://EXAMPLE.com./a", "https://example.com/a"),
        ("https://user:Pw@Example.com/a", "https://user:Pw@example.com/a"),
        ("http://[2001:DB8::1]:80/a", "http://[2001:db8::1]/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
    ],
)
def test_normalise_url(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


def test_normalise_url_is_idempotent() -> None:
    url = "HTTPS://Bücher.Example:443/a/b?utm_campaign=x&z=1&a=2#top"
    once = normalise_url(url)
    assert normalise_url(once) == once


def test_normalise_url_rejects_what_validate_rejects() -> None:
    with pytest.raises(InvalidURL, match="unsupported scheme"):
        normalise_url("file:///etc/passwd")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://News.Example.com:8443/a", "news.example.com"),
        ("https://bücher.example/", "xn--bcher-kva.example"),
        ("http://[::1]:8080/", "::1"),
        ("http://user@host.example/", "host.example"),
    ],
)
def test_url_host(given: str, expected: str) -> None:
    assert url_host(given) == expected
