"""A team's coaching settings, and the `/coach settings <name> <value>` grammar that changes them.

The defaults work with no setup at all, so a team can start coaching the day the bot joins. Every change
goes through `apply_setting`, which returns a new frozen copy or raises `SettingError` with words a
member can act on. One table, `SETTINGS`, drives the parser, the usage text and the settings card, so
they cannot drift apart.

Channels and people must arrive as Slack mentions (`<#C123|social>`, `<@U123|ana>`); Slack sends them
that way when the command has "Escape channels, users, and links" on (`should_escape: true` in the
manifest). A bare `#social` or `@ana` is rejected with a hint to pick it from Slack's autocomplete
rather than handed on for lookup: resolving a name means paging through conversations.list (rate
limited, blind to private channels the bot is not in), and names change while ids do not.
"""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from types import MappingProxyType
from typing import Any

from bot.coach.kinds import Kind
from bot.coach.scoring import TARGET_RATIO_BOUNDS, WEIGHT_BOUNDS, InvalidScoringRules, ScoringRules

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

TARGET_BOUNDS = TARGET_RATIO_BOUNDS  # one source: the scoring model decides what it can honour
WAITING_HOURS_BOUNDS = (1, 168)

TARGET_PRESETS: Mapping[str, float] = MappingProxyType(
    {"4-1-1": 4.0, "5-3-2": 2.3, "rule-of-thirds": 2.0, "80/20": 4.0}
)
"""Rules of thumb for social media, each read as "engagement given per post pushed".

- 4-1-1: for every self-promotional post, about four pieces that engage or serve others: 4.0.
- 5-3-2: out of ten, five from others and two personal, human touches for every three of your own:
  (5 + 2) / 3 = 2.33, kept at one decimal (2.3) so the card shows what is stored.
- rule-of-thirds: a third promoting yourself, a third others' ideas, a third personal interaction:
  two thirds given per third pushed, 2.0.
- 80/20: eighty percent serving others, twenty percent promotion: 80 / 20 = 4.0.
"""

# Names that zoneinfo lists on some systems but that are not places: they would follow the server.
_NOT_PLACES = frozenset({"localtime", "Factory"})
# Labels stop at `<` as well as `>`, so findall over `<@U1|<@U1|...` reads each stretch once (linear).
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^<>]*)?>")
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_RATIO = re.compile(r"(\d+(?:\.\d+)?)(?::1)?")
_POINTS = re.compile(r"\d+(?:\.\d+)?")
_RESET = "default"


