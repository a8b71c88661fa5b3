"""The `/coach` grammar: turn a slash command's text into a typed command, or into a kind error message.

Slack sends the text with `should_escape: true`, so mentions, channels and links arrive as `<@U1|ana>`,
`<#C1|social>` and `<https://x.com/a|x.com/a>`, and a typed `& < >` arrives as an entity. Keeping the
grammar pure (stdlib and bot.coach only) keeps handlers thin and lets every wording be tested without
Slack. One table, SUBCOMMANDS, drives both the parser and `/coach help`, so they cannot drift apart.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from bot.coach.kinds import LOGGABLE_KINDS, Kind
from bot.coach.periods import PeriodName
from bot.coach.settings import SETTING_NAMES, SETTINGS
from bot.coach.urls import InvalidURL, looks_like_link, validate_url

COMMAND = "/coach"
MAX_NOTE_LENGTH = 500
MAX_BACKFILL_DAYS = 14

# Everyday words people type for a kind, in any case. The kinds' own names are accepted too.
_WORDS_FOR_KIND: dict[Kind, str] = {
    Kind.POST: "posted tweet tweeted toot tooted publish published article blog blogged video checkin check-in",
    Kind.REPLY: "replied respond responded response",
    Kind.COMMENT: "commented",
    Kind.ANSWER: "answered",
    Kind.SHARE: "shared rt retweet retweeted repost reposted reshare reshared boost boosted",
    Kind.LIKE: "liked fav fave favorite favourite heart upvote upvoted",
    Kind.FOLLOW: "followed sub subscribe subscribed connect connected",
}
KIND_SYNONYMS: Mapping[str, Kind] = MappingProxyType(
    {word: kind for kind, words in _WORDS_FOR_KIND.items() for word in words.split()}
)
_KIND_WORDS: Mapping[str, Kind] = {kind.value: kind for kind in LOGGABLE_KINDS} | dict(KIND_SYNONYMS)
_KIND_LIST = ", ".join(kind.value for kind in LOGGABLE_KINDS)

_LOG_EXAMPLE = "log reply https://x.com/ana/status/1 thanked her for the tip"
# Setting names, forms and values belong to bot.coach.settings; this grammar only splits name from value.
_SETTING_EXAMPLES: Mapping[str, str] = {spec.name: f"settings {spec.example}" for spec in SETTINGS}


class CommandError(ValueError):
    """Text the member typed that is not a command; `str(error)` is the mrkdwn reply telling them why."""


class FieldErrors(ValueError):
    """A log form that cannot be saved; `errors` maps 'kind', 'url' or 'note' to plain-text messages."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors: Mapping[str, str] = MappingProxyType(dict(errors))


@dataclass(frozen=True)
class LogAction:
    """Record something social the member did elsewhere. `url` is validated and unwrapped; `note` is
    plain text (Slack markup turned into what the member saw, entities decoded), so escape it to show it."""

    kind: Kind
    url: str | None
    note: str


@dataclass(frozen=True)
class OpenLogModal:
    """`/coach log` on its own: the member wants the form rather than the one-liner."""


@dataclass(frozen=True)
class ShowMe:
    period: PeriodName


@dataclass(frozen=True)
class ShowLeaderboard:
    """`public` asks to post in the channel; otherwise only the caller sees it."""

    period: PeriodName
    public: bool


@dataclass(frozen=True)
class ShowHelp:
    pass


@dataclass(frozen=True)
class OptOut:
    pass


@dataclass(frozen=True)
class OptIn:
    pass


@dataclass(frozen=True)
class Undo:
    pass


@dataclass(frozen=True)
class Export:
    pass


@dataclass(frozen=True)
class PreviewSummary:
    """Show this week's team summary to the caller only, before the team sees it."""


@dataclass(frozen=True)
class Backfill:
    """Count a channel's recent history; `channel_id` None means the channel the command came from."""

    channel_id: str | None
    days: int


@dataclass(frozen=True)
class ShowSettings:
    pass


@dataclass(frozen=True)
class ChangeSetting:
    """A name from bot.coach.settings.SETTING_NAMES and its value exactly as Slack sent it (markup and
    entities included), so `apply_setting` can read channel and user ids out of it."""

    name: str
    value: str


