"""`/coach me` as Block Kit: given against pushed, what came back, the ratio with what to do about it.

Private by nature (ephemeral): numbers serve the member, and the card always ends with one next step.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.coach.advice import NextStep, actions_to_target
from bot.coach.kinds import GIVEN_KINDS, PUSHED_KINDS, Kind
from bot.coach.periods import PeriodName
from bot.coach.scoring import MemberScore
from bot.services.standings import MemberStanding, Trend
from bot.slack.blocks import Block, Message, context, format_ratio, format_target, header, plural, section, slack_link
from bot.slack.blocks.leaderboard import format_points
from bot.store.waiting import WaitingLink

TITLES = {
    PeriodName.WEEK: "Your week so far",
    PeriodName.MONTH: "Your month so far",
    PeriodName.ALL: "Your time with More Social",
}
PERIOD_WORDS = {PeriodName.WEEK: "this week", PeriodName.MONTH: "this month", PeriodName.ALL: "so far"}
_NOUNS = {
    Kind.REPLY: ("reply", "replies"),
    Kind.COMMENT: ("comment", "comments"),
    Kind.ANSWER: ("answer", "answers"),
    Kind.SHARE: ("share", "shares"),
    Kind.LIKE: ("like", "likes"),
    Kind.FOLLOW: ("follow", "follows"),
    Kind.POST: ("post", "posts"),
    Kind.LINK: ("link shared in Slack", "links shared in Slack"),
}
_ORDER = (Kind.ANSWER, Kind.REPLY, Kind.COMMENT, Kind.SHARE, Kind.LIKE, Kind.FOLLOW, Kind.POST, Kind.LINK)


def count_of(n: int, kind: Kind) -> str:
    return plural(n, *_NOUNS[kind])


def by_kind(counts: Mapping[Kind, int], kinds: frozenset[Kind]) -> str:
    """ "5 replies, 2 answers": the kinds that happened, heaviest engagement first."""
    return ", ".join(count_of(counts[kind], kind) for kind in _ORDER if kind in kinds and counts.get(kind))


def ago(instant: datetime, now: datetime) -> str:
    hours = round(max(now - instant, timedelta(0)).total_seconds() / 3600)
    if hours < 1:
        return "less than an hour"
    return plural(hours, "hour")


def waiting_line(link: WaitingLink, now: datetime) -> str:
    return f"<@{link.user_id}>'s {slack_link(link.url)} in <#{link.channel_id}> has waited {ago(link.shared_at, now)}"


def trend_line(trend: Trend) -> str:
    """This week so far against last week at the same moment, in points and ratio, said plainly."""
    now = trend.this_week.score if trend.this_week else 0.0
    before = trend.last_week.score if trend.last_week else 0.0
    if trend.last_week is None:
        return f"📈 *This week so far:* {format_points(now)} points; at this point last week you had none yet."
    direction = "up from" if now > before else ("down from" if now < before else "the same as")
    line = f"📈 *This week so far:* {format_points(now)} points, {direction} {format_points(before)}"
    line += " at this point last week"
    if trend.this_week and trend.this_week.ratio is not None and trend.last_week.ratio is not None:
        line += f" (ratio {format_ratio(trend.this_week.ratio)}, was {format_ratio(trend.last_week.ratio)})"
    return line + "."


def next_step_text(
    step: NextStep, score: MemberScore | None, target: float, waiting: WaitingLink | None, now: datetime
) -> str:
    """The one concrete thing worth doing next, in the coaching voice."""
    if step is NextStep.REPLY_TO_WAITING and waiting is not None:
        return f"{waiting_line(waiting, now)} for a reply. A sentence of your own would help it land."
    if step is NextStep.BEGIN:
        return "Start with one reply today: answer someone who talked to you, or comment on a teammate's post."
    if step is NextStep.BALANCE and score is not None:
        needed = actions_to_target(score.given, score.pushed, target)
        return (
            f"{needed} more {'reply or comment' if needed == 1 else 'replies or comments'} bring you to "
            f"{format_target(target)}. Try answering someone before your next post."
        )
    return "You're giving more than you post. Keep answering the people who talk to you."


def build_me(standing: MemberStanding, now: datetime) -> Message:
    """The member's card for the period asked."""
    standings = standing.standings
    name = standings.period.name
    title = TITLES[name]
    target = standings.target_ratio
    score = standing.score
    step = next_step_text(standing.next_step, score, target, standing.waiting, now)
    blocks: list[Block] = [header(title)]
    if score is None:
        summary = f"Nothing logged or seen {PERIOD_WORDS[name]} yet."
        blocks.append(section(summary))
    else:
        given = f"💬 *Given:* {score.given}"
        details = by_kind(score.counts, GIVEN_KINDS)
        if details:
            given += f" ({details})"
        if score.capped_light:
            given += f"; {score.capped_light} likes and follows beyond the daily cap don't count"
        pushed = f"📣 *Pushed:* {score.pushed}"
        if score.pushed:
            pushed += f" ({by_kind(score.counts, PUSHED_KINDS)})"
        ratio = f"⚖️ *Ratio:* {format_ratio(score.ratio)} · target {format_target(target)}"
        if score.ratio is None:
            ratio += " (no posts to balance)"
        lines = [
            given,
            pushed,
            f"🙌 *Received:* {score.received} from teammates on what you shared",
            ratio,
            f"🏆 *Rank:* {score.rank} of {standing.ranked} · {format_points(score.score)} points",
        ]
        summary = "\n".join(lines)
        blocks.append(section(summary))
    trend = trend_line(standing.trend)
    blocks += [context(trend), section(f"👉 *Next step:* {step}")]
    return Message(text=f"{title}: {summary.replace('*', '')} Next step: {step}", blocks=blocks)