@dataclass(frozen=True)
class TeamSettings:
    """How the bot coaches one team. Times are wall-clock times in `timezone`; weekdays are Monday=0.

    None for a channel means "decided elsewhere": the summary goes to the channel the bot was first
    added to (the caller knows it), and reminders follow the summary channel.
    """

    timezone: str = "UTC"
    summary_channel: str | None = None
    summary_weekday: int = 0
    summary_time: time = time(9, 0)
    reminder_channel: str | None = None
    reminder_time: time = time(10, 0)
    quiet_days: frozenset[int] = frozenset({5, 6})
    target_ratio: float = 4.0
    waiting_hours: int = 24
    weights: Mapping[str, float] = field(default_factory=dict, hash=False)
    """Points per kind (a `Kind` value) that override the scoring defaults; empty means none do."""
    coach_admins: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # Copy what we are given, so a caller's dict or set changing later cannot change the settings.
        object.__setattr__(self, "weights", MappingProxyType({k: float(v) for k, v in self.weights.items()}))
        object.__setattr__(self, "quiet_days", frozenset(self.quiet_days))
        object.__setattr__(self, "coach_admins", frozenset(self.coach_admins))

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON types, in a stable order, for a JSON column."""
        return {
            "timezone": self.timezone,
            "summary_channel": self.summary_channel,
            "summary_weekday": self.summary_weekday,
            "summary_time": self.summary_time.strftime("%H:%M"),
            "reminder_channel": self.reminder_channel,
            "reminder_time": self.reminder_time.strftime("%H:%M"),
            "quiet_days": sorted(self.quiet_days),
            "target_ratio": self.target_ratio,
            "waiting_hours": self.waiting_hours,
            "weights": dict(sorted(self.weights.items())),
            "coach_admins": sorted(self.coach_admins),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TeamSettings:
        """Read what `to_dict` wrote; a missing key takes its default, so rows stored before a setting
        existed still load, and unknown keys are ignored so an older release can read a newer row."""
        default = cls()

        def clock(key: str, fallback: time) -> time:
            value = data.get(key)
            return fallback if value is None else time.fromisoformat(value)

        return cls(
            timezone=data.get("timezone", default.timezone),
            summary_channel=data.get("summary_channel", default.summary_channel),
            summary_weekday=int(data.get("summary_weekday", default.summary_weekday)),
            summary_time=clock("summary_time", default.summary_time),
            reminder_channel=data.get("reminder_channel", default.reminder_channel),
            reminder_time=clock("reminder_time", default.reminder_time),
            quiet_days=frozenset(data.get("quiet_days", default.quiet_days)),
            target_ratio=float(data.get("target_ratio", default.target_ratio)),
            waiting_hours=int(data.get("waiting_hours", default.waiting_hours)),
            weights=data.get("weights", default.weights),
            coach_admins=frozenset(data.get("coach_admins", default.coach_admins)),
        )


class SettingError(ValueError):
    """A `/coach settings` line we cannot apply: which setting, what is wrong, and a line that works."""

    def __init__(self, setting: str, problem: str, example: str) -> None:
        self.setting = setting
        self.problem = problem
        self.example = example
        super().__init__(f"{setting}: {problem} For example: `/coach settings {example}`")


class _Invalid(Exception):
    """Raised by one setting's parser; `apply_setting` adds the setting's name and example."""

    def __init__(self, problem: str, example: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.example = example


@dataclass(frozen=True)
class SettingSpec:
    """One line of `/coach settings`: how to write it, what it does, how to apply and show it."""

    name: str
    usage: str
    example: str
    about: str
    apply: Callable[[TeamSettings, str], TeamSettings]
    show: Callable[[TeamSettings], str]


def _weekday(word: str) -> int:
    """Accept a day's name or any start of it from three letters on: mon, tues, thursday."""
    word = word.lower()
    for index, name in enumerate(DAY_NAMES):
        if len(word) >= 3 and name.lower().startswith(word):
            return index
    raise _Invalid(f"“{word}” isn't a day of the week.")


