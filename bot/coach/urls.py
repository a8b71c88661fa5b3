"""URLs as the ledger sees them: validated, unwrapped from Slack markup, keyed for dedupe, tagged by platform.

Two people (or one person twice) sharing `https://X.com/ana/status/1?utm_source=a` and
`https://x.com/ana/status/1` shared the same thing; `url_key` makes that visible to a unique index.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

from bot.coach.kinds import Platform

MAX_URL_LENGTH = 2048

# <https://example.com|label> or <https://example.com> as Slack writes links in message and command text.
# Linear on any text: neither the target nor the label can hold `<`, so a match tried at one `<` reads no
# further than the next `<`, and 20 KB of `<https://` costs one pass instead of a pass per `<`.
SLACK_LINK = re.compile(r"<((?:https?|mailto|tel|slack)://?[^|<>\s]*)(?:\|[^<>]*)?>", re.IGNORECASE)
_WRAPPED = re.compile(r"^<([^|<>\s]+)(?:\|[^<>]*)?>$")
_TRACKING_PARAMS = frozenset({"fbclid", "gclid", "igshid", "mc_cid", "mc_eid", "ref_src", "si", "s", "t"})

_PLATFORM_HOSTS: dict[str, Platform] = {
    "x.com": Platform.X,
    "twitter.com": Platform.X,
    "t.co": Platform.X,
    "linkedin.com": Platform.LINKEDIN,
    "lnkd.in": Platform.LINKEDIN,
    "facebook.com": Platform.FACEBOOK,
    "fb.com": Platform.FACEBOOK,
    "fb.me": Platform.FACEBOOK,
    "instagram.com": Platform.INSTAGRAM,
    "youtube.com": Platform.YOUTUBE,
    "youtu.be": Platform.YOUTUBE,
    "tiktok.com": Platform.TIKTOK,
    "slack.com": Platform.SLACK,
}
_MASTODON_PATH = re.compile(r"^/@[A-Za-z0-9_.]+(?:@[A-Za-z0-9.-]+)?(?:/|$)")
# What validate_url refuses inside a URL: whitespace (as str.isspace() sees it), control characters, DEL.
_UNSAFE_CHARACTER = re.compile(r"[\s\x00-\x20\x7f]")
_HOST_PREFIXES = ("www.", "m.", "mobile.")
# A URL urlsplit would read as http(s), a host of letters, digits, dots and dashes (no user, no port), a path and
# a query, and validate_url would accept: nothing in it is unsafe, and there is no fragment.
_PLAIN_URL = re.compile(r"(?i:https?)://([A-Za-z0-9.-]+)(/[^?#\s\x00-\x20\x7f]*)?(?:\?([^#\s\x00-\x20\x7f]*))?")
# A query whose names and values parse_qsl reads back unchanged and urlencode writes back unchanged.
_PLAIN_FIELD = r"[A-Za-z0-9._~-]*(?:=[A-Za-z0-9._~-]*)?"
_PLAIN_QUERY = re.compile(rf"{_PLAIN_FIELD}(?:&{_PLAIN_FIELD})*")


# Schemes people paste that are links of some kind, though not ones the ledger keeps.
_LINK_SCHEMES = frozenset(
    {"http", "https", "javascript", "vbscript", "data", "mailto", "tel", "sms", "file", "ftp", "ftps", "sftp"}
    | {"ssh", "slack", "blob", "about", "intent"}
)


class InvalidURL(ValueError):
    """A URL the ledger will not store; the message says why, in words a member understands."""


def unwrap_slack_link(text: str) -> str:
    """Return the URL inside Slack's `<url|label>` or `<url>` wrapping, or `text` unchanged."""
    text = text.strip()
    match = _WRAPPED.match(text) if text[:1] == "<" else None
    return match.group(1) if match else text


def looks_like_link(word: str) -> bool:
    """Whether a word was meant as a link, good or bad: `x://`, `www.`, a link scheme (`mailto:`, `https:/x`),
    any `scheme:/...`, or a platform's host (`x.com`, `linkedin.com/in/ana`).

    A member who typed one gets told what is wrong with it instead of seeing it kept as a note; `re:invent`,
    `3:1` and `Node.js/Deno` are words. Reads the word once, without a regular expression.
    """
    word = word.strip().lower()
    if "://" in word or word.startswith("www."):
        return True
    scheme, colon, rest = word.partition(":")
    if colon and _is_scheme(scheme) and (scheme in _LINK_SCHEMES or rest.startswith("/")):
        return True
    return _bare(word.partition("/")[0]) in _PLATFORM_HOSTS


def _is_scheme(name: str) -> bool:
    """RFC 3986's scheme: a letter, then letters, digits, `+`, `-` or `.`."""
    return name[:1].isascii() and name[:1].isalpha() and all(c.isascii() and (c.isalnum() or c in "+-.") for c in name)


def validate_url(raw: str) -> str:
    """Return the URL if it is an http(s) URL with a host and at most 2048 characters; else raise."""
    url = unwrap_slack_link(raw)
    _validated_parts(url)
    return url


