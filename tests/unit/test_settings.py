"""The `/coach settings` grammar, its defaults, its errors and its storage round trip."""

from __future__ import annotations

import json
import re
from dataclasses import FrozenInstanceError
from datetime import time

import pytest

from bot.coach.kinds import Kind
from bot.coach.settings import (
    SETTING_NAMES,
    SETTINGS,
    TARGET_PRESETS,
    SettingError,
    TeamSettings,
    apply_setting,
    describe_settings,
)

DEFAULTS = TeamSettings()


def test_defaults_work_without_any_setup() -> None:
    assert DEFAULTS.timezone == "UTC"
    assert DEFAULTS.summary_channel is None
    assert (DEFAULTS.summary_weekday, DEFAULTS.summary_time) == (0, time(9, 0))
    assert DEFAULTS.reminder_channel is None
    assert DEFAULTS.reminder_time == time(10, 0)
    assert DEFAULTS.quiet_days == frozenset({5, 6})
    assert DEFAULTS.target_ratio == 4.0
    assert DEFAULTS.waiting_hours == 24
    assert dict(DEFAULTS.weights) == {}
    assert DEFAULTS.coach_admins == frozenset()


def test_settings_cannot_be_changed_in_place() -> None:
    weights = {"reply": 3.0}
    settings = TeamSettings(weights=weights)
    weights["reply"] = 9.0
    assert settings.weights["reply"] == 3.0
    with pytest.raises(TypeError):
        settings.weights["like"] = 1.0  # type: ignore[index]
    with pytest.raises(FrozenInstanceError):
        settings.timezone = "Europe/Madrid"  # type: ignore[misc]
    assert hash(settings) == hash(TeamSettings(weights={"reply": 3}))


def test_one_table_names_every_setting_with_a_working_example() -> None:
    assert SETTING_NAMES == (
        "summary-channel",
        "summary-time",
        "timezone",
        "reminder-channel",
        "reminder-time",
        "quiet-days",
        "target",
        "waiting-hours",
        "weight",
        "admins",
    )
    for spec in SETTINGS:
        name, value = spec.example.split(" ", 1)
        assert name == spec.name and spec.usage.startswith(spec.name)
        if "#" not in value and "@" not in value:  # mentions need Slack's escaping, tested below
            apply_setting(DEFAULTS, name, value)


@pytest.mark.parametrize(
    ("value", "channel"),
    [("<#C123ABC|team-social>", "C123ABC"), ("<#C123ABC>", "C123ABC"), ("<#G0PRIVATE|secret>", "G0PRIVATE")],
)
def test_summary_channel_takes_a_slack_channel_mention(value: str, channel: str) -> None:
    assert apply_setting(DEFAULTS, "summary-channel", value).summary_channel == channel


def test_a_channel_goes_back_to_its_default() -> None:
    chosen = apply_setting(DEFAULTS, "reminder-channel", "<#C1|social>")
    assert chosen.reminder_channel == "C1"
    assert apply_setting(chosen, "reminder-channel", "default").reminder_channel is None


@pytest.mark.parametrize("value", ["#social", "social", "<#social>", "<#C1|a> <#C2|b>"])
def test_a_channel_name_is_rejected_with_a_hint_to_pick_it_from_the_list(value: str) -> None:
    with pytest.raises(SettingError) as error:
        apply_setting(DEFAULTS, "summary-channel", value)
    assert error.value.setting == "summary-channel"
    assert "pick the channel from Slack's list" in str(error.value)
    assert "/coach settings summary-channel #team-social" in str(error.value)


@pytest.mark.parametrize(
    ("value", "weekday", "at"),
    [
        ("monday 09:00", 0, time(9, 0)),
        ("Friday 16:30", 4, time(16, 30)),
        ("tue 9:05", 1, time(9, 5)),
        ("thurs 00:00", 3, time(0, 0)),
        ("SUN 23:59", 6, time(23, 59)),
    ],
)
def test_summary_time_takes_a_day_and_a_time(value: str, weekday: int, at: time) -> None:
    changed = apply_setting(DEFAULTS, "summary-time", value)
    assert (changed.summary_weekday, changed.summary_time) == (weekday, at)


