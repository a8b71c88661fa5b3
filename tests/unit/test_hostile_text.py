"""Property: text built to be slow or confusing (up to 100 KB) is read right by every reader of member text.

The strings repeat the fragments that made the old patterns rescan the rest of the text from every `<`
(docs/performance.md, "Hostile text"); a link placed among them must still be found. How long the readers
take is bench/hostile_text.py's to say: these tests check answers, with a deadline only as a net.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.coach.commands import CommandError, LogAction, parse_command
from bot.coach.messages import is_substantive, links_in
from bot.coach.settings import _USER, SettingError, TeamSettings, apply_setting
from bot.coach.urls import SLACK_LINK

FRAGMENTS = (
    "<https://",
    "<http://a|",
    "<",
    ">",
    "|",
    "<@U1|",
    "<@U2>",
    "<#C1|",
    "<mailto:/",
    "x.com/a",
    " ",
    "\n",
    ":",
    ":tada",
    "a'",
    "&lt;",
    "&amp;",
    "é",
    "😀",
    "'; DROP TABLE activities; --",
)
NEEDLE = "https://example.com/needle"
MAX_SIZE = 100_000

# A hostile text: a few fragments, each repeated a great many times, up to MAX_SIZE characters in all.
_runs = st.lists(st.tuples(st.sampled_from(FRAGMENTS), st.integers(1, 12_000)), min_size=1, max_size=4)
hostile_texts = _runs.map(lambda runs: "".join(fragment * count for fragment, count in runs)[:MAX_SIZE])
_fast = settings(
    max_examples=60,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_SCHEMES = tuple(f"{scheme}:/" for scheme in ("http", "https", "mailto", "tel", "slack"))


def reference_link_targets(text: str) -> list[str]:
    """What SLACK_LINK must find, read without a regex: each `<...>` whose target starts with a link scheme."""
    targets = []
    for piece in text.split("<")[1:]:
        inner, closed, _ = piece.partition(">")
        target = inner.partition("|")[0]
        if closed and target.lower().startswith(_SCHEMES) and not any(c.isspace() for c in target):
            targets.append(target)
    return targets


@_fast
@given(hostile_texts)
def test_slack_link_finds_exactly_the_wrapped_links(text: str) -> None:
    assert [match.group(1) for match in SLACK_LINK.finditer(text)] == reference_link_targets(text)


@_fast
@given(hostile_texts, hostile_texts)
def test_a_link_among_hostile_text_is_found(before: str, after: str) -> None:
    # The old label pattern ran on to the next `>`, so `<https://a|` before a link swallowed the link.
    assert NEEDLE in links_in({"text": f"{before} <{NEEDLE}|needle> {after}"})


def reference_mentioned_users(text: str) -> list[str]:
    """What `/coach settings admins` must read, without a regex: the id of each `<@U...>` or `<@U...|label>`."""
    users = []
    for piece in text.split("<")[1:]:
        inner, closed, _ = piece.partition(">")
        user_id = inner.removeprefix("@").partition("|")[0]
        is_id = user_id[:1] in ("U", "W") and len(user_id) > 1 and all(c in _ID_CHARS for c in user_id[1:])
        if closed and inner.startswith("@") and is_id:
            users.append(user_id)
    return users


@_fast
@given(hostile_texts)
def test_mentions_read_are_exactly_the_wrapped_ones(text: str) -> None:
    assert _USER.findall(text) == reference_mentioned_users(text)


@_fast
@given(hostile_texts)
def test_is_substantive_answers(text: str) -> None:
    assert is_substantive(text) in (True, False)


@_fast
@given(hostile_texts)
def test_coach_text_is_a_command_or_a_kind_error(text: str) -> None:
    for command_text in (text, f"log post {text}", f"log post <{NEEDLE}> {text}"):
        try:
            command = parse_command(command_text)
        except CommandError as error:
            assert str(error)
        else:
            if isinstance(command, LogAction):
                assert len(command.note) <= 500


@_fast
@given(hostile_texts)
def test_admins_setting_reads_or_refuses(text: str) -> None:
    try:
        changed = apply_setting(TeamSettings(), "admins", f"add <@U0NEEDLE1|ana> {text}")
    except SettingError:
        return
    assert "U0NEEDLE1" in changed.coach_admins