Command = (
    LogAction
    | OpenLogModal
    | ShowMe
    | ShowLeaderboard
    | ShowHelp
    | OptOut
    | OptIn
    | Undo
    | Export
    | PreviewSummary
    | Backfill
    | ShowSettings
    | ChangeSetting
)


@dataclass(frozen=True)
class Subcommand:
    """One row of the `/coach` table: how it is written, explained and parsed.

    `usage` and `examples` are written without the leading `/coach`; `examples[0]` is the one error
    messages show. `parse` turns the words after the subcommand into a Command or raises CommandError.
    """

    name: str
    aliases: tuple[str, ...]
    usage: str
    summary: str
    examples: tuple[str, ...]
    admin_only: bool
    parse: Callable[[_Invocation], Command] = field(repr=False, compare=False)


# --- reading Slack's command text -------------------------------------------------------------------

# A token is a run of non-whitespace, or one piece of Slack markup kept whole even if its label has spaces
# (`<https://x.com/a|Text with a link>`) and split from text glued to it (`<https://x.com/a>,`).
_TOKEN = re.compile(r"<[^<>]*>|(?:[^\s<]|<(?![^<>]*>))+")
_MARKUP = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITY_CHARS = {"amp": "&", "lt": "<", "gt": ">"}
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]+")
_NUMBER = re.compile(r"[+-]?[0-9]+")
_MAX_SHOWN = 40
_PERIOD_WORDS = frozenset(period.value for period in PeriodName)


def _unescape(text: str) -> str:
    """Decode the three entities Slack uses, in one pass so `&amp;lt;` stays the text `&lt;`."""
    return _ENTITY.sub(lambda match: _ENTITY_CHARS[match.group(1)], text)


def _escape(text: str) -> str:
    """Make text safe to put in mrkdwn: no accidental links, mentions or `@channel` pings."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quote(plain: str) -> str:
    """Echo a member's words back in a message: quoted, escaped, on one line and short."""
    plain = " ".join(plain.split())
    if len(plain) > _MAX_SHOWN:
        plain = plain[: _MAX_SHOWN - 1] + "…"
    return f"“{_escape(plain)}”"


def _close_matches(word: str, choices: Iterable[str]) -> list[str]:
    """The one choice `word` looks like a typo of, if any; a word longer than any typo of ours is not compared."""
    return difflib.get_close_matches(word, choices, n=1) if len(word) <= _MAX_SHOWN else []


def _code(words: str) -> str:
    return f"`{COMMAND} {_escape(words)}`"


@dataclass(frozen=True)
class _SlackRef:
    """A mention, channel or link as Slack wrote it: `<@U1|ana>`, `<#C1|social>`, `<https://...|label>`."""

    what: Literal["mention", "channel", "link"]
    target: str  # user, channel or special id, or the URL; still entity-escaped
    label: str

    @property
    def as_typed(self) -> str:
        """What the member saw in the message box (still entity-escaped): `@ana`, `#social`, the link."""
        if self.what == "link":
            return self.label or self.target
        sigil = "#" if self.what == "channel" else "@"
        name = self.label.removeprefix(sigil) or self.target
        return sigil + name


def _ref_from(match: re.Match[str]) -> _SlackRef:
    """Read one `_MARKUP` match; its first character says what it points at."""
    target, label = match.group(1), match.group(2) or ""
    if target[0] in "@!":  # <!here> and <!subteam^S1|@design> are mentions too
        return _SlackRef("mention", target[1:], label)
    if target[0] == "#":
        return _SlackRef("channel", target[1:], label)
    return _SlackRef("link", target, label)


def _plain_text(raw: str) -> str:
    """Turn Slack-escaped text into what the member typed, so a note never carries a live mention or ping."""
    return _unescape(_MARKUP.sub(lambda match: _ref_from(match).as_typed, raw))


@dataclass(frozen=True)
class _Token:
    raw: str  # exactly as Slack sent it
    start: int  # where it begins in the command text, so a note keeps its own spacing

    @property
    def word(self) -> str:
        """The token as a keyword to compare: decoded and case-folded."""
        return _unescape(self.raw).casefold()

    @property
    def ref(self) -> _SlackRef | None:
        match = _MARKUP.fullmatch(self.raw)
        return _ref_from(match) if match else None

    @property
    def shown(self) -> str:
        ref = self.ref
        return _quote(_unescape(ref.as_typed if ref else self.raw))

    def is_bare_link(self) -> bool:
        """A link Slack did not wrap (`ftp://...`, `www.x.com`, `javascript:...`, `x.com/ana`): still meant as a
        link, so it is checked as one (and refused if it is not http(s) with a host) instead of kept as a note."""
        return looks_like_link(_unescape(self.raw))


