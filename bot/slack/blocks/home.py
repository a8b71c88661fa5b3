"""The App Home tab as Block Kit: the member's week, links waiting for them, the top of the board, switches.

`build_home` returns the whole view for views.publish (a Home tab has no fallback text).
"""

from __future__ import annotations

from datetime import datetime

from bot.coach.advice import NextStep, next_step
from bot.services.home import Dashboard, HomeView, NudgeSwitch
from bot.slack.blocks import (
    Block,
    actions,
    button,
    context,
    divider,
    format_ratio,
    format_target,
    header,
    section,
    text_bar,
)
from bot.slack.blocks.leaderboard import how_points_work, leaderboard_line
from bot.slack.blocks.me import next_step_text, trend_line, waiting_line
from bot.store.waiting import WaitingLink

OPEN_LINK_ACTION = "home_open_link"
SWITCH_ACTIONS = {
    NudgeSwitch.PAUSE: "home_pause_nudges",
    NudgeSwitch.STOP: "home_stop_nudges",
    NudgeSwitch.RESUME: "home_resume_nudges",
}


def _slack_date(instant: datetime) -> str:
    """A date Slack shows in the reader's own time zone, with a UTC fallback for old clients."""
    return f"<!date^{int(instant.timestamp())}^{{date_short_pretty}} at {{time}}|{instant:%d %b %H:%M} UTC>"


def _balance(board: Dashboard) -> list[Block]:
    target = board.week.target_ratio
    mine = board.mine
    if mine is None:
        text = (
            f"Nothing logged or seen this week yet. The team aims for {format_target(target)}: social actions per post."
        )
        return [section(text)]
    bar = "" if mine.ratio is None else f" `{text_bar(min(mine.ratio, target), target)}`"
    return [
        section(
            f"💬 *Given* {mine.given} · 📣 *Pushed* {mine.pushed} · ⚖️ *Ratio* {format_ratio(mine.ratio)}{bar}"
            f" target {format_target(target)}\n🏆 {mine.score:.1f} points, rank {mine.rank} of"
            f" {len(board.week.members)}"
        )
    ]


def _waiting(links: tuple[WaitingLink, ...], now: datetime) -> list[Block]:
    if not links:
        return [section("*🔗 Waiting for a reply*\nNo teammate's link is waiting for a reply right now. 🎉")]
    blocks: list[Block] = [section("*🔗 Waiting for a reply*")]
    for link in links:
        blocks.append(
            section(
                waiting_line(link, now) + ".",
                accessory=button("Open", OPEN_LINK_ACTION, f"{link.channel_id}:{link.message_ts}", url=link.url),
            )
        )
    return blocks


def _top(board: Dashboard) -> list[Block]:
    if not board.top:
        return [section("*🏆 Most social this week*\nNobody has earned points yet this week.")]
    best = board.top[0].score
    lines = [leaderboard_line(m, best, you=m.user_id == board.user_id) for m in board.top]
    return [
        section("*🏆 Most social this week*\n" + "\n".join(lines)),
        context(how_points_work(board.week.target_ratio)),
    ]


def _switches(view: HomeView) -> list[Block]:
    nudges = view.nudges
    if nudges.stopped:
        state = "Nudges are off: I won't send you private reminders."
        buttons = [button("Turn nudges back on", SWITCH_ACTIONS[NudgeSwitch.RESUME], NudgeSwitch.RESUME)]
    elif nudges.paused_until is not None:
        state = f"Nudges are paused until {_slack_date(nudges.paused_until)}."
        buttons = [button("Resume nudges", SWITCH_ACTIONS[NudgeSwitch.RESUME], NudgeSwitch.RESUME)]
    else:
        state = "Now and then I may send you a private note about a teammate's link waiting for a reply."
        buttons = [
            button("Pause nudges for a week", SWITCH_ACTIONS[NudgeSwitch.PAUSE], NudgeSwitch.PAUSE),
            button("Stop nudges", SWITCH_ACTIONS[NudgeSwitch.STOP], NudgeSwitch.STOP),
        ]
    return [section(f"*🔔 Nudges*\n{state}"), actions(*buttons, block_id="home_nudges")]


def build_home(view: HomeView) -> dict:
    """The member's dashboard; an opted-out member sees how to come back and nothing else."""
    board = view.dashboard
    if board is None:
        blocks: list[Block] = [
            header("More Social"),
            section(
                "You've opted out, so I'm not keeping anything for you. "
                "`/coach optin` turns tracking back on whenever you like."
            ),
        ]
        return {"type": "home", "blocks": blocks}
    mine = board.mine
    target = board.week.target_ratio
    step = next_step(
        mine.given if mine else 0, mine.pushed if mine else 0, target, teammate_waiting=bool(board.waiting)
    )
    step_text = (
        "Reply to one of the links below: a sentence of your own helps it land."
        if step is NextStep.REPLY_TO_WAITING
        else next_step_text(step, mine, target, None, view.now)
    )
    blocks = [
        header("Your social week"),
        *_balance(board),
        context(trend_line(board.trend)),
        section(f"👉 *Next step:* {step_text}"),
        divider(),
        *_waiting(board.waiting, view.now),
        divider(),
        *_top(board),
        divider(),
        *_switches(view),
    ]
    return {"type": "home", "blocks": blocks}
