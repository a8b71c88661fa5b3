"""URLs: what the ledger accepts, how it keys them for dedupe, and which platform they belong to."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.coach.kinds import Platform
from bot.coach.urls import (
    _PLATFORM_HOSTS,
    _TRACKING_PARAMS,
    MAX_URL_LENGTH,
    InvalidURL,
    _kept_query,
    counterpart_of,
    is_slack_internal,
    looks_like_link,
    platform_of,
    read_link,
    unwrap_slack_link,
    url_key,
    validate_url,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<https://x.com/ana/status/1|x.com/ana/status/1>", "https://x.com/ana/status/1"),
        ("<https://example.org/post>", "https://example.org/post"),
        ("https://example.org/post", "https://example.org/post"),
    ],
)
def test_slack_wrapping_is_unwrapped(raw: str, expected: str) -> None:
    assert unwrap_slack_link(raw) == expected
    assert validate_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "ftp://example.org/file",
        "javascript:alert(1)",
        "https://",
        "https://localhost/x",
        "http://exa mple.org",
        "https://x.com/a\x00b",
        "https://x.com/a\tb",
        "https://x.com:99999/",
        "not a url",
        "https://x.com/" + "a" * MAX_URL_LENGTH,
    ],
)
def test_invalid_urls_are_refused_with_a_reason(raw: str) -> None:
    with pytest.raises(InvalidURL) as raised:
        validate_url(raw)
    assert str(raised.value)


@pytest.mark.parametrize(
    ("url", "platform"),
    [
        ("https://x.com/ana/status/1", Platform.X),
        ("https://twitter.com/ana/status/1", Platform.X),
        ("https://mobile.twitter.com/ana", Platform.X),
        ("https://www.linkedin.com/posts/ana_activity-1", Platform.LINKEDIN),
        ("https://facebook.com/acme/posts/1", Platform.FACEBOOK),
        ("https://www.instagram.com/p/abc/", Platform.INSTAGRAM),
        ("https://youtu.be/dQw4w9WgXcQ", Platform.YOUTUBE),
        ("https://www.youtube.com/watch?v=1", Platform.YOUTUBE),
        ("https://www.tiktok.com/@ana/video/1", Platform.TIKTOK),
        ("https://mastodon.social/@ben/1123", Platform.MASTODON),
        ("https://fosstodon.org/@carla@hachyderm.io/42", Platform.MASTODON),
        ("https://blog.acme.dev/2026/11/why-we-reply", Platform.BLOG),
        (None, Platform.NONE),
    ],
)
def test_platform_is_inferred_from_the_host(url: str | None, platform: Platform) -> None:
    assert platform_of(url) is platform


def test_url_key_ignores_case_tracking_fragments_and_twitter_vs_x() -> None:
    a = url_key("https://Twitter.com/ana/status/1?utm_source=news&s=20#reply")
    b = url_key("http://www.x.com/ana/status/1/")
    assert a == b == "https://x.com/ana/status/1"
    assert url_key("https://blog.acme.dev/p?id=2") != url_key("https://blog.acme.dev/p?id=3")


def test_counterpart_is_the_person_not_the_post() -> None:
    assert counterpart_of("https://x.com/Ana/status/1") == counterpart_of("https://twitter.com/ana/status/2")
    assert counterpart_of("https://mastodon.social/@ben/1") == "mastodon.social/@ben"
    assert counterpart_of("https://www.linkedin.com/in/carla-m/") == "linkedin.com/in/carla-m"
    assert counterpart_of("https://blog.acme.dev/post") == "blog.acme.dev"
    assert counterpart_of(None) == ""


def test_slack_archive_links_are_internal() -> None:
    assert is_slack_internal("https://acme-social.slack.com/archives/C1/p1763900000000100")
    assert is_slack_internal("https://slack.com/help")
    assert not is_slack_internal("https://notslack.com/")


@given(st.text(max_size=300))
def test_validate_url_either_returns_a_safe_url_or_refuses(raw: str) -> None:
    try:
        url = validate_url(raw)
    except InvalidURL:
        return
    assert url.lower().startswith(("http://", "https://"))
    assert len(url) <= MAX_URL_LENGTH
    assert not any(ord(ch) < 0x21 for ch in url)
    url_key(url)
    platform_of(url)
    counterpart_of(url)


SCHEMES = ("https://", "http://", "HTTPS://", "mailto:", "<", ">", "|")
HOSTS = (
    "www.",
    "m.",
    "mobile.",
    "x.com",
    "X.Com",
    "twitter.com",
    "blog.example.com",
    "slack.com",
    "[::1]",
    "user@",
    ".",
)
REST = (
    *(":443", ":80", ":8080", ":x", "/@ana", "/@ana@mastodon.social", "/ana/status/1", "/", "//", "é", " ", "\t"),
    *("?utm_source=a&id=2", "&fbclid=1", "#top", "?v=abc", "?a", "?a=b=c", "&&", "?=x", "?UTM_Medium=z", "?q=a+b"),
    *("%41", "%zz", ";x", "=", "~", "\x7f", "\u3000"),
)
PIECES = SCHEMES + HOSTS + REST
urlish = st.builds("".join, st.lists(st.sampled_from(PIECES), max_size=8)) | st.text(max_size=60)


@given(urlish)
def test_read_link_is_validate_key_platform_and_internal_at_once(raw: str) -> None:
    try:
        url = validate_url(raw)
    except InvalidURL:
        with pytest.raises(InvalidURL):
            read_link(raw)
        return
    assert read_link(raw) == (url, url_key(url), platform_of(url), is_slack_internal(url))


QUERY_PIECES = ("a", "V", "utm_x", "UTM_Y", "fbclid", "S", "=", "&", "&&", "+", "%20", "%zz", ";", "~", "é", "-._")


@given(st.builds("".join, st.lists(st.sampled_from(QUERY_PIECES), max_size=10)) | st.text(max_size=30))
def test_plain_queries_are_kept_as_parse_qsl_and_urlencode_would_write_them(query: str) -> None:
    """`_kept_query` skips parsing a query of plain fields: the answer must be the one parsing gives."""
    fields = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in fields if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_PARAMS]
    assert _kept_query(query) == urlencode(kept)


def test_no_platform_host_is_a_parent_domain_of_another() -> None:
    """platform_of walks a host's parent domains and stops at the first known one: there must be one at most."""
    hosts = list(_PLATFORM_HOSTS)
    assert not [(a, b) for a in hosts for b in hosts if a.endswith("." + b)]