def _tokenize(text: str) -> tuple[_Token, ...]:
    return tuple(_Token(match.group(0), match.start()) for match in _TOKEN.finditer(text))


@dataclass(frozen=True)
class _Invocation:
    """The words after a subcommand, with what an error about them needs to show the right form."""

    subcommand: Subcommand
    args: tuple[_Token, ...]
    text: str

    def rest_from(self, index: int) -> str:
        """The raw text from argument `index` to the end, with its inner spacing kept."""
        return self.text[self.args[index].start :].strip() if index < len(self.args) else ""

    def form(self) -> str:
        return f"The form is {_code(self.subcommand.usage)} — e.g. {_code(self.subcommand.examples[0])}."

    def unexpected(self, token: _Token) -> CommandError:
        name = self.subcommand.name
        if self.subcommand.usage == name:
            return CommandError(
                f"I didn't expect {token.shown} after {_code(name)}: it works on its own, just {_code(name)}."
            )
        return CommandError(f"I didn't expect {token.shown} after {_code(name)}. {self.form()}")


# --- one parser per subcommand ----------------------------------------------------------------------


def parse_kind(word: str) -> Kind:
    """Return the kind a member means by `word` ("Retweet", "check-in", "reply"); raise CommandError if none."""
    word = word.strip()
    kind = _KIND_WORDS.get(word.casefold())
    if kind is not None:
        return kind
    if not word:
        raise CommandError(f"Tell me what you did first, one of: {_KIND_LIST} — e.g. {_code(_LOG_EXAMPLE)}")
    close = _close_matches(word.casefold(), _KIND_WORDS)
    guess = f" Did you mean `{_KIND_WORDS[close[0]]}`?" if close else ""
    raise CommandError(
        f"I don't know the kind {_quote(word)}.{guess} Try one of: {_KIND_LIST} — e.g. {_code(_LOG_EXAMPLE)}"
    )


def _kind_from(token: _Token) -> Kind:
    ref = token.ref
    if ref is not None or token.is_bare_link():
        what = ref.what if ref else "link"
        raise CommandError(f"{token.shown} is a {what}, not a kind. Put the kind first — e.g. {_code(_LOG_EXAMPLE)}")
    return parse_kind(_unescape(token.raw))


def _url_from(token: _Token, call: _Invocation) -> str:
    ref = token.ref
    if ref is not None and ref.what != "link":
        raise CommandError(
            f"{token.shown} is a {ref.what}, not a link. Mentions and channels fit in the note, after the link"
            f" — e.g. {_code('log reply https://x.com/ana/status/1 thanked @ana')}"
        )
    try:
        return validate_url(_unescape(ref.target if ref else token.raw))
    except InvalidURL as error:
        raise CommandError(f"I can't use {token.shown} as a link: {error} {call.form()}") from error


def _note_too_long(length: int) -> str:
    return f"That note is {length} characters long; notes can be up to {MAX_NOTE_LENGTH}. Could you shorten it?"


def _parse_log(call: _Invocation) -> LogAction | OpenLogModal:
    if not call.args:
        return OpenLogModal()
    kind = _kind_from(call.args[0])
    url = None
    note_index = 1
    if len(call.args) > 1 and (call.args[1].ref is not None or call.args[1].is_bare_link()):
        url = _url_from(call.args[1], call)
        note_index = 2
    note = _plain_text(call.rest_from(note_index)).strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise CommandError(f"{_note_too_long(len(note))} {call.form()}")
    return LogAction(kind, url, note)


def _period_from(token: _Token, call: _Invocation) -> PeriodName:
    try:
        return PeriodName(token.word)
    except ValueError:
        raise CommandError(f"I don't know the period {token.shown}. Use week, month or all. {call.form()}") from None


def _parse_me(call: _Invocation) -> ShowMe:
    if len(call.args) > 1:
        raise call.unexpected(call.args[1])
    return ShowMe(_period_from(call.args[0], call) if call.args else PeriodName.WEEK)


