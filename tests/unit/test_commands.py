"""The `/coach` grammar: what a member types, what the bot understands, and what it says when it can't."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.coach.commands import (
    KIND_SYNONYMS,
    MAX_NOTE_LENGTH,
    SUBCOMMANDS,
    Backfill,
    ChangeSetting,
    Command,
    CommandError,
    Export,
    FieldErrors,
    LogAction,
    OpenLogModal,
    OptIn,
    OptOut,
    PreviewSummary,
    ShowHelp,
    ShowLeaderboard,
    ShowMe,
    ShowSettings,
    Undo,
    help_text,
    parse_command,
    parse_kind,
    validate_log_fields,
)
from bot.coach.kinds import LOGGABLE_KINDS, Kind
from bot.coach.periods import PeriodName
from bot.coach.settings import SETTING_NAMES
from bot.coach.urls import MAX_URL_LENGTH

WEEK, MONTH, ALL = PeriodName.WEEK, PeriodName.MONTH, PeriodName.ALL


def error_for(text: str) -> str:
    """What the member reads when `text` is not a command."""
    with pytest.raises(CommandError) as caught:
        parse_command(text)
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", ShowHelp()),
        ("   ", ShowHelp()),
        ("help", ShowHelp()),
        ("?", ShowHelp()),
        ("log", OpenLogModal()),
        ("log reply", LogAction(Kind.REPLY, None, "")),
        ("me", ShowMe(WEEK)),
        ("me month", ShowMe(MONTH)),
        ("stats all", ShowMe(ALL)),
        ("leaderboard", ShowLeaderboard(WEEK, public=False)),
        ("leaderboard month", ShowLeaderboard(MONTH, public=False)),
        ("leaderboard public", ShowLeaderboard(WEEK, public=True)),
        ("leaderboard all public", ShowLeaderboard(ALL, public=True)),
        ("leaderboard public month", ShowLeaderboard(MONTH, public=True)),
        ("lb", ShowLeaderboard(WEEK, public=False)),
        ("optout", OptOut()),
        ("opt-out", OptOut()),
        ("opt out", OptOut()),
        ("optin", OptIn()),
        ("undo", Undo()),
        ("export", Export()),
        ("summary", PreviewSummary()),
        ("backfill", Backfill(None, 14)),
        ("backfill 3", Backfill(None, 3)),
        ("backfill <#C0SOCIAL|social>", Backfill("C0SOCIAL", 14)),
        ("backfill <#C0SOCIAL> 1", Backfill("C0SOCIAL", 1)),
        ("backfill 7 <#G0PRIV|secret>", Backfill("G0PRIV", 7)),
        ("settings", ShowSettings()),
        ("settings target 4-1-1", ChangeSetting("target", "4-1-1")),
        ("settings Summary_Time monday  09:00", ChangeSetting("summary-time", "monday  09:00")),
        ("settings admins add <@U0ANA|ana>", ChangeSetting("admins", "add <@U0ANA|ana>")),
        ("settings summary-channel <#C1|team&amp;co>", ChangeSetting("summary-channel", "<#C1|team&amp;co>")),
    ],
)
def test_every_subcommand_parses(text: str, command: Command) -> None:
    assert parse_command(text) == command


def test_words_are_read_in_any_case_and_split_on_any_whitespace() -> None:
    assert parse_command("ME\tMonth") == ShowMe(MONTH)
    assert parse_command("\n leaderboard\u00a0PUBLIC\u2003all ") == ShowLeaderboard(ALL, public=True)
    assert parse_command("LOG\tReply\u00a0<https://x.com/ana/status/1>\nthanks!") == LogAction(
        Kind.REPLY, "https://x.com/ana/status/1", "thanks!"
    )


@pytest.mark.parametrize("example", [example for sub in SUBCOMMANDS for example in sub.examples])
def test_every_example_in_the_table_parses(example: str) -> None:
    parse_command(example.replace("#social", "<#C0SOCIAL|social>").replace("#team-social", "<#C1|team-social>"))


def test_names_and_aliases_are_unique_so_no_word_is_ambiguous() -> None:
    words = [word for sub in SUBCOMMANDS for word in (sub.name, *sub.aliases)]
    assert len(words) == len(set(words))
    assert {sub.name for sub in SUBCOMMANDS if sub.admin_only} == {"backfill"}


@pytest.mark.parametrize("kind", LOGGABLE_KINDS)
@pytest.mark.parametrize("spell", [str.lower, str.upper, str.title])
def test_every_kind_is_read_in_any_case(kind: Kind, spell: Callable[[str], str]) -> None:
    assert parse_kind(spell(kind.value)) is kind
    assert parse_command(f"log {spell(kind.value)}") == LogAction(kind, None, "")


@pytest.mark.parametrize(("word", "kind"), sorted(KIND_SYNONYMS.items()))
@pytest.mark.parametrize("spell", [str.lower, str.upper, str.title])
def test_every_synonym_is_read_in_any_case(word: str, kind: Kind, spell: Callable[[str], str]) -> None:
    assert parse_kind(spell(word)) is kind
    assert parse_command(f"log {spell(word)} https://x.com/a").kind is kind  # type: ignore[union-attr]


def test_synonyms_cover_what_people_type_and_only_loggable_kinds() -> None:
    expected = {"tweet": Kind.POST, "check-in": Kind.POST, "replied": Kind.REPLY, "rt": Kind.SHARE}
    expected |= {"retweet": Kind.SHARE, "fav": Kind.LIKE, "favourite": Kind.LIKE, "followed": Kind.FOLLOW}
    assert expected.items() <= KIND_SYNONYMS.items()
    assert set(KIND_SYNONYMS.values()) <= set(LOGGABLE_KINDS)
    assert "link" not in KIND_SYNONYMS  # shared links are counted from Slack, never logged by hand


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("log share <https://x.com/ana/status/1|x.com/ana/status/1>", "https://x.com/ana/status/1"),
        ("log share <https://x.com/ana/status/1>", "https://x.com/ana/status/1"),
        ("log share <http://blog.example.com/a?b=1&amp;c=2|Text with a link>", "http://blog.example.com/a?b=1&c=2"),
        ("log share https://x.com/ana/status/1", "https://x.com/ana/status/1"),
        ("log share HTTPS://Example.com/A", "HTTPS://Example.com/A"),
    ],
)
def test_links_are_unwrapped_and_decoded(text: str, url: str) -> None:
    assert parse_command(text) == LogAction(Kind.SHARE, url, "")


def test_the_note_is_plain_text_with_its_own_spacing() -> None:
    command = parse_command(
        "log reply <https://x.com/ana/status/1> thanked <@U0ANA|ana> in <#C1|social> &amp; told <!here>:\n"
        "  see <https://blog.example.com/post|blog.example.com/post> &lt;3"
    )
    assert command == LogAction(
        Kind.REPLY,
        "https://x.com/ana/status/1",
        "thanked @ana in #social & told @here:\n  see blog.example.com/post <3",
    )


def test_a_link_glued_to_punctuation_is_still_the_link() -> None:
    assert parse_command("log reply <https://x.com/a>, thanks") == LogAction(Kind.REPLY, "https://x.com/a", ", thanks")


def test_without_a_link_everything_after_the_kind_is_the_note() -> None:
    assert parse_command("log answer helped <@U0BO|bo> with the API") == LogAction(
        Kind.ANSWER, None, "helped @bo with the API"
    )


def test_a_note_at_the_limit_is_kept_and_one_past_it_is_refused_with_both_numbers() -> None:
    at_limit = "é" * MAX_NOTE_LENGTH
    assert parse_command(f"log comment {at_limit}") == LogAction(Kind.COMMENT, None, at_limit)
    # Entities count as the one character they stand for.
    assert parse_command(f"log comment {'&amp;' * MAX_NOTE_LENGTH}").note == "&" * MAX_NOTE_LENGTH  # type: ignore[union-attr]
    message = error_for(f"log comment https://x.com/a {'a' * 612}")
    assert "612 characters" in message
    assert "500" in message


def test_a_link_past_the_limit_is_refused_with_both_numbers() -> None:
    longest = "https://x.com/" + "a" * (MAX_URL_LENGTH - len("https://x.com/"))
    assert parse_command(f"log like <{longest}>") == LogAction(Kind.LIKE, longest, "")
    message = error_for(f"log like <{longest}a>")
    assert f"{MAX_URL_LENGTH + 1} characters" in message
    assert str(MAX_URL_LENGTH) in message


@pytest.mark.parametrize(
    "link", ["ftp://x.com/file", "<mailto:ana@x.com|ana@x.com>", "www.x.com/ana", "https://nohost"]
)
def test_a_second_word_that_looks_like_a_link_must_be_a_web_link(link: str) -> None:
    message = error_for(f"log reply {link} thanks")
    assert message.startswith("I can't use “")
    assert "`/coach log &lt;kind&gt; [link] [note]`" in message


def test_a_mention_where_the_kind_goes_is_named() -> None:
    assert error_for("log <@U0ANA|ana> reply").startswith("“@ana” is a mention, not a kind. Put the kind first")
    assert error_for("log <#C1|social>").startswith("“#social” is a channel, not a kind.")
    assert error_for("log <https://x.com/a> reply").startswith("“https://x.com/a” is a link, not a kind.")
    assert error_for("log https://x.com/a").startswith("“https://x.com/a” is a link, not a kind.")


def test_a_mention_where_the_link_goes_is_named() -> None:
    assert error_for("log reply <@U0ANA|ana> thanks").startswith("“@ana” is a mention, not a link.")
    assert error_for("log reply <#C1> thanks").startswith("“#C1” is a channel, not a link.")


def test_an_unknown_kind_suggests_the_nearest_and_lists_them_all() -> None:
    assert error_for("log tweeet") == (
        "I don't know the kind “tweeet”. Did you mean `post`? Try one of: post, reply, comment, answer, share,"
        " like, follow — e.g. `/coach log reply https://x.com/ana/status/1 thanked her for the tip`"
    )
    assert "Did you mean" not in error_for("log xyzzy")
    with pytest.raises(CommandError, match="link"):
        parse_kind("link")


def test_an_unknown_subcommand_suggests_the_nearest_and_help() -> None:
    assert error_for("leaderbord") == (
        "I don't know the command “leaderbord”. Did you mean `/coach leaderboard`?"
        " `/coach help` shows everything I can do."
    )
    assert error_for("optuot").startswith("I don't know the command “optuot”. Did you mean `/coach optout`?")
    assert error_for("zzz") == "I don't know the command “zzz”. `/coach help` shows everything I can do."


def test_a_kind_without_log_points_to_log() -> None:
    assert error_for("retweet https://x.com/a").startswith("To log that, start with `log`")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "me week extra",
            "I didn't expect “extra” after `/coach me`. The form is `/coach me [week|month|all]`"
            " — e.g. `/coach me month`.",
        ),
        ("optout now", "I didn't expect “now” after `/coach optout`: it works on its own, just `/coach optout`."),
        ("help me", "I didn't expect “me” after `/coach help`: it works on its own, just `/coach help`."),
        ("leaderboard week month", "I didn't expect “month” after `/coach leaderboard`."),
        ("leaderboard public public", "I didn't expect “public” after `/coach leaderboard`."),
        ("backfill 3 4", "I didn't expect “4” after `/coach backfill`."),
        ("backfill <@U1|ana>", "I didn't expect “@ana” after `/coach backfill`."),
    ],
)
def test_extra_words_are_pointed_out_with_the_right_form(text: str, message: str) -> None:
    assert error_for(text).startswith(message)


def test_an_unknown_period_lists_the_periods() -> None:
    assert error_for("me year").startswith("I don't know the period “year”. Use week, month or all.")


@pytest.mark.parametrize("days", ["0", "15", "-1", "99999999999999999999"])
def test_backfill_days_stay_within_two_weeks(days: str) -> None:
    assert error_for(f"backfill {days}").startswith(f"I can look back 1 to 14 days; “{days[:39]}")


def test_backfill_needs_a_channel_slack_turned_into_a_link() -> None:
    assert "Pick it from Slack's suggestions" in error_for("backfill #social")
    assert error_for("backfill <#nonsense id|x>").startswith("I can't tell which channel “#x” is.")


def test_settings_names_come_from_the_settings_module() -> None:
    for name in SETTING_NAMES:
        assert parse_command(f"settings {name} x") == ChangeSetting(name, "x")
    assert error_for("settings summery-time 9:00").startswith(
        "I don't know the setting “summery-time”. Did you mean `summary-time`?"
    )
    assert "quiet-days" in error_for("settings colour blue")
    assert error_for("settings target").startswith("What should `target` be?")


def test_help_lists_every_subcommand_from_the_table() -> None:
    text = help_text()
    for sub in SUBCOMMANDS:
        usage = sub.usage.replace("<", "&lt;").replace(">", "&gt;")
        assert f"• `/coach {usage}`" in text
        assert sub.summary in text
    assert "`/coach backfill [#channel] [days]` _(admins)_" in text
    assert "<" not in text  # `<kind>` would otherwise be read by Slack as a link


def test_the_log_form_is_checked_field_by_field() -> None:
    assert validate_log_fields("retweet", "<https://x.com/a|x.com/a>", "  nice  ") == LogAction(
        Kind.SHARE, "https://x.com/a", "nice"
    )
    assert validate_log_fields("reply", "", None) == LogAction(Kind.REPLY, None, "")
    with pytest.raises(FieldErrors) as caught:
        validate_log_fields("", "ftp://x.com", "n" * (MAX_NOTE_LENGTH + 1))
    assert dict(caught.value.errors) == {
        "kind": "Pick what you did: post, reply, comment, answer, share, like, follow.",
        "url": "Links need to start with http:// or https://.",
        "note": "That note is 501 characters long; notes can be up to 500. Could you shorten it?",
    }


def test_a_form_note_is_taken_as_typed() -> None:
    # The form's text box is plain text: what looks like Slack markup there is just characters.
    assert validate_log_fields("post", None, "I &lt;3 <@U1>").note == "I &lt;3 <@U1>"


# --- any text at all -----------------------------------------------------------------------------

_WORDS = sorted(
    {word for sub in SUBCOMMANDS for word in (sub.name, *sub.aliases)}
    | set(KIND_SYNONYMS)
    | {kind.value for kind in Kind}
    | {"week", "month", "all", "public", "0", "7", "14", "15", "-3", "+2", "9" * 30}
    | set(SETTING_NAMES)
)
_IDS = st.from_regex(r"[A-Z0-9]{1,10}", fullmatch=True)
_LABELS = st.text(alphabet=st.characters(exclude_characters="<>"), max_size=12)
_LINKS = st.sampled_from(["https://x.com/ana/status/1", "http://b.example.com/a?b=1&amp;c=2", "ftp://x.com", "x.com"])
_MARKUP = st.one_of(
    st.builds("<@{}|{}>".format, _IDS, _LABELS),
    st.builds("<#C{}|{}>".format, _IDS, _LABELS),
    st.builds("<#{}>".format, _LABELS),
    st.sampled_from(["<!here>", "<!channel>", "<!subteam^S1|@design>", "<>", "<|>", "<", ">", "|"]),
    st.builds("<{}|{}>".format, _LINKS, _LABELS),
    st.builds("<{}>".format, _LINKS),
    _LINKS,
    st.builds("https://x.com/{}".format, st.integers(2030, 2060).map("a".__mul__)),
    st.builds("<https://x.com/{}>".format, st.integers(2030, 2060).map("a".__mul__)),
    st.integers(490, 510).map("n".__mul__),
    st.integers(490, 510).map("&amp;".__mul__),
    st.sampled_from(["&amp;", "&lt;", "&gt;", "&amp;lt;", "&", "#social", "www.x.com"]),
)
_TOKENS = st.one_of(st.sampled_from(_WORDS), _MARKUP, st.text(max_size=8))
_SPACES = st.sampled_from([" ", "  ", "\t", "\n", "\u00a0", "\u2003", "\r\n"])
_REST = st.lists(st.tuples(st.one_of(_SPACES, st.just("")), _TOKENS), max_size=6).map(
    lambda parts: "".join(space + token for space, token in parts)
)
_LEADS = st.sampled_from([word for sub in SUBCOMMANDS for word in (sub.name, *sub.aliases)] + list(KIND_SYNONYMS))
_ANY_TEXT = st.one_of(
    st.text(),
    _REST,
    st.builds("{}{}{}".format, _LEADS, _SPACES, _REST),
    st.builds("log{}{}{}{}".format, _SPACES, st.sampled_from(sorted(KIND_SYNONYMS)), _SPACES, _REST),
)


@settings(max_examples=600, deadline=None)
@given(_ANY_TEXT)
def test_any_text_is_a_command_within_the_limits_or_a_short_safe_reply(text: str) -> None:
    try:
        command = parse_command(text)
    except CommandError as error:
        message = str(error)
        assert "<" not in message and ">" not in message  # no live mentions, links or @channel pings
        seen = html.unescape(message)
        assert seen and "\n" not in seen and len(seen) <= 400
        return
    if isinstance(command, LogAction):
        assert command.kind in LOGGABLE_KINDS
        assert command.url is None or (
            command.url.lower().startswith(("http://", "https://")) and len(command.url) <= MAX_URL_LENGTH
        )
        assert len(command.note) <= MAX_NOTE_LENGTH