@given(urlish)
def test_every_url_the_ledger_keeps_looks_like_a_link(raw: str) -> None:
    """So `/coach log <kind> <url>` reads it as the link: none is ever kept as a note instead."""
    try:
        url = validate_url(raw)
    except InvalidURL:
        return
    assert looks_like_link(url)


@given(st.text(alphabet=st.characters(exclude_characters=":/"), max_size=40))
def test_a_word_without_colon_or_slash_is_a_link_only_if_it_starts_with_www_or_is_a_platform(word: str) -> None:
    bare = word.strip().lower()
    host = bare.removeprefix("www.").removeprefix("m.").removeprefix("mobile.").rstrip(".")
    assert looks_like_link(word) == (bare.startswith("www.") or host in _PLATFORM_HOSTS)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("javascript:alert(1)", True),
        ("mailto:a@b.c", True),
        ("data:text/html,<b>", True),
        ("https:/x.com/a", True),
        ("https:x.com/a", True),
        ("://x.com", True),
        ("x.com/ana", True),
        ("LinkedIn.com/in/ana", True),
        ("foo:/bar", True),  # any scheme followed by a slash
        ("re:invent", False),
        ("3:1", False),
        ("tip:", False),
        ("Node.js/Deno", False),
        ("and/or", False),
        ("é:/x", False),  # not a scheme: schemes are ASCII
    ],
)
def test_what_looks_like_a_link(word: str, expected: bool) -> None:
    assert looks_like_link(word) is expected