def _parse_leaderboard(call: _Invocation) -> ShowLeaderboard:
    period: PeriodName | None = None
    public = False
    for token in call.args:
        if token.word == "public" and not public:
            public = True
        elif token.word in _PERIOD_WORDS and period is None:
            period = PeriodName(token.word)
        else:
            raise call.unexpected(token)
    return ShowLeaderboard(period or PeriodName.WEEK, public)


def _days_from(token: _Token, call: _Invocation) -> int:
    days = int(token.raw) if len(token.raw) <= 4 else 0  # short, so a thousand-digit number costs nothing
    if not 1 <= days <= MAX_BACKFILL_DAYS:
        raise CommandError(
            f"I can look back 1 to {MAX_BACKFILL_DAYS} days; {token.shown} is outside that. {call.form()}"
        )
    return days


def _parse_backfill(call: _Invocation) -> Backfill:
    channel_id: str | None = None
    days: int | None = None
    for token in call.args:
        ref = token.ref
        if ref is not None and ref.what == "channel" and channel_id is None:
            if not _CHANNEL_ID.fullmatch(ref.target):
                raise CommandError(f"I can't tell which channel {token.shown} is. {call.form()}")
            channel_id = ref.target
        elif token.raw.startswith("#") and channel_id is None:
            raise CommandError(
                f"I can't tell which channel {token.shown} is. Pick it from Slack's suggestions as you type,"
                f" so it turns into a link. {call.form()}"
            )
        elif _NUMBER.fullmatch(token.raw) and days is None:
            days = _days_from(token, call)
        else:
            raise call.unexpected(token)
    return Backfill(channel_id, days or MAX_BACKFILL_DAYS)


def _parse_settings(call: _Invocation) -> ShowSettings | ChangeSetting:
    if not call.args:
        return ShowSettings()
    name = call.args[0].word.replace("_", "-")
    if name not in SETTING_NAMES:
        close = _close_matches(name, SETTING_NAMES)
        choices = f"Did you mean `{close[0]}`?" if close else f"Settings: {', '.join(SETTING_NAMES)}"
        example = _SETTING_EXAMPLES[close[0] if close else SETTING_NAMES[0]]
        raise CommandError(f"I don't know the setting {call.args[0].shown}. {choices} — e.g. {_code(example)}")
    if len(call.args) == 1:
        raise CommandError(
            f"What should `{name}` be? Add the new value — e.g. {_code(_SETTING_EXAMPLES[name])} — "
            f"or see the current ones with {_code('settings')}."
        )
    return ChangeSetting(name, call.rest_from(1))


def _no_arguments(command: Command) -> Callable[[_Invocation], Command]:
    """Parser for subcommands that take nothing: anything after them is probably a typo worth pointing out."""

    def parse(call: _Invocation) -> Command:
        if call.args:
            raise call.unexpected(call.args[0])
        return command

    return parse


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "log",
        (),
        "log <kind> [link] [note]",
        "Log something social you did elsewhere. On its own, it opens a form.",
        (_LOG_EXAMPLE, "log share https://blog.example.com/launch", "log"),
        admin_only=False,
        parse=_parse_log,
    ),
    Subcommand(
        "me",
        ("stats", "mine"),
        "me [week|month|all]",
        "See your own balance, just for you (this week unless you say otherwise).",
        ("me month", "me"),
        admin_only=False,
        parse=_parse_me,
    ),
    Subcommand(
        "leaderboard",
        ("lb", "top", "board"),
        "leaderboard [week|month|all] [public]",
        "See who gave the most; add `public` to share it with the channel.",
        ("leaderboard month public", "leaderboard"),
        admin_only=False,
        parse=_parse_leaderboard,
    ),
    Subcommand(
        "summary",
        ("preview",),
        "summary",
        "Preview this week's team summary, just for you.",
        ("summary",),
        admin_only=False,
        parse=_no_arguments(PreviewSummary()),
    ),
    Subcommand(
        "undo",
        (),
        "undo",
        "Take back the last thing you logged.",
        ("undo",),
        admin_only=False,
        parse=_no_arguments(Undo()),
    ),
    Subcommand(
        "export",
        (),
        "export",
        "Get your own data as a CSV file in a DM.",
        ("export",),
        admin_only=False,
        parse=_no_arguments(Export()),
    ),
    Subcommand(
        "optout",
        ("opt-out",),
        "optout",
        "Stop tracking your activity and stop the nudges.",
        ("optout",),
        admin_only=False,
        parse=_no_arguments(OptOut()),
    ),
    Subcommand(
        "optin",
        ("opt-in",),
        "optin",
        "Start tracking and coaching you again.",
        ("optin",),
        admin_only=False,
        parse=_no_arguments(OptIn()),
    ),
    Subcommand(
        "settings",
        ("setting", "config"),
        "settings [<name> <value>]",
        "Show the team's settings; admins can change one.",
        (_SETTING_EXAMPLES[SETTING_NAMES[0]], "settings"),
        admin_only=False,
        parse=_parse_settings,
    ),
    Subcommand(
        "backfill",
        (),
        "backfill [#channel] [days]",
        f"Count up to {MAX_BACKFILL_DAYS} days of a channel's history (this channel unless you name one).",
        ("backfill #social 7", "backfill"),
        admin_only=True,
        parse=_parse_backfill,
    ),
    Subcommand(
        "help",
        ("?", "h"),
        "help",
        "Show this list.",
        ("help",),
        admin_only=False,
        parse=_no_arguments(ShowHelp()),
    ),
)
_BY_WORD: Mapping[str, Subcommand] = {
    word: subcommand for subcommand in SUBCOMMANDS for word in (subcommand.name, *subcommand.aliases)
}


