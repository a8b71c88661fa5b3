"""The ledger does not depend on the order Slack delivers events in: any permutation, the same report.

Slack promises no order. A reply can arrive before its parent, a reaction before the message it is on,
edits of one message out of order, an edit after the message's deletion, a reaction_removed before its
reaction_added, and any delivery twice (a retry carries the same event_id). Whatever the order, the team's
report must be the one the deliveries give in the order things happened, which is the bot's rules applied
chronologically: newest version of a message wins (compare message.edited.ts, else the event's ts), a
deletion wins over any edit, the later of a member's reaction_added/reaction_removed on an emoji wins
(compare event_ts), and a copy of a delivery changes nothing. Whether a reply or an emoji is engagement
depends on its parent as it stood when the reply was written or the emoji added: a reply delivered
before the edit that gave its parent a link still counts if it was written after that edit.

`histories()` generates a small coherent history of one channel, delivered as Slack would deliver it;
the example tests below name each case on its own, so a failure reads clearly. Every check reads the
report only after `driver.settle()`: acknowledged is not yet applied.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from bot.coach.periods import PeriodName
from bot.deps import Deps
from bot.services.report import ReportError, team_report
from bot.store.database import Database
from bot.store.models import Base
from tests.slack_events import ANA, BEN, CARLA, DAN, deleted, edited, message, reaction, rich_text, unfurled
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID

BASE = 1795424400  # 2026-11-23 09:00:00 UTC, the hour before the test clock's Monday 10:00
STRIDE = 7  # seconds between two things happening: a whole history stays inside that hour
NAMES = {ANA: "Ana", BEN: "Ben", CARLA: "Carla", DAN: "Dan"}
URLS = (
    "https://www.linkedin.com/posts/ana_listening-first-7260000000000000001-abcd",
    "https://blog.example.com/2026/11/reciprocity",
    "https://medium.com/@ben/threads-that-talk-back-1a2b3c",
)
EMOJI = ("tada", "fire")
TOP_WORDS = ("Wrote this up", "Worth a read before Friday", "Lunch at noon?")
REPLY_WORDS = ("Great point, we tried this last sprint", "nice!", "This changed how I run standups")
EDIT_WORDS = ("Wrote this up, typo fixed", "Updated with the right link", "Never mind, ignore this")
SUBSTANTIVE = REPLY_WORDS[0]  # four words or more: a comment ("nice!" is a click's worth, a like)
COUNTED = ("posts", "comments", "likes", "received")


# --- deliveries ------------------------------------------------------------------------------------------


class Delivery:
    """One Events API delivery: what happened (for people), its event_id, the event, and its retry number.

    A plain class, so a failing example prints one readable line per delivery rather than every payload.
    """

    __slots__ = ("event", "event_id", "retry", "what")

    def __init__(self, what: str, event_id: str, event: dict[str, Any], retry: int | None = None) -> None:
        self.what, self.event_id, self.event, self.retry = what, event_id, event, retry

    def retried(self) -> Delivery:
        """The same delivery again, as Slack retries it: the same event_id, X-Slack-Retry-Num set."""
        return Delivery(self.what, self.event_id, self.event, retry=(self.retry or 0) + 1)

    def __repr__(self) -> str:
        return f"<{self.what} [{self.event_id}{' retry' if self.retry else ''}]>"


def deliver(driver: SlackDriver, deliveries: list[Delivery]) -> None:
    for delivery in deliveries:
        response = driver.event(delivery.event, event_id=delivery.event_id, retry_num=delivery.retry)
        assert response.status == 200, (delivery, response.status, response.text)


def empty(db: Database) -> None:
    """Empty every table, as the `db` fixture does after a test: each delivery run starts from nothing."""
    with db.session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


def report(driver: SlackDriver, deps: Deps) -> dict[str, Any]:
    """`python -m bot report --format json --period all` once the bot has applied what it acknowledged."""
    driver.settle()
    try:
        return team_report(deps, TEAM_ID, PeriodName.ALL)
    except ReportError:  # no delivery was worth storing: the team was never heard from
        return {"team": TEAM_ID, "period": PeriodName.ALL.value, "members": []}


def report_after(driver: SlackDriver, deps: Deps, deliveries: list[Delivery]) -> dict[str, Any]:
    empty(deps.db)
    deliver(driver, deliveries)
    return report(driver, deps)


def counts(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The report's tallies per member, only what is not zero: {user: {"posts": 1, "received": 2}}."""
    return {
        member["user_id"]: {key: member[key] for key in COUNTED if member[key]}
        for member in report["members"]
        if any(member[key] for key in COUNTED)
    }


