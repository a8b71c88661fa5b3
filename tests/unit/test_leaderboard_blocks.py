"""The leaderboard and /coach me cards, read as a person would read them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType

from bot.coach.advice import NextStep
from bot.coach.kinds import Kind
from bot.coach.periods import PeriodName, period_containing
from bot.coach.scoring import DEFAULT_RULES, Tally
from bot.coach.totals import score_totals
from bot.services.standings import MemberStanding, Standings, Trend, named_board
from bot.slack.blocks import Message, format_ratio, format_target, plural
from bot.slack.blocks.leaderboard import build_leaderboard
from bot.slack.blocks.me import build_me
from bot.store.waiting import WaitingLink
from tests.totals_from_tallies import totals_from_tallies

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
MONDAY = date(2026, 11, 23)


def tallies(user: str, kind: Kind, n: int, *, people: bool = True) -> list[Tally]:
    """`n` actions, toward different people (or one) and in different hours, so only the ratio limits posts."""
    return [
        Tally(user, kind, MONDAY + timedelta(days=i // 24), i % 24, f"U0PERSON{i:02d}" if people else "U0ONE", 1)
        for i in range(n)
    ]


def standings(
    *groups: list[Tally],
    received: dict[str, int] | None = None,
    period=PeriodName.WEEK,
    unnamed: frozenset[str] = frozenset(),
) -> Standings:
    members = tuple(score_totals(totals_from_tallies([t for g in groups for t in g], received or {}), DEFAULT_RULES))
    return Standings(
        team_id="T1",
        period=period_containing(period, NOW, "UTC"),
        target_ratio=4.0,
        members=members,
        totals=MappingProxyType({}),
        given=sum(m.given for m in members),
        pushed=sum(m.pushed for m in members),
        board=named_board(members, unnamed),
    )


def all_text(message: Message) -> str:
    parts = []
    for block in message.blocks:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [element.get("text", "") for element in block.get("elements", [])]
    return "\n".join(parts)


def board_lines(message: Message) -> list[str]:
    [rows] = [b for b in message.blocks if b["type"] == "section"]
    return rows["text"]["text"].split("\n")


ANA = tallies("U0ANA00001", Kind.REPLY, 8) + tallies("U0ANA00001", Kind.POST, 2)
DAN = tallies("U0DAN00001", Kind.POST, 14)
CARLA = tallies("U0CARLA001", Kind.COMMENT, 3)


def test_rows_show_rank_mention_bar_points_conversation_posts_and_ratio() -> None:
    lines = board_lines(build_leaderboard(standings(ANA, DAN, CARLA), "U0CARLA001"))

    assert lines[0] == "1. <@U0ANA00001> `██████████` *42.0* pts · 💬 8 · 📣 2 · ⚖️ 4.0:1"
    assert lines[1] == "2. <@U0CARLA001> `████░░░░░░` *15.0* pts · 💬 3 · 📣 0 · ⚖️ —  ← you"
    assert lines[2] == "3. <@U0DAN00001> `░░░░░░░░░░` *0.0* pts · 💬 0 · 📣 14 · ⚖️ 0.0:1"


def test_the_board_has_a_title_for_its_period_and_explains_how_points_are_earned() -> None:
    message = build_leaderboard(standings(ANA, period=PeriodName.MONTH), "U0ANA00001")

    assert message.blocks[0]["text"]["text"] == "🏆 Most social this month"
    assert "Replies, comments and answers earn the most; posts earn points while you also engage (4:1)" in all_text(
        message
    )
    assert message.text.startswith("Most social this month: 1. <@U0ANA00001> 42.0 points")


def test_the_callers_own_row_follows_the_top_ten_when_they_are_further_down() -> None:
    many = [tallies(f"U0M{i:07d}", Kind.REPLY, 2 + i) for i in range(11)]
    quiet = tallies("U0QUIET001", Kind.LIKE, 1)

    lines = board_lines(build_leaderboard(standings(*many, quiet), "U0QUIET001"))

    assert len(lines) == 12
    assert lines[10] == "…"
    assert lines[11].startswith("12. <@U0QUIET001>") and lines[11].endswith("← you")


def test_a_public_board_praises_only_and_never_adds_the_callers_row() -> None:
    many = [tallies(f"U0M{i:07d}", Kind.REPLY, 2 + i) for i in range(11)]
    quiet = tallies("U0QUIET001", Kind.POST, 3)

    text = all_text(build_leaderboard(standings(*many, quiet, DAN), "U0QUIET001", public=True))

    assert "U0QUIET001" not in text and "U0DAN00001" not in text and "← you" not in text
    assert text.count("pts") == 10


def test_a_public_board_shows_no_ratio_and_no_post_count_for_anyone() -> None:
    below_target = tallies("U0BELOW001", Kind.REPLY, 1) + tallies("U0BELOW001", Kind.POST, 3)
    message = build_leaderboard(standings(ANA, CARLA, below_target), "U0ANA00001", public=True)

    lines = board_lines(message)
    assert lines == [
        "1. <@U0ANA00001> `██████████` *42.0* pts · 💬 8",
        "2. <@U0CARLA001> `████░░░░░░` *15.0* pts · 💬 3",
        "3. <@U0BELOW001> `█░░░░░░░░░` *5.0* pts · 💬 1",
    ]
    text = all_text(message) + message.text
    assert "⚖️" not in text and "📣" not in text and ":1 " not in text.replace("(4:1)", "")


def test_members_never_to_be_named_leave_the_board_without_a_gap_in_the_ranks() -> None:
    gone = tallies("U0GONE0001", Kind.REPLY, 20)
    board = standings(ANA, gone, CARLA, unnamed=frozenset({"U0GONE0001"}))

    lines = board_lines(build_leaderboard(board, "U0CARLA001"))

    assert [line.split(" `")[0] for line in lines] == ["1. <@U0ANA00001>", "2. <@U0CARLA001>"]
    assert [m.user_id for m in board.members] == ["U0GONE0001", "U0ANA00001", "U0CARLA001"]  # still counted
    assert board.of("U0GONE0001") is None


def test_an_empty_board_says_how_to_get_on_it() -> None:
    message = build_leaderboard(standings(), "U0ANA00001")

    assert "Nobody has earned points yet" in all_text(message)
    assert "reply to a teammate's link" in message.text


def test_ratio_reads_like_four_point_three_to_one_or_a_dash_without_posts() -> None:
    assert (format_ratio(13 / 3), format_ratio(None), format_ratio(0.0)) == ("4.3:1", "—", "0.0:1")
    assert (format_target(4.0), format_target(1.5)) == ("4:1", "1.5:1")


def test_plural_counts_with_the_right_noun() -> None:
    assert [plural(n, "reply", "replies") for n in (0, 1, 2, 1204)] == [
        "0 replies",
        "1 reply",
        "2 replies",
        "1,204 replies",
    ]
    assert plural(1, "post") == "1 post" and plural(3, "post") == "3 posts"


def standing_for(user: str, board: Standings, step: NextStep, waiting: WaitingLink | None = None) -> MemberStanding:
    return MemberStanding(user, board, board.of(user), Trend(board.of(user), None), step, waiting)


def test_me_shows_given_by_kind_pushed_received_ratio_rank_and_a_next_step() -> None:
    board = standings(ANA, DAN, CARLA, received={"U0ANA00001": 3})
    text = all_text(build_me(standing_for("U0ANA00001", board, NextStep.KEEP_LISTENING), NOW))

    assert "*Given:* 8 (8 replies)" in text
    assert "*Pushed:* 2 (2 posts)" in text
    assert "*Received:* 3" in text
    assert "*Ratio:* 4.0:1 · target 4:1" in text
    assert "*Rank:* 1 of 3 · 43.5 points" in text
    assert "*Next step:* You're giving more than you post." in text


def test_me_below_target_says_how_many_replies_bring_the_ratio_back() -> None:
    board = standings(DAN, tallies("U0DAN00001", Kind.COMMENT, 6))
    text = all_text(build_me(standing_for("U0DAN00001", board, NextStep.BALANCE), NOW))

    assert "50 more replies or comments bring you to 4:1" in text
    assert "*Ratio:* 0.4:1" in text


def test_me_points_at_a_teammates_waiting_link_by_name() -> None:
    link = WaitingLink(
        "U0BEN00001", "https://blog.example.com/launch", "C0SOCIAL01", "1.2", NOW - timedelta(hours=5), False
    )
    board = standings(ANA)
    text = all_text(build_me(standing_for("U0ANA00001", board, NextStep.REPLY_TO_WAITING, link), NOW))

    assert "<@U0BEN00001>'s <https://blog.example.com/launch|blog.example.com/launch> in <#C0SOCIAL01>" in text
    assert "has waited 5 hours for a reply" in text


def test_me_with_nothing_yet_suggests_a_first_reply() -> None:
    board = standings(ANA)
    text = all_text(build_me(standing_for("U0NEW00001", board, NextStep.BEGIN), NOW))

    assert "Nothing logged or seen this week yet." in text
    assert "Start with one reply today" in text
