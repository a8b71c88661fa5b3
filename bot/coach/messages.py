"""Slack messages and reactions as ledger entries: the one place that decides what a message is worth.

Live events, conversations.history backfill and workspace exports all pass through these functions, so
the same message always yields the same entries with the same `source_key`s; storing them behind a
unique index on (team, source_key) makes every path idempotent, however often Slack repeats itself.
Edits and deletions are the caller's: it re-runs `entries_for_message` on the edited message and
replaces the entries of that (channel, ts) whose keys start with one of `MESSAGE_KEY_PREFIXES`.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from bot.coach.kinds import Kind, Platform
from bot.coach.urls import SLACK_LINK, InvalidURL, read_link

SUBSTANTIVE_REPLY_WORDS = 4
MAX_SOURCE_KEY_LENGTH = 255

# Keys of entries that belong to the message itself, as opposed to reactions on it: an edit
# (message_changed) or deletion replaces these and must leave the reactions alone.
MESSAGE_KEY_PREFIXES = ("link:", "reply:")

# Subtypes that are still a person writing: a reply also sent to the channel, and a message with files.
_HUMAN_SUBTYPES = (None, "thread_broadcast", "file_share")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TS = re.compile(r"([0-9]{1,11})(?:\.([0-9]{1,6}))?")
_ANGLE_TOKEN = re.compile(r"<[^<>]*>")  # links, <@U..>, <#C..|name>, <!here>
_EMOJI_CODE = re.compile(r":[a-z0-9_+'-]+:", re.IGNORECASE)
# Scripts written without spaces between words: each character counts as a word.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


class ChannelContext(NamedTuple):
    """The channel a message was seen in; `bot_user_id` is our own bot user, whose messages never count."""

    channel_id: str
    is_private: bool
    bot_user_id: str | None = None


class ParentMessage(NamedTuple):
    """A thread's parent as the store knows it: replies only count as engagement on a link message."""

    user_id: str
    ts: str
    has_links: bool


class LedgerEntry(NamedTuple):
    """One social action seen in Slack, ready to store; `source_key` is unique within a team.

    Immutable value types here are named tuples, not frozen dataclasses: an export builds millions of
    entries, and a named tuple is built in less than half the time.
    """

    kind: Kind
    user_id: str
    counterpart: str  # the Slack user engaged with; '' for a LINK
    occurred_at: datetime
    channel_id: str
    message_ts: str  # the message this entry came from (a reply's own ts; a reaction's item ts)
    thread_ts: str | None  # the link message engaged with; for a LINK, the thread it was shared in (or None)
    url: str | None
    url_key: str | None
    platform: Platform
    private: bool
    source_key: str


def ts_to_datetime(ts: str) -> datetime:
    """Return a Slack ts ("1763900000.000100") as an aware UTC datetime, exactly (no float rounding)."""
    if not isinstance(ts, str):
        raise ValueError(f"not a Slack timestamp: {ts!r}")
    return _parse_ts(ts)


@functools.lru_cache(maxsize=1024)  # a message's ts is read again for each reaction on it
def _parse_ts(ts: str) -> datetime:
    match = _TS.fullmatch(ts)
    if match is None:
        raise ValueError(f"not a Slack timestamp: {ts!r}")
    seconds, fraction = match.groups()
    return _EPOCH + timedelta(0, int(seconds), int(fraction.ljust(6, "0")) if fraction else 0)  # days, s, µs


def ts_order(ts: object) -> str:
    """A Slack ts as text that sorts in time order ("1763900000.0001" -> "1763900000.000100"); "" if unreadable.

    Slack's ts strings already sort this way when they have ten digits and six decimals, as every ts since
    2001 does; this makes it true of any ts a payload carries, so versions and batches compare as text.
    """
    match = _TS.fullmatch(ts) if isinstance(ts, str) else None
    if match is None:
        return ""
    seconds, fraction = match.groups()
    return f"{int(seconds):010d}.{(fraction or '').ljust(6, '0')}"


def _unescape(text: str) -> str:
    """Undo the only three escapes Slack applies to message text (so text and blocks agree on a URL)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _block_link_urls(blocks: object) -> list[str]:
    """Return the `url` of every rich_text `link` element, in order, however deeply sections, quotes and lists nest.

    A stack of iterators rather than recursion: no nesting Slack (or a hostile payload) sends can overflow it,
    and the walk, done for every message of an export, touches each element once.
    """
    urls: list[str] = []
    if type(blocks) is not list:
        return urls
    stack = [iter(blocks)]  # at the bottom, the blocks themselves: only rich_text ones hold links
    while stack:
        for element in stack[-1]:
            if type(element) is not dict and not isinstance(element, Mapping):
                continue
            kind = element.get("type")
            if kind == "text":  # the commonest leaf: it has no link and nothing inside
                continue
            if kind != "rich_text" and len(stack) == 1:
                continue
            if kind == "link":
                url = element.get("url")
                if isinstance(url, str):
                    urls.append(url)
            children = element.get("elements")
            if type(children) is list:
                stack.append(iter(children))
                break  # read the children now, then the rest of this level
        else:
            stack.pop()
    return urls


def _shared_links(message: Mapping) -> list[tuple[str, str, Platform]]:
    """The message's distinct web links as (url, url_key, platform), in order (see links_in)."""
    text = message.get("text")
    candidates = (
        [_unescape(m.group(1)) for m in SLACK_LINK.finditer(text)] if isinstance(text, str) and "<" in text else []
    )
    candidates.extend(_block_link_urls(message.get("blocks")))
    if not candidates:
        return []
    seen: set[str] = set()
    links: list[tuple[str, str, Platform]] = []
    for candidate in dict.fromkeys(candidates):  # text and blocks usually repeat each link verbatim
        try:
            url, key, platform, internal = read_link(candidate)
        except InvalidURL:
            continue
        if key in seen or internal:
            continue
        seen.add(key)
        links.append((url, key, platform))
    return links