# --- building events -------------------------------------------------------------------------------------


def at(k: int) -> str:
    """The k-th moment of a history: increasing Slack ts values, STRIDE seconds apart, from 09:00 UTC."""
    return f"{BASE + STRIDE * k}.{100 + k:06d}"


def whole_second(ts: str) -> str:
    """message.edited.ts as Slack writes it: the edit's second, a little before the event's own ts."""
    return ts.partition(".")[0] + ".000000"


def composed(words: str, urls: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Text and blocks as Slack's composer writes them: `<url>` in the text, a link element in the blocks."""
    return {"text": " ".join([words, *(f"<{url}>" for url in urls)]), "blocks": rich_text(words, *urls)}


def post(user: str, words: str, urls: tuple[str, ...] | list[str], ts: str) -> dict[str, Any]:
    event = message(user, "", ts)
    event.update(composed(words, urls))
    return event


def reply(user: str, words: str, urls: tuple[str, ...] | list[str], ts: str, to: dict[str, Any]) -> dict[str, Any]:
    event = message(user, "", ts, channel=to["channel"], thread_ts=to["ts"])
    event.update(composed(words, urls), parent_user_id=to["user"])
    return event


def edit(version: dict[str, Any], words: str, urls: tuple[str, ...] | list[str], ts: str) -> dict[str, Any]:
    """message_changed: `version` (the message as it stands) rewritten at `ts`, its edited.ts that second."""
    fields = composed(words, urls)
    event = edited(version, text=fields["text"], blocks=fields["blocks"])
    event["message"]["edited"]["ts"] = whole_second(ts)
    event.update(ts=ts, event_ts=ts)
    return event


def unfurl(version: dict[str, Any], ts: str) -> dict[str, Any]:
    event = unfurled(version)
    event.update(ts=ts, event_ts=ts)
    return event


def deletion(version: dict[str, Any], ts: str) -> dict[str, Any]:
    event = deleted(version)
    event.update(ts=ts, event_ts=ts)
    return event


def as_message(changed: dict[str, Any]) -> dict[str, Any]:
    """The message a message_changed leaves behind, shaped like a message event (for the next edit or delete)."""
    inner = dict(changed["message"])
    return {**inner, "channel": changed["channel"], "channel_type": changed["channel_type"], "event_ts": inner["ts"]}


# --- the generator ---------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Message:
    """What the generator knows about one message while it writes the history."""

    name: str
    version: dict[str, Any]  # the message as it stands, shaped like a message event
    parent: _Message | None
    has_links: bool
    epoch: int = 0  # bumped each time an edit gives the message links or takes its last one away
    edits: int = 0
    unfurled: bool = False
    deleted: bool = False
    emoji: dict[str, set[str]] = field(default_factory=dict)  # member -> the emoji they have on it now
    reacted_in: dict[str, set[int]] = field(default_factory=dict)  # member -> the epochs they reacted in

    @property
    def author(self) -> str:
        return self.version["user"]

    @property
    def alive(self) -> bool:
        return not self.deleted and (self.parent is None or not self.parent.deleted)


class _Channel:
    """#social while a history is written: one method per thing that can happen next, each drawing its details.

    Every step takes the next moment (`at`), so the deliveries come out in the order things happened.
    """

    def __init__(self, members: list[str]) -> None:
        self.members = members
        self.messages: list[_Message] = []
        self.deliveries: list[Delivery] = []
        self._moments = itertools.count()

    def _happen(self, what: str, event: dict[str, Any]) -> None:
        self.deliveries.append(Delivery(what, f"Ev0ORDER{len(self.deliveries) + 1:03d}", event))

    def _now(self) -> str:
        return at(next(self._moments))

    @property
    def _live(self) -> list[_Message]:
        return [m for m in self.messages if m.alive]

    def _reactable(self) -> list[tuple[_Message, str, str]]:
        return [
            (m, who, name)
            for m in self._live
            for who in self.members
            for name in EMOJI
            if name not in m.emoji.get(who, ())  # Slack sends no second reaction_added for an emoji already on
        ]

    def _removable(self) -> list[tuple[_Message, str, str]]:
        return [
            (m, who, name)
            for m in self._live
            for who, names in sorted(m.emoji.items())
            if m.reacted_in[who] <= {m.epoch}  # the links stayed as they were since their first reaction
            for name in sorted(names)
        ]

    def _unfurlable(self) -> list[_Message]:
        return [m for m in self._live if m.has_links and not m.edits and not m.unfurled]

    def _editable(self) -> list[_Message]:
        return [m for m in self._live if m.edits < 3]

    def steps(self) -> list[str]:
        """What can happen next (repeated names are likelier); no step ever finds nothing to act on."""
        steps = ["post"] if sum(m.parent is None for m in self.messages) < 4 else []
        if not self._live:
            return steps or ["nothing"]
        steps += ["reply", "reply", *["react", "react"] * bool(self._reactable())]
        steps += ["unreact"] * 3 * bool(self._removable()) + ["edit"] * bool(self._editable())
        return [*steps, *["unfurl"] * bool(self._unfurlable()), "delete"]

    def nothing(self, draw: st.DrawFn) -> None:
        """Every message is gone and there are four already: the channel stays quiet."""

    def post(self, draw: st.DrawFn) -> None:
        author = draw(st.sampled_from(self.members))
        words = draw(st.sampled_from(TOP_WORDS))
        urls = draw(st.lists(st.sampled_from(URLS), max_size=2, unique=True))
        ts = self._now()
        top = _Message(
            f"m{sum(m.parent is None for m in self.messages) + 1}", post(author, words, urls, ts), None, bool(urls)
        )
        self.messages.append(top)
        self._happen(f"{ts} {NAMES[author]} posts {top.name} ({len(urls)} links)", top.version)

    def reply(self, draw: st.DrawFn) -> None:
        parent = draw(st.sampled_from([m for m in self._live if m.parent is None]))
        author = draw(st.sampled_from([member for member in self.members if member != parent.author]))
        words = draw(st.sampled_from(REPLY_WORDS))
        urls = draw(st.lists(st.sampled_from(URLS), max_size=1))
        ts = self._now()
        name = f"{parent.name}.r{sum(m.parent is parent for m in self.messages) + 1}"
        answer = _Message(name, reply(author, words, urls, ts, parent.version), parent, bool(urls))
        self.messages.append(answer)
        self._happen(
            f"{ts} {NAMES[author]} replies {name} to {parent.name}: {words!r} ({len(urls)} links)", answer.version
        )

    def react(self, draw: st.DrawFn) -> None:
        target, who, name = draw(st.sampled_from(self._reactable()))
        ts = self._now()
        target.emoji.setdefault(who, set()).add(name)
        target.reacted_in.setdefault(who, set()).add(target.epoch)
        self._happen(
            f"{ts} {NAMES[who]} adds :{name}: on {target.name}", reaction(who, target.version, name, event_ts=ts)
        )

    def unreact(self, draw: st.DrawFn) -> None:
        target, who, name = draw(st.sampled_from(self._removable()))
        ts = self._now()
        target.emoji[who].remove(name)
        removed = reaction(who, target.version, name, removed=True, event_ts=ts)
        self._happen(f"{ts} {NAMES[who]} removes :{name}: from {target.name}", removed)

    def edit(self, draw: st.DrawFn) -> None:
        target = draw(st.sampled_from(self._editable()))
        words = draw(st.sampled_from(EDIT_WORDS))
        urls = draw(st.lists(st.sampled_from(URLS), max_size=2, unique=True))
        ts = self._now()
        changed = edit(target.version, words, urls, ts)
        target.version, target.edits = as_message(changed), target.edits + 1
        if bool(urls) != target.has_links:
            target.has_links, target.epoch = bool(urls), target.epoch + 1
        self._happen(f"{ts} {NAMES[target.author]} edits {target.name} ({len(urls)} links)", changed)

    def unfurl(self, draw: st.DrawFn) -> None:
        target = draw(st.sampled_from(self._unfurlable()))
        ts = self._now()
        changed = unfurl(target.version, ts)
        target.version, target.unfurled = as_message(changed), True
        self._happen(f"{ts} Slack unfurls {target.name}", changed)

    def delete(self, draw: st.DrawFn) -> None:
        target = draw(st.sampled_from(self._live))
        ts = self._now()
        target.deleted = True
        self._happen(f"{ts} {NAMES[target.author]} deletes {target.name}", deletion(target.version, ts))


@st.composite
def histories(draw: st.DrawFn, max_steps: int = 12) -> list[Delivery]:
    """A small coherent history of #social, as deliveries in the order things happened.

    2-4 members; 1-4 top-level messages, most with links; replies from other members (a comment, a short
    "nice!" that is a like, some with links of their own); emoji added and removed; up to 3 edits per message
    that change, remove or add links; Slack's unfurl; sometimes a deletion (of a reply or a parent), after
    which nothing happens to that message or its thread; and a retry or two (the same event_id again).

    Whether a reply or a reaction counts is decided by the message's newest version (its links now), the only
    rule that cannot depend on delivery order: a history may hold a reaction on a message before its links
    were added, or a reply under a parent whose link is edited away later (and then counts no more, as after
    a deletion).
    """
    channel = _Channel([ANA, BEN, CARLA, DAN][: draw(st.integers(2, 4), label="members")])
    channel.post(draw)
    for _ in range(draw(st.integers(0, max_steps), label="steps")):
        getattr(channel, draw(st.sampled_from(channel.steps())))(draw)
    deliveries = channel.deliveries
    retried = draw(st.lists(st.sampled_from(range(len(deliveries))), max_size=2, unique=True), label="retries")
    for index in sorted(retried, reverse=True):
        deliveries.insert(index + 1, deliveries[index].retried())
    return deliveries


@st.composite
def histories_and_orders(draw: st.DrawFn) -> tuple[list[Delivery], list[Delivery]]:
    """A history in the order it happened, and the same deliveries in any order."""
    happened = draw(histories())
    return happened, draw(st.permutations(happened))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=histories_and_orders())
