"""The leaderboard as Block Kit: the ten most social members, the caller's own row, how points are earned.

The board only the caller sees has every number, ratios included, next to their own row. A public board is
praise: it lists only members who earned points, shows points and conversations but never a post count or a
ratio (a ratio is coaching, said in private with what to do about it, not a grade in front of the team),
and never adds the caller's own row.
"""

from __future__ import annotations

from bot.coach.periods import PeriodName
from bot.coach.scoring import MemberScore
from bot.services.standings import Standings
from bot.slack.blocks import Block, Message, context, format_ratio, format_target, header, section, text_bar

TOP = 10

TITLES = {
    PeriodName.WEEK: "Most social this week",
    PeriodName.MONTH: "Most social this month",
    PeriodName.ALL: "Most social of all time",
}
LEGEND = "💬 replies, comments and answers · 📣 posts and shared links · ⚖️ social actions per post"
PUBLIC_LEGEND = "💬 replies, comments and answers"


def format_points(score: float) -> str:
    return f"{score:.1f}"


def how_points_work(target: float) -> str:
    return (
        "Replies, comments and answers earn the most; posts earn points while you also engage "
        f"({format_target(target)}). Ties go to whoever gave more."
    )


def praise_line(member: MemberScore, best: float) -> str:
    """A public row: rank, mention, bar, points and conversations; nothing that grades."""
    return (
        f"{member.rank}. <@{member.user_id}> `{text_bar(member.score, best)}` *{format_points(member.score)}* pts"
        f" · 💬 {member.conversation}"
    )


def leaderboard_line(member: MemberScore, best: float, *, you: bool = False) -> str:
    """A private row: the public one plus posts and ratio; the caller's row says so."""
    line = f"{praise_line(member, best)} · 📣 {member.pushed} · ⚖️ {format_ratio(member.ratio)}"
    return f"{line}  ← you" if you else line


def build_leaderboard(standings: Standings, caller: str, *, public: bool = False) -> Message:
    """The board for `standings.period`: top 10, then the caller's row when they are further down (private only)."""
    title = TITLES[standings.period.name]
    shown = [m for m in standings.top(TOP) if m.score > 0] if public else list(standings.top(TOP))
    if not shown:
        empty = "Nobody has earned points yet. A reply to a teammate's link is the quickest way onto the board."
        return Message(text=f"{title}: {empty}", blocks=[header(f"🏆 {title}"), section(empty)])
    best = shown[0].score
    if public:
        lines = [praise_line(m, best) for m in shown]
    else:
        lines = [leaderboard_line(m, best, you=m.user_id == caller) for m in shown]
        mine = standings.of(caller)
        if mine is not None and mine.rank > TOP:
            lines += ["…", leaderboard_line(mine, best, you=True)]
    explanation = how_points_work(standings.target_ratio)
    blocks: list[Block] = [
        header(f"🏆 {title}"),
        section("\n".join(lines)),
        context(explanation),
        context(PUBLIC_LEGEND if public else LEGEND),
    ]
    summary = "; ".join(f"{m.rank}. <@{m.user_id}> {format_points(m.score)} points" for m in shown[:3])
    return Message(text=f"{title}: {summary}. {explanation}", blocks=blocks)