# --- the public entry points ------------------------------------------------------------------------


def parse_command(text: str) -> Command:
    """Return the command `text` asks for (empty text asks for help); raise CommandError saying what to type."""
    tokens = _tokenize(text)
    if not tokens:
        return ShowHelp()
    subcommand = _BY_WORD.get(tokens[0].word)
    used = 1
    if subcommand is None and len(tokens) > 1:  # "opt out", "leader board"
        subcommand = _BY_WORD.get(tokens[0].word + tokens[1].word)
        used = 2
    if subcommand is None:
        raise _unknown_subcommand(tokens[0])
    return subcommand.parse(_Invocation(subcommand, tokens[used:], text))


def _unknown_subcommand(token: _Token) -> CommandError:
    help_hint = f"{_code('help')} shows everything I can do."
    if token.word in _KIND_WORDS:
        return CommandError(f"To log that, start with `log` — e.g. {_code(_LOG_EXAMPLE)}. {help_hint}")
    close = _close_matches(token.word, _BY_WORD)
    guess = f" Did you mean {_code(_BY_WORD[close[0]].name)}?" if close else ""
    return CommandError(f"I don't know the command {token.shown}.{guess} {help_hint}")


def validate_log_fields(kind: str, url: str | None, note: str | None) -> LogAction:
    """Check the log form's plain-text fields all at once, so the member fixes everything in one go."""
    errors: dict[str, str] = {}
    parsed_kind = _KIND_WORDS.get(kind.strip().casefold())
    if parsed_kind is None:
        errors["kind"] = f"Pick what you did: {_KIND_LIST}."
    valid_url = None
    if url and url.strip():
        try:
            valid_url = validate_url(url)
        except InvalidURL as error:
            message = str(error)
            errors["url"] = message[:1].upper() + message[1:]
    clean_note = (note or "").strip()
    if len(clean_note) > MAX_NOTE_LENGTH:
        errors["note"] = _note_too_long(len(clean_note))
    if parsed_kind is None or errors:
        raise FieldErrors(errors)
    return LogAction(parsed_kind, valid_url, clean_note)


def help_text() -> str:
    """Return `/coach help` as mrkdwn, written from SUBCOMMANDS so it always matches what parses."""
    lines = [f"*Here's what `{COMMAND}` can do.* Give more than you post: reply, comment and answer first."]
    for subcommand in SUBCOMMANDS:
        admins = " _(admins)_" if subcommand.admin_only else ""
        examples = ", ".join(_code(example) for example in subcommand.examples if example != subcommand.name)
        lines.append(f"• {_code(subcommand.usage)}{admins} — {subcommand.summary}")
        if examples:
            lines.append(f"      e.g. {examples}")
    lines.append(f"Kinds you can log: {_KIND_LIST}. Everyday words work too, like tweet, retweet, fav or followed.")
    return "\n".join(lines)