def test_any_delivery_order_gives_the_report_of_the_order_things_happened(
    driver: SlackDriver, deps: Deps, case: tuple[list[Delivery], list[Delivery]]
) -> None:
    happened, delivered = case
    expected = report_after(driver, deps, happened)

    got = report_after(driver, deps, delivered)
    assert got == expected, f"in this order {counts(got)}, in the order things happened {counts(expected)}"


# --- each case on its own ----------------------------------------------------------------------------------
#
# Each case lists its deliveries in the order things happened, and the order Slack delivered them in. Run
# as it happened, the test shows the expectation is today's bot applying its rules; run as delivered, it
# asks for the same numbers.

ORDERS = pytest.mark.parametrize("order", ["as_it_happened", "as_delivered"])


def deliveries_of(events: list[dict[str, Any]]) -> list[Delivery]:
    """One delivery per event, each with an event_id of its own."""
    return [Delivery(f"#{k}", f"Ev0CASE{k:04d}", event) for k, event in enumerate(events, start=1)]


def run(
    driver: SlackDriver, deps: Deps, happened: list[dict[str, Any]], delivered: list[int], order: str
) -> dict[str, dict[str, int]]:
    """Deliver `happened` (events, each with its own event_id) as it happened, or in the order `delivered` gives."""
    deliveries = deliveries_of(happened)
    sequence = deliveries if order == "as_it_happened" else [deliveries[i] for i in delivered]
    return counts(report_after(driver, deps, sequence))