def _clock(text: str) -> time:
    match = _CLOCK.fullmatch(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise _Invalid(f"“{text}” isn't a time; use the 24-hour clock, like 09:00 or 17:30.")
    return time(int(match[1]), int(match[2]))


def _channel(value: str) -> str | None:
    if value.lower() == _RESET:
        return None
    match = _CHANNEL.fullmatch(value)
    if not match:
        raise _Invalid(
            f"I can't tell which channel “{value}” is. Type # and pick the channel from Slack's list, "
            "so it reaches me as a link."
        )
    return match[1]


def _number(value: float) -> str:
    return f"{value:g}"


def _between(value: float, bounds: tuple[float, float], what: str) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise _Invalid(f"{what} must be between {_number(low)} and {_number(high)}; “{_number(value)}” isn't.")


@functools.cache
def _zone_names() -> Mapping[str, str]:
    """Map lower-cased IANA names to their proper spelling, so `europe/madrid` works everywhere."""
    names = zoneinfo.available_timezones() - _NOT_PLACES
    return MappingProxyType({name.lower(): name for name in names})


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" Did you mean {close[0]}?" if close else ""


def _apply_summary_channel(s: TeamSettings, value: str) -> TeamSettings:
    return replace(s, summary_channel=_channel(value))


def _apply_summary_time(s: TeamSettings, value: str) -> TeamSettings:
    words = value.split()
    if len(words) != 2:
        raise _Invalid("I need a day and a time.")
    return replace(s, summary_weekday=_weekday(words[0]), summary_time=_clock(words[1]))


def _apply_timezone(s: TeamSettings, value: str) -> TeamSettings:
    names = _zone_names()
    name = names.get(value.lower())
    if name is not None:
        return replace(s, timezone=name)
    city = value.lower().replace(" ", "_")
    same_city = sorted(n for n in names.values() if n.lower().rsplit("/", 1)[-1] == city)
    guess = same_city[0] if same_city else None
    if guess is None:
        close = difflib.get_close_matches(value, list(names.values()), n=1, cutoff=0.6)
        guess = close[0] if close else None
    hint = f" Did you mean {guess}?" if guess else " Use a name from the IANA list, like Europe/Madrid."
    raise _Invalid(f"I don't know the time zone “{value}”.{hint}", f"timezone {guess}" if guess else None)


def _apply_reminder_channel(s: TeamSettings, value: str) -> TeamSettings:
    return replace(s, reminder_channel=_channel(value))


def _apply_reminder_time(s: TeamSettings, value: str) -> TeamSettings:
    return replace(s, reminder_time=_clock(value))


def _apply_quiet_days(s: TeamSettings, value: str) -> TeamSettings:
    if value.lower() == "none":
        return replace(s, quiet_days=frozenset())
    return replace(s, quiet_days=frozenset(_weekday(word) for word in re.split(r"[,\s]+", value) if word))


def _apply_target(s: TeamSettings, value: str) -> TeamSettings:
    preset = re.sub(r"\s+", "-", value.lower())
    if preset in TARGET_PRESETS:
        return replace(s, target_ratio=TARGET_PRESETS[preset])
    match = _RATIO.fullmatch(value)
    if not match:
        presets = ", ".join(TARGET_PRESETS)
        raise _Invalid(
            f"“{value}” isn't a preset or a number.{_suggest(preset, list(TARGET_PRESETS))} "
            f"The presets are {presets}; or give the number of actions given per post, like 3."
        )
    ratio = float(match[1])
    _between(ratio, TARGET_BOUNDS, "The target")
    return replace(s, target_ratio=ratio)


def _apply_waiting_hours(s: TeamSettings, value: str) -> TeamSettings:
    if not value.isdigit():
        raise _Invalid(f"“{value}” isn't a whole number of hours.")
    hours = int(value)
    _between(hours, WAITING_HOURS_BOUNDS, "Waiting hours")
    return replace(s, waiting_hours=hours)


def _apply_weight(s: TeamSettings, value: str) -> TeamSettings:
    words = value.lower().split()
    if len(words) != 2:
        raise _Invalid("I need a kind of action and its points.")
    kind, points = words
    kinds = [k.value for k in Kind]
    if kind not in kinds:
        raise _Invalid(f"“{kind}” isn't a kind of action.{_suggest(kind, kinds)} The kinds are {', '.join(kinds)}.")
    weights = dict(s.weights)
    if points == _RESET:
        weights.pop(kind, None)
        return replace(s, weights=weights)
    if not _POINTS.fullmatch(points):
        raise _Invalid(f"“{points}” isn't a number of points.")
    _between(float(points), WEIGHT_BOUNDS, "Points")
    weights[kind] = float(points)
    return _scorable(replace(s, weights=weights))


def _scorable(s: TeamSettings) -> TeamSettings:
    """Refuse weights the scoring model cannot honour together (e.g. a post worth as much as a reply)."""
    try:
        ScoringRules.from_settings(s.weights, s.target_ratio)
    except InvalidScoringRules as error:
        raise _Invalid(str(error)) from None
    return s


def _apply_admins(s: TeamSettings, value: str) -> TeamSettings:
    action, *rest = value.split(maxsplit=1)
    action, people = action.lower(), "".join(rest)
    users = frozenset(_USER.findall(people))
    if action not in ("add", "remove"):
        raise _Invalid("Say add or remove, then the people.")
    if not users or _USER.sub("", people).strip():
        raise _Invalid("Type @ and pick each person from Slack's list, so they reach me as links.")
    if action == "add":
        return replace(s, coach_admins=s.coach_admins | users)
    return replace(s, coach_admins=s.coach_admins - users)


def _show_channel(channel: str | None, otherwise: str) -> str:
    return f"<#{channel}>" if channel else otherwise


def _show_target(s: TeamSettings) -> str:
    presets = [name for name, ratio in TARGET_PRESETS.items() if ratio == s.target_ratio]
    named = f" ({', '.join(presets)})" if presets else ""
    return f"{_number(s.target_ratio)}:1{named}"


def _show_weights(s: TeamSettings) -> str:
    if not s.weights:
        return "defaults"
    overrides = ", ".join(f"{kind} {_number(points)}" for kind, points in sorted(s.weights.items()))
    return f"{overrides} (others default)"


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "summary-channel",
        "summary-channel <#channel | default>",
        "summary-channel #team-social",
        "Where the weekly summary goes.",
        _apply_summary_channel,
        lambda s: _show_channel(s.summary_channel, "the channel I was first added to"),
    ),
    SettingSpec(
        "summary-time",
        "summary-time <day> <HH:MM>",
        "summary-time monday 09:00",
        "When the weekly summary of last week is posted.",
        _apply_summary_time,
        lambda s: f"{DAY_NAMES[s.summary_weekday]} {s.summary_time:%H:%M} ({s.timezone})",
    ),
    SettingSpec(
        "timezone",
        "timezone <IANA name>",
        "timezone Europe/Madrid",
        "The team's clock: weeks, summaries and reminders follow it.",
        _apply_timezone,
        lambda s: s.timezone,
    ),
    SettingSpec(
        "reminder-channel",
        "reminder-channel <#channel | default>",
        "reminder-channel #social",
        "Where the daily reminder of links waiting for a reply goes.",
        _apply_reminder_channel,
        lambda s: _show_channel(s.reminder_channel, "same as the summary"),
    ),
    SettingSpec(
        "reminder-time",
        "reminder-time <HH:MM>",
        "reminder-time 10:00",
        "When the daily reminder is posted on working days.",
        _apply_reminder_time,
        lambda s: f"{s.reminder_time:%H:%M} ({s.timezone})",
    ),
    SettingSpec(
        "quiet-days",
        "quiet-days <days | none>",
        "quiet-days sat,sun",
        "Days without reminders or nudges.",
        _apply_quiet_days,
        lambda s: ", ".join(DAY_NAMES[d] for d in sorted(s.quiet_days)) or "none",
    ),
    SettingSpec(
        "target",
        "target <preset | number>",
        "target 4-1-1",
        "Actions given per post pushed: 4-1-1, 5-3-2, rule-of-thirds, 80/20 or a number.",
        _apply_target,
        _show_target,
    ),
    SettingSpec(
        "waiting-hours",
        "waiting-hours <1-168>",
        "waiting-hours 24",
        "How long a shared link may go without a reply before it counts as waiting.",
        _apply_waiting_hours,
        lambda s: f"{s.waiting_hours} hours",
    ),
    SettingSpec(
        "weight",
        "weight <kind> <points | default>",
        "weight reply 5",
        "Points one kind of action earns, from 0 to 20.",
        _apply_weight,
        _show_weights,
    ),
    SettingSpec(
        "admins",
        "admins <add | remove> <@person>",
        "admins add @ana",
        "Who may change these settings.",
        _apply_admins,
        lambda s: ", ".join(f"<@{user}>" for user in sorted(s.coach_admins)) or "none",
    ),
)
SETTING_NAMES: tuple[str, ...] = tuple(spec.name for spec in SETTINGS)
_BY_NAME = {spec.name: spec for spec in SETTINGS}