def _validated_parts(url: str) -> tuple[SplitResult, str, int | None]:
    """Split a URL and check it (see validate_url); return the parts with its host name and port."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURL(f"that link is {len(url)} characters long; links can be at most {MAX_URL_LENGTH}.")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a malformed port
    except ValueError as exc:
        raise InvalidURL("that doesn't look like a web address.") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidURL("links need to start with http:// or https://.")
    host = parts.hostname or ""
    if not host or "." not in host.strip(".") or _UNSAFE_CHARACTER.search(url):
        raise InvalidURL("that doesn't look like a web address.")
    return parts, host, port


def read_link(raw: str) -> tuple[str, str, Platform, bool]:
    """Return (validate_url, url_key, platform_of, is_slack_internal) of a link, splitting it only once.

    What a shared link needs, at the cost of one parse (an export holds millions of them): most links are
    plain (`_PLAIN_URL`) and are read by one regular expression; the others go through urlsplit. Both give
    the same answers (tests/unit/test_urls.py checks). Raises InvalidURL as validate_url does.
    """
    url = unwrap_slack_link(raw)
    plain = _PLAIN_URL.fullmatch(url) if len(url) <= MAX_URL_LENGTH else None
    if plain is None:
        parts, hostname, port = _validated_parts(url)
        path, query = parts.path, parts.query
    else:
        hostname, path, query = plain.group(1).lower(), plain.group(2) or "", plain.group(3) or ""
        port = None
        if "." not in hostname.strip("."):
            raise InvalidURL("that doesn't look like a web address.")
    host = _bare(hostname)
    return url, _key(host, port, path, query), _platform(path, host), _is_internal(host)


def _bare_host(parts: SplitResult) -> str:
    return _bare(parts.hostname)


def _bare(hostname: str | None) -> str:
    host = (hostname or "").lower().rstrip(".")
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix):
            host = host[len(prefix) :]
    return host


def host_of(url: str) -> str:
    """Return the URL's lower-case host without a leading `www.` or `m.`."""
    return _bare_host(urlsplit(url))


def platform_of(url: str | None) -> Platform:
    """Infer the social platform from the URL's host (Mastodon from its `/@user` paths)."""
    if not url:
        return Platform.NONE
    parts = urlsplit(url)
    return _platform(parts.path, _bare_host(parts))


def _platform(path: str, host: str) -> Platform:
    # The host or any parent domain of it: no known host is a parent domain of another, so one can match.
    domain = host
    while True:
        platform = _PLATFORM_HOSTS.get(domain)
        if platform is not None:
            return platform
        dot = domain.find(".")
        if dot < 0:
            break
        domain = domain[dot + 1 :]
    if _MASTODON_PATH.match(path):
        return Platform.MASTODON
    return Platform.BLOG


def url_key(url: str) -> str:
    """Return the URL in a canonical form for dedupe: lower-case host, no fragment, no tracking params."""
    parts = urlsplit(url)
    return _key(_bare_host(parts), parts.port, parts.path, parts.query)


def _key(host: str, port: int | None, path: str, query: str) -> str:
    """`url_key` from the URL's bare host, port, path and query: what urlunsplit would write, without a fragment."""
    if host == "twitter.com":  # one platform, whichever of its domains a link used
        host = "x.com"
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = _kept_query(query) if query else ""
    return f"https://{host}{path.rstrip('/')}?{query}" if query else f"https://{host}{path.rstrip('/')}"


def _kept_query(query: str) -> str:
    """The query without tracking parameters, in urlencode's spelling."""
    if _PLAIN_QUERY.fullmatch(query):  # parse_qsl and urlencode would give each field back as it is
        fields = (field.partition("=") for field in query.split("&") if field)
        return "&".join(f"{name}={value}" for name, _, value in fields if not _is_tracking(name))
    return urlencode([(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not _is_tracking(k)])


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in _TRACKING_PARAMS


def is_slack_internal(url: str) -> bool:
    """Slack's own links (message archives, files, workspace pages) are not social output."""
    return _is_internal(host_of(url))


def _is_internal(host: str) -> bool:
    return host == "slack.com" or host.endswith(".slack.com") or host.endswith(".slack-gov.com")


def counterpart_of(url: str | None) -> str:
    """Return who a logged action was aimed at, as far as the URL tells ("x.com/ana"), or ''.

    Breadth is rewarded per counterpart, so the author's handle matters more than the exact post.
    """
    if not url:
        return ""
    host = host_of(url)
    if host == "twitter.com":
        host = "x.com"
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if not segments:
        return host
    first = segments[0]
    if first.startswith("@"):
        return f"{host}/{first.lower()}"
    platform = platform_of(url)
    if platform in (Platform.X, Platform.INSTAGRAM, Platform.TIKTOK) and first.lower() not in (
        "i",
        "p",
        "reel",
        "status",
        "intent",
        "share",
    ):
        return f"{host}/{first.lower()}"
    if platform is Platform.LINKEDIN and first in ("in", "company") and len(segments) > 1:
        return f"{host}/{first}/{segments[1].lower()}"
    return host