@ORDERS
def test_a_reply_delivered_before_its_parent_is_still_a_comment(driver: SlackDriver, deps: Deps, order: str) -> None:
    parent = post(ANA, "Wrote this up", [URLS[0]], at(0))
    answer = reply(BEN, SUBSTANTIVE, [], at(1), parent)

    assert run(driver, deps, [parent, answer], [1, 0], order) == {
        ANA: {"posts": 1, "received": 1},
        BEN: {"comments": 1},
    }


@ORDERS
def test_a_reaction_delivered_before_its_message_is_still_a_like(driver: SlackDriver, deps: Deps, order: str) -> None:
    link = post(ANA, "Wrote this up", [URLS[0]], at(0))
    tada = reaction(BEN, link, "tada", event_ts=at(1))

    assert run(driver, deps, [link, tada], [1, 0], order) == {ANA: {"posts": 1, "received": 1}, BEN: {"likes": 1}}


@ORDERS
def test_edits_delivered_newest_first_leave_the_newest_version(driver: SlackDriver, deps: Deps, order: str) -> None:
    link = post(ANA, "Wrote this up", [URLS[0]], at(0))
    first = edit(link, "Updated with the right link", [URLS[1]], at(1))
    second = edit(as_message(first), "Two to read", [URLS[1], URLS[2]], at(2))

    assert run(driver, deps, [link, first, second], [0, 2, 1], order) == {ANA: {"posts": 2}}