def apply_setting(current: TeamSettings, name: str, value: str) -> TeamSettings:
    """Return `current` with one setting changed, or raise SettingError saying how to write it.

    `value` is the rest of the command line after the name (`rule of thirds` has spaces).
    """
    key = name.strip().lower().replace("_", "-")
    spec = _BY_NAME.get(key)
    if spec is None:
        close = difflib.get_close_matches(key, SETTING_NAMES, n=1, cutoff=0.6)
        if close:
            raise SettingError(
                key, f"There's no setting called that. Did you mean {close[0]}?", _BY_NAME[close[0]].example
            )
        raise SettingError(
            key,
            f"There's no setting called that. The settings are {', '.join(SETTING_NAMES)}.",
            SETTINGS[0].example,
        )
    value = value.strip()
    if not value:
        raise SettingError(spec.name, f"It needs a value: {spec.usage}.", spec.example)
    try:
        return spec.apply(current, value)
    except _Invalid as invalid:
        raise SettingError(spec.name, invalid.problem, invalid.example or spec.example) from None


def describe_settings(s: TeamSettings) -> list[tuple[str, str]]:
    """Return (name, value as a person reads it) rows in the order of `SETTINGS`, for the settings card.

    Channels and people come back as Slack mentions (`<#C123>`, `<@U123>`), which Slack shows as names.
    """
    return [(spec.name, spec.show(s)) for spec in SETTINGS]