@pytest.mark.parametrize("value", ["09:00", "monday", "monday 9am", "mo 09:00", "monday 24:00", "monday 09:60"])
def test_summary_time_rejects_what_is_not_a_day_and_a_time(value: str) -> None:
    with pytest.raises(SettingError, match="summary-time monday 09:00"):
        apply_setting(DEFAULTS, "summary-time", value)


@pytest.mark.parametrize(
    ("value", "zone"),
    [("Europe/Madrid", "Europe/Madrid"), ("europe/madrid", "Europe/Madrid"), ("utc", "UTC")],
)
def test_timezone_takes_an_iana_name_in_any_case(value: str, zone: str) -> None:
    assert apply_setting(DEFAULTS, "timezone", value).timezone == zone


@pytest.mark.parametrize(
    ("value", "guess"),
    [("Europe/Madird", "Europe/Madrid"), ("new york", "America/New_York"), ("Madrid", "Europe/Madrid")],
)
def test_an_unknown_timezone_suggests_the_closest(value: str, guess: str) -> None:
    with pytest.raises(SettingError) as error:
        apply_setting(DEFAULTS, "timezone", value)
    assert f"Did you mean {guess}?" in error.value.problem
    assert error.value.example == f"timezone {guess}"


@pytest.mark.parametrize("value", ["Mars/Olympus_Mons", "localtime", "+02:00", "../etc/passwd"])
def test_timezone_rejects_what_is_not_a_place(value: str) -> None:
    with pytest.raises(SettingError, match="I don't know the time zone"):
        apply_setting(DEFAULTS, "timezone", value)


def test_reminder_time_takes_a_time() -> None:
    assert apply_setting(DEFAULTS, "reminder-time", "08:15").reminder_time == time(8, 15)
    with pytest.raises(SettingError, match="24-hour clock"):
        apply_setting(DEFAULTS, "reminder-time", "8.15")


@pytest.mark.parametrize(
    ("value", "days"),
    [
        ("sat,sun", {5, 6}),
        ("fri, sat", {4, 5}),
        ("Sunday", {6}),
        ("none", set()),
        ("NONE", set()),
        ("mon tue wed thu fri sat sun", set(range(7))),
    ],
)
def test_quiet_days_takes_days_or_none(value: str, days: set[int]) -> None:
    assert apply_setting(DEFAULTS, "quiet-days", value).quiet_days == days


def test_quiet_days_rejects_an_unknown_day() -> None:
    with pytest.raises(SettingError, match="“caturday” isn't a day of the week"):
        apply_setting(DEFAULTS, "quiet-days", "fri,caturday")


@pytest.mark.parametrize(
    ("value", "ratio"),
    [
        ("4-1-1", 4.0),
        ("5-3-2", 2.3),
        ("rule-of-thirds", 2.0),
        ("rule of thirds", 2.0),
        ("Rule Of Thirds", 2.0),
        ("80/20", 4.0),
        ("3", 3.0),
        ("2.5", 2.5),
        ("3:1", 3.0),
        ("0.5", 0.5),
        ("20", 20.0),
    ],
)
def test_target_takes_a_preset_or_a_number(value: str, ratio: float) -> None:
    assert apply_setting(DEFAULTS, "target", value).target_ratio == ratio


def test_presets_read_as_actions_given_per_post() -> None:
    assert TARGET_PRESETS == {"4-1-1": 4.0, "5-3-2": 2.3, "rule-of-thirds": 2.0, "80/20": 4.0}


@pytest.mark.parametrize("value", ["0.4", "21", "100"])
def test_target_rejects_a_number_out_of_bounds(value: str) -> None:
    with pytest.raises(SettingError, match=re.escape("between 0.5 and 20")):
        apply_setting(DEFAULTS, "target", value)


def test_target_rejects_an_unknown_preset_and_suggests_the_closest() -> None:
    with pytest.raises(SettingError) as error:
        apply_setting(DEFAULTS, "target", "4-2-1")
    assert "Did you mean 4-1-1?" in error.value.problem
    assert "rule-of-thirds" in error.value.problem