def links_in(message: Mapping) -> list[str]:
    """Return the message's distinct web links (by `url_key`) in order, from `text` and rich_text blocks.

    Attachments are skipped on purpose: they are unfurls of links already in the text, added later by a
    message_changed event. Slack's own links and anything but http(s) are not social output.
    """
    return [url for url, _key, _platform in _shared_links(message)]


def is_human_message(message: Mapping, bot_user_id: str | None) -> bool:
    """Return whether a member wrote this message: not a bot (either shape), not us, not a join or leave."""
    user = message.get("user")
    return (
        isinstance(user, str)
        and bool(user)
        and user != bot_user_id
        and not message.get("bot_id")
        and not message.get("bot_profile")
        and message.get("subtype") in _HUMAN_SUBTYPES
    )


def is_substantive(text: str, min_words: int = SUBSTANTIVE_REPLY_WORDS) -> bool:
    """Return whether a reply says something: `min_words` words, not counting emoji, mentions or links.

    "+1", "nice!" and ":tada:" are a click's worth of engagement (a like), not a comment.
    """
    if not isinstance(text, str):
        return False
    plain = _ANGLE_TOKEN.sub(" ", text) if "<" in text else text
    plain = _unescape(_EMOJI_CODE.sub(" ", plain) if ":" in plain else plain)
    if plain.isascii():  # no script written without spaces: only words count
        return len(_WORD.findall(plain)) >= min_words
    unspaced = len(_UNSPACED.findall(plain))
    return unspaced + len(_WORD.findall(_UNSPACED.sub(" ", plain))) >= min_words


def _link_source_key(channel_id: str, ts: str, key: str) -> str:
    """Key a link by its url_key, hashed when a long URL would push the key past the column's width."""
    source_key = f"link:{channel_id}:{ts}:{key}"
    if len(source_key) <= MAX_SOURCE_KEY_LENGTH:
        return source_key
    digest = hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"link:{channel_id}:{ts}:sha1:{digest}"


def entries_for_message(
    message: Mapping,
    channel: ChannelContext,
    parent: ParentMessage | None,
    *,
    min_words: int = SUBSTANTIVE_REPLY_WORDS,
) -> list[LedgerEntry]:
    """Return the ledger entries one Slack message is worth: its links, and its reply to a teammate's link.

    `parent` is the thread parent when the message is a reply (the store knows whether it had links);
    it is ignored unless its ts is the message's `thread_ts`. Never raises on a malformed message: what
    cannot be read is worth nothing.
    """
    if not is_human_message(message, channel.bot_user_id):
        return []
    author: str = message["user"]
    ts = message.get("ts")
    thread_ts = message.get("thread_ts")
    is_engagement = (
        isinstance(thread_ts, str)
        and thread_ts != ts
        and parent is not None
        and parent.ts == thread_ts
        and parent.has_links
        and parent.user_id != author
    )
    links = _shared_links(message)
    if not (is_engagement or links):
        return []  # most messages: no need to read the timestamp
    try:
        occurred_at = ts_to_datetime(ts)
    except ValueError:
        return []
    # A link shared inside a thread belongs to that thread: nobody can open a thread under it, so it is never
    # a link "waiting for a reply" (those are top-level: thread_ts None).
    enclosing_thread = thread_ts if isinstance(thread_ts, str) and thread_ts != ts else None
    entries: list[LedgerEntry] = []
    if is_engagement:
        assert parent is not None
        entries.append(
            LedgerEntry(
                kind=Kind.COMMENT if is_substantive(message.get("text"), min_words) else Kind.LIKE,
                user_id=author,
                counterpart=parent.user_id,
                occurred_at=occurred_at,
                channel_id=channel.channel_id,
                message_ts=ts,
                thread_ts=parent.ts,
                url=None,
                url_key=None,
                platform=Platform.SLACK,
                private=channel.is_private,
                source_key=f"reply:{channel.channel_id}:{ts}",
            )
        )
    for url, key, platform in links:
        entries.append(
            LedgerEntry(
                kind=Kind.LINK,
                user_id=author,
                counterpart="",
                occurred_at=occurred_at,
                channel_id=channel.channel_id,
                message_ts=ts,
                thread_ts=enclosing_thread,
                url=url,
                url_key=key,
                platform=platform,
                private=channel.is_private,
                source_key=_link_source_key(channel.channel_id, ts, key),
            )
        )
    return entries


def entry_for_reaction(
    *,
    reactor: str,
    item_user: str | None,
    channel: ChannelContext,
    item_ts: str,
    event_ts: str,
    item_has_links: bool,
) -> LedgerEntry | None:
    """Return the LIKE a reaction is worth, or None: only a teammate's link message earns one.

    One LIKE per member per message however many emoji they add: the source_key leaves out the emoji.
    Exports carry no reaction time; pass the item's ts as `event_ts` there. A malformed `event_ts`
    raises ValueError: a live event always has one.
    """
    if not item_has_links or not reactor or not item_user or reactor in (item_user, channel.bot_user_id):
        return None
    return LedgerEntry(
        kind=Kind.LIKE,
        user_id=reactor,
        counterpart=item_user,
        occurred_at=ts_to_datetime(event_ts),
        channel_id=channel.channel_id,
        message_ts=item_ts,
        thread_ts=item_ts,
        url=None,
        url_key=None,
        platform=Platform.SLACK,
        private=channel.is_private,
        source_key=f"reaction:{channel.channel_id}:{item_ts}:{reactor}",
    )
