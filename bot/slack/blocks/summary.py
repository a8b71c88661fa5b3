"""The weekly team summary as Block Kit: short lines that read well on a phone, and a plain-text twin."""

from __future__ import annotations

from datetime import date

from bot.coach.scoring import MemberScore
from bot.coach.weekly import DiscussedLink, Trend, WeekFacts
from bot.slack.blocks import (
    MAX_SECTION_TEXT,
    Block,
    Message,
    context,
    divider,
    escape,
    format_ratio,
    format_target,
    header,
    plural,
    section,
    slack_link,
)

# What a link may take of a 3,000-character text when its caller does not say: a 2,048-character URL (the
# longest we accept), escaped, with its label, and room left for the words around it.


def _days(first: date, last: date) -> str:
    if first.month == last.month:
        return f"{first.day}–{last.day} {last:%b}"
    return f"{first.day} {first:%b} – {last.day} {last:%b}"


def _noun(n: int, one: str, many: str | None = None) -> str:
    return one if n == 1 else (many or one + "s")


def _trend_line(facts: WeekFacts) -> str | None:
    if facts.ratio is None:
        return None
    line = f"⚖️ Team ratio *{format_ratio(facts.ratio)}*"
    previous = facts.previous_ratio
    if facts.trend is Trend.UP and previous is not None:
        line += f" ↑ from {format_ratio(previous)}"
    elif facts.trend is Trend.DOWN and previous is not None:
        line += f" ↓ from {format_ratio(previous)}"
    elif facts.trend is Trend.SAME:
        line += " → steady"
    line += f" · target {format_target(facts.target_ratio)}"
    if facts.ratio < facts.target_ratio:
        line += "\n👉 The quickest way up: reply to a teammate's link that is still waiting."
    return line


def _member_line(place: int, score: MemberScore) -> str:
    if score.conversation:
        what = plural(score.conversation, "reply, comment or answer", "replies, comments and answers")
    else:
        what = plural(score.given, "share, like or follow", "shares, likes and follows")
    return f"{place}. <@{score.user_id}> · {what}"


def _unanswered_line(facts: WeekFacts) -> str | None:
    if facts.links_shared == 0:
        return None
    if facts.links_unanswered == 0:
        return f"🙌 Every one of the {plural(facts.links_shared, 'link')} shared got a reply."
    return f"🕊️ {facts.links_unanswered} of {plural(facts.links_shared, 'link')} shared never got a reply."


def _discussed_line(link: DiscussedLink, room: int) -> str:
    before = "🔥 *Most discussed:* "
    after = f" shared by <@{link.user_id}> · {plural(link.replies, 'reply', 'replies')}"
    return before + slack_link(link.url, room=room - len(before) - len(after)) + after


def _highlights(facts: WeekFacts) -> list[str]:
    """The week's highlights, one section's worth: the link gets whatever room the other lines leave."""
    improved = None
    if facts.most_improved is not None:
        better = facts.most_improved
        # Praise in public: the better ratio only, never last week's lower one.
        improved = f"🚀 *Most improved:* <@{better.user_id}>, now at {format_ratio(better.after)}, up on last week"
    unanswered = _unanswered_line(facts)
    others = [line for line in (improved, unanswered) if line]
    discussed = None
    if facts.most_discussed is not None:
        room = MAX_SECTION_TEXT - sum(len(line) + 1 for line in others)
        discussed = _discussed_line(facts.most_discussed, room)
    return [line for line in (improved, discussed, unanswered) if line]


def build_summary(facts: WeekFacts, *, preview: bool = False, channel_id: str | None = None) -> Message:
    """Return the weekly summary; `preview` marks it as the caller's private look at the week so far.

    `channel_id` (preview only) says where the real one will be posted, or that no channel is known yet.
    """
    days = _days(facts.first_day, facts.last_day)
    title = f"👀 This week so far · {days}" if preview else f"📊 Your week on social · {days}"
    blocks: list[Block] = [header(title)]
    lines: list[str] = [title]
    if facts.quiet:
        quiet = "A quiet week: nothing shared or logged. No pressure. Here's one small thing to try."
        blocks.append(section(quiet))
        lines.append(quiet)
    else:
        totals = (
            f"💬 *{facts.conversations}* {_noun(facts.conversations, 'conversation')}: "
            f"{plural(facts.replies, 'reply', 'replies')}, "
            f"{plural(facts.comments, 'comment')}, {plural(facts.answers, 'answer')}\n"
            f"📣 *{facts.posts}* {_noun(facts.posts, 'post or link', 'posts and links')} shared"
        )
        trend = _trend_line(facts)
        if trend:
            totals += "\n" + trend
        blocks.append(section(totals))
        lines.append(totals.replace("*", ""))
        if facts.most_social:
            top = "\n".join(_member_line(place, score) for place, score in enumerate(facts.most_social, start=1))
            blocks.append(section("*🏆 Most social*\n" + top))
            lines.append("Most social:\n" + top)
        highlights = _highlights(facts)
        if highlights:
            blocks.append(section("\n".join(highlights)))
            lines.extend(line.replace("*", "") for line in highlights)
    blocks.append(divider())
    tip = f"💡 *Tip of the week:* {escape(facts.tip)}"
    blocks.append(section(tip))
    lines.append(f"Tip of the week: {facts.tip}")
    if preview:
        where = f"<#{channel_id}>" if channel_id else "no channel yet (set one with `/coach settings summary-channel`)"
        note = f"Only you can see this preview. The team's summary of the whole week goes to {where}."
        blocks.append(context(note))
        lines.append(note)
    return Message(text="\n".join(lines), blocks=blocks)