@pytest.mark.parametrize("value", ["-3", "four", "nan", "inf"])
def test_target_rejects_what_is_not_a_preset_or_a_number(value: str) -> None:
    with pytest.raises(SettingError, match="isn't a preset or a number"):
        apply_setting(DEFAULTS, "target", value)


@pytest.mark.parametrize(("value", "hours"), [("1", 1), ("24", 24), ("168", 168)])
def test_waiting_hours_takes_whole_hours(value: str, hours: int) -> None:
    assert apply_setting(DEFAULTS, "waiting-hours", value).waiting_hours == hours


@pytest.mark.parametrize(
    ("value", "problem"), [("0", "between 1 and 168"), ("169", "between 1 and 168"), ("1.5", "whole number")]
)
def test_waiting_hours_rejects_other_values(value: str, problem: str) -> None:
    with pytest.raises(SettingError, match=re.escape(problem)):
        apply_setting(DEFAULTS, "waiting-hours", value)


def test_weight_overrides_one_kind_and_goes_back_to_default() -> None:
    changed = apply_setting(DEFAULTS, "weight", "reply 7")
    changed = apply_setting(changed, "weight", "LIKE 0")
    changed = apply_setting(changed, "weight", "answer 20")
    assert dict(changed.weights) == {Kind.REPLY: 7.0, Kind.LIKE: 0.0, Kind.ANSWER: 20.0}
    assert dict(apply_setting(changed, "weight", "reply default").weights) == {"like": 0.0, "answer": 20.0}
    assert dict(DEFAULTS.weights) == {}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("replies 3", "“replies” isn't a kind of action. Did you mean reply?"),
        ("reply 21", "between 0 and 20"),
        ("reply -1", "isn't a number of points"),
        ("reply", "a kind of action and its points"),
    ],
)
def test_weight_rejects_unknown_kinds_and_points_out_of_bounds(value: str, problem: str) -> None:
    with pytest.raises(SettingError, match=re.escape(problem)):
        apply_setting(DEFAULTS, "weight", value)


def test_admins_are_added_and_removed_by_mention() -> None:
    changed = apply_setting(DEFAULTS, "admins", "add <@U123ABC|ana>")
    changed = apply_setting(changed, "admins", "add <@W999> <@U777|ben>")
    assert changed.coach_admins == {"U123ABC", "W999", "U777"}
    assert apply_setting(changed, "admins", "add <@U123ABC>") == changed
    assert apply_setting(changed, "admins", "remove <@U123ABC>").coach_admins == {"W999", "U777"}


@pytest.mark.parametrize("value", ["add @ana", "add", "add <@U1> and ana", "promote <@U1>"])
def test_admins_reject_names_that_are_not_mentions(value: str) -> None:
    with pytest.raises(SettingError, match="admins add @ana"):
        apply_setting(DEFAULTS, "admins", value)


def test_setting_names_are_read_kindly() -> None:
    assert apply_setting(DEFAULTS, " Summary_Time ", "  friday 16:00 ").summary_weekday == 4


@pytest.mark.parametrize(
    ("name", "guess"), [("sumary-time", "summary-time"), ("timezome", "timezone"), ("admin", "admins")]
)
def test_an_unknown_setting_suggests_the_closest(name: str, guess: str) -> None:
    with pytest.raises(SettingError) as error:
        apply_setting(DEFAULTS, name, "x")
    assert f"Did you mean {guess}?" in error.value.problem
    assert error.value.example.startswith(guess)


def test_an_unknown_setting_far_from_any_lists_them_all() -> None:
    with pytest.raises(SettingError) as error:
        apply_setting(DEFAULTS, "colour", "blue")
    assert all(name in error.value.problem for name in SETTING_NAMES)


def test_a_missing_value_shows_the_usage() -> None:
    with pytest.raises(SettingError, match="It needs a value: reminder-time <HH:MM>"):
        apply_setting(DEFAULTS, "reminder-time", "   ")