@ORDERS
def test_an_edit_delivered_after_the_deletion_changes_nothing(driver: SlackDriver, deps: Deps, order: str) -> None:
    link = post(ANA, "Wrote this up", [URLS[0]], at(0))
    other = post(BEN, "Worth a read before Friday", [URLS[2]], at(1))
    fixed = edit(link, "Updated with the right link", [URLS[1]], at(2))
    gone = deletion(as_message(fixed), at(3))

    assert run(driver, deps, [link, other, fixed, gone], [0, 1, 3, 2], order) == {BEN: {"posts": 1}}


@ORDERS
def test_a_removal_delivered_before_its_reaction_takes_the_like_back(
    driver: SlackDriver, deps: Deps, order: str
) -> None:
    link = post(ANA, "Wrote this up", [URLS[0]], at(0))
    added = reaction(BEN, link, "tada", event_ts=at(1))
    removed = reaction(BEN, link, "tada", removed=True, event_ts=at(2))
    kept = reaction(CARLA, link, "fire", event_ts=at(3))

    assert run(driver, deps, [link, added, removed, kept], [0, 2, 1, 3], order) == {
        ANA: {"posts": 1, "received": 1},
        CARLA: {"likes": 1},
    }


@ORDERS
def test_a_reply_delivered_before_the_edit_that_gave_its_parent_a_link_is_still_a_comment(
    driver: SlackDriver, deps: Deps, order: str
) -> None:
    plain = post(ANA, "Wrote this up", [], at(0))
    linked = edit(plain, "Wrote this up, link added", [URLS[0]], at(1))
    answer = reply(BEN, SUBSTANTIVE, [], at(2), plain)

    assert run(driver, deps, [plain, linked, answer], [0, 2, 1], order) == {
        ANA: {"posts": 1, "received": 1},
        BEN: {"comments": 1},
    }


@ORDERS
def test_a_like_goes_with_the_link_it_was_given_on_when_the_link_is_edited_away(
    driver: SlackDriver, deps: Deps, order: str
) -> None:
    plain = post(ANA, "Wrote this up", [], at(0))
    linked = edit(plain, "Wrote this up, link added", [URLS[0]], at(1))
    tada = reaction(BEN, plain, "tada", event_ts=at(2))
    unlinked = edit(as_message(linked), "Never mind, ignore this", [], at(3))

    # The newest version shares no link: like a deletion, it takes the likes it received with it.
    assert run(driver, deps, [plain, linked, tada, unlinked], [0, 3, 1, 2], order) == {}


@ORDERS
def test_a_retry_delivered_late_changes_nothing(driver: SlackDriver, deps: Deps, order: str) -> None:
    link = post(ANA, "Wrote this up", [URLS[0]], at(0))
    added = reaction(BEN, link, "tada", event_ts=at(1))
    removed = reaction(BEN, link, "tada", removed=True, event_ts=at(2))
    again = reaction(BEN, link, "tada", event_ts=at(3))
    first, *_ = originals = deliveries_of([link, added, removed, again])
    # Slack retried the link and the removal (the same event_ids): at once, or minutes later, after the re-add.
    link_retry, removal_retry = first.retried(), originals[2].retried()
    at_once = [first, link_retry, originals[1], originals[2], removal_retry, originals[3]]
    sequence = at_once if order == "as_it_happened" else [*originals, link_retry, removal_retry]

    assert counts(report_after(driver, deps, sequence)) == {ANA: {"posts": 1, "received": 1}, BEN: {"likes": 1}}
