"""The App Home dashboard, read as the member would read it."""

from __future__ import annotations

from datetime import timedelta

from bot.coach.kinds import Kind
from bot.services.home import Dashboard, HomeView, NudgeState, NudgeSwitch
from bot.services.standings import Trend
from bot.slack.blocks.home import OPEN_LINK_ACTION, SWITCH_ACTIONS, build_home
from bot.store.waiting import WaitingLink
from tests.unit.test_leaderboard_blocks import ANA, CARLA, DAN, NOW, standings, tallies

RUNNING = NudgeState(stopped=False, paused_until=None)


def home(user: str = "U0ANA00001", *, waiting=(), nudges=RUNNING, last_week=None, board=None) -> dict:
    board = board or standings(ANA, DAN, CARLA)
    trend = Trend(board.of(user), last_week)
    return build_home(HomeView(user, Dashboard(user, board, trend, tuple(waiting)), nudges, NOW))


def texts(view: dict) -> str:
    parts = []
    for block in view["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [
            element["text"] if isinstance(element["text"], str) else element["text"]["text"]
            for element in block.get("elements", [])
            if "text" in element
        ]
    return "\n".join(parts)


def buttons(view: dict) -> dict[str, dict]:
    found = {}
    for block in view["blocks"]:
        for element in [block.get("accessory") or {}, *block.get("elements", [])]:
            if element.get("type") == "button":
                found[element["text"]["text"] + ":" + element.get("value", "")] = element
    return found


def link(user: str, n: int) -> WaitingLink:
    return WaitingLink(
        user, f"https://x.com/{user}/status/{n}", "C0SOCIAL01", f"1763900000.00010{n}", NOW - timedelta(hours=n), False
    )


def test_the_dashboard_shows_given_pushed_ratio_against_the_target_and_the_rank() -> None:
    view = home()

    assert view["type"] == "home"
    assert "💬 *Given* 8 · 📣 *Pushed* 2 · ⚖️ *Ratio* 4.0:1 `██████████` target 4:1" in texts(view)
    assert "42.0 points, rank 1 of 3" in texts(view)


def test_the_trend_compares_this_week_with_last_week() -> None:
    last = standings(tallies("U0ANA00001", Kind.REPLY, 2)).of("U0ANA00001")

    assert "*This week so far:* 42.0 points, up from 10.0 at this point last week" in texts(home(last_week=last))
    assert "at this point last week you had none yet" in texts(home(last_week=None))


def test_waiting_links_each_get_an_open_button_to_the_link() -> None:
    view = home(waiting=[link("U0BEN00001", 1), link("U0CARLA001", 2)])

    assert "<@U0BEN00001>'s <https://x.com/U0BEN00001/status/1|x.com/U0BEN00001/status/1> in <#C0SOCIAL01>" in texts(
        view
    )
    opens = [b for b in buttons(view).values() if b["action_id"] == OPEN_LINK_ACTION]
    assert [b["url"] for b in opens] == ["https://x.com/U0BEN00001/status/1", "https://x.com/U0CARLA001/status/2"]
    assert "Reply to one of the links below" in texts(view)


def test_no_waiting_links_is_good_news() -> None:
    assert "No teammate's link is waiting for a reply right now." in texts(home())


def test_the_top_of_the_board_marks_the_member() -> None:
    text = texts(home("U0CARLA001"))

    assert "*🏆 Most social this week*" in text
    assert "2. <@U0CARLA001> `████░░░░░░` *15.0* pts · 💬 3 · 📣 0 · ⚖️ —  ← you" in text


def test_switches_offer_pause_and_stop_while_nudges_run() -> None:
    found = buttons(home())

    assert found["Pause nudges for a week:pause"]["action_id"] == SWITCH_ACTIONS[NudgeSwitch.PAUSE]
    assert found["Stop nudges:stop"]["action_id"] == SWITCH_ACTIONS[NudgeSwitch.STOP]


def test_a_paused_or_stopped_member_is_offered_resume_and_told_until_when() -> None:
    paused = home(nudges=NudgeState(stopped=False, paused_until=NOW + timedelta(days=7)))
    stopped = home(nudges=NudgeState(stopped=True, paused_until=None))

    assert "Nudges are paused until <!date^" in texts(paused)
    assert list(buttons(paused)) == ["Resume nudges:resume"]
    assert "Nudges are off" in texts(stopped)
    assert list(buttons(stopped)) == ["Turn nudges back on:resume"]


def test_a_member_with_nothing_this_week_is_told_the_target() -> None:
    text = texts(home("U0NEW00001"))

    assert "Nothing logged or seen this week yet. The team aims for 4:1" in text
    assert "Start with one reply today" in text


def test_an_opted_out_member_sees_only_how_to_opt_back_in() -> None:
    view = build_home(HomeView("U0ANA00001", None, RUNNING, NOW))

    assert "`/coach optin` turns tracking back on" in texts(view)
    assert buttons(view) == {}