def test_an_error_names_the_setting_the_problem_and_a_right_form() -> None:
    with pytest.raises(SettingError) as error:
        apply_setting(DEFAULTS, "waiting-hours", "500")
    assert str(error.value) == (
        "waiting-hours: Waiting hours must be between 1 and 168; “500” isn't. "
        "For example: `/coach settings waiting-hours 24`"
    )
    assert isinstance(error.value, ValueError)


def test_describe_shows_defaults_in_words() -> None:
    assert describe_settings(DEFAULTS) == [
        ("summary-channel", "the channel I was first added to"),
        ("summary-time", "Monday 09:00 (UTC)"),
        ("timezone", "UTC"),
        ("reminder-channel", "same as the summary"),
        ("reminder-time", "10:00 (UTC)"),
        ("quiet-days", "Saturday, Sunday"),
        ("target", "4:1 (4-1-1, 80/20)"),
        ("waiting-hours", "24 hours"),
        ("weight", "defaults"),
        ("admins", "none"),
    ]


def _configured() -> TeamSettings:
    settings = DEFAULTS
    for name, value in [
        ("timezone", "Europe/Madrid"),
        ("summary-channel", "<#C1|team-social>"),
        ("reminder-channel", "<#C2|social>"),
        ("summary-time", "friday 16:30"),
        ("reminder-time", "11:00"),
        ("quiet-days", "none"),
        ("target", "2.5"),
        ("waiting-hours", "48"),
        ("weight", "reply 7"),
        ("weight", "like 0.25"),
        ("admins", "add <@U2|ben> <@U1|ana>"),
    ]:
        settings = apply_setting(settings, name, value)
    return settings


def test_describe_shows_changes_with_mentions_slack_renders() -> None:
    assert describe_settings(_configured()) == [
        ("summary-channel", "<#C1>"),
        ("summary-time", "Friday 16:30 (Europe/Madrid)"),
        ("timezone", "Europe/Madrid"),
        ("reminder-channel", "<#C2>"),
        ("reminder-time", "11:00 (Europe/Madrid)"),
        ("quiet-days", "none"),
        ("target", "2.5:1"),
        ("waiting-hours", "48 hours"),
        ("weight", "like 0.25, reply 7 (others default)"),
        ("admins", "<@U1>, <@U2>"),
    ]


def test_describe_names_the_preset_of_a_target() -> None:
    assert dict(describe_settings(apply_setting(DEFAULTS, "target", "5-3-2")))["target"] == "2.3:1 (5-3-2)"


@pytest.mark.parametrize("settings", [DEFAULTS, _configured()])
def test_settings_survive_a_json_column(settings: TeamSettings) -> None:
    stored = json.loads(json.dumps(settings.to_dict()))
    assert TeamSettings.from_dict(stored) == settings


def test_to_dict_is_plain_and_stable() -> None:
    assert _configured().to_dict() == {
        "timezone": "Europe/Madrid",
        "summary_channel": "C1",
        "summary_weekday": 4,
        "summary_time": "16:30",
        "reminder_channel": "C2",
        "reminder_time": "11:00",
        "quiet_days": [],
        "target_ratio": 2.5,
        "waiting_hours": 48,
        "weights": {"like": 0.25, "reply": 7.0},
        "coach_admins": ["U1", "U2"],
    }


def test_from_dict_fills_missing_keys_with_defaults_and_ignores_unknown_ones() -> None:
    assert TeamSettings.from_dict({}) == DEFAULTS
    loaded = TeamSettings.from_dict({"timezone": "Europe/Madrid", "summary_time": "08:00", "colour": "blue"})
    assert loaded == TeamSettings(timezone="Europe/Madrid", summary_time=time(8, 0))


def test_weights_the_scoring_cannot_honour_are_refused_with_its_reason() -> None:
    """A post worth as much as a reply would let broadcasting win: settings refuse what scoring refuses."""
    from bot.coach.settings import SettingError, TeamSettings, apply_setting

    with pytest.raises(SettingError) as raised:
        apply_setting(TeamSettings(), "weight", "post 5")
    assert "weight" in str(raised.value)
    assert apply_setting(TeamSettings(), "weight", "post 1").weights == {"post": 1.0}
