"""Property: no malformed `/coach` text stores anything or errors, through signed requests to the real app.

The texts are built to be wrong in the ways people (and Slack's escaping) get them wrong: unknown
subcommands and kinds, links that are not http(s) or too long, over-long notes, mentions and channels
where a kind or a link belongs, stray words after subcommands that take none.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.coach.commands import KIND_SYNONYMS, MAX_NOTE_LENGTH, SUBCOMMANDS
from bot.coach.kinds import LOGGABLE_KINDS
from bot.coach.urls import MAX_URL_LENGTH
from bot.store.database import Database
from bot.store.limits import COUNTERPART
from bot.store.models import Activity
from tests.slack_requests import SlackDriver
from tests.slack_stub import SlackStub

SUBCOMMAND_WORDS = frozenset(word for sub in SUBCOMMANDS for word in (sub.name, *sub.aliases))
KIND_WORDS = frozenset({kind.value for kind in LOGGABLE_KINDS} | set(KIND_SYNONYMS))

_spelled = st.sampled_from([str.lower, str.upper, str.title])
_space = st.sampled_from([" ", "  ", "\t", "\u00a0 "])
_ids = st.from_regex(r"[A-Z0-9]{3,9}", fullmatch=True)
_labels = st.text(alphabet=st.characters(exclude_characters="<>|", exclude_categories=("Cs", "Cc")), max_size=10)
_safe_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.,!?'-_:;()é😀", min_size=1, max_size=12)

_valid_kind = st.builds(lambda word, spell: spell(word), st.sampled_from(sorted(KIND_WORDS)), _spelled)
_valid_url = st.sampled_from(
    ["https://x.com/ana/status/1", "<https://x.com/ana/status/1|x.com/ana/status/1>", "http://blog.example.com/a"]
)
_mention_or_channel = st.one_of(
    st.builds("<@U{}|{}>".format, _ids, _labels),
    st.builds("<#C{}|{}>".format, _ids, _labels),
    st.sampled_from(["<!here>", "<!channel>", "<!subteam^S0DESIGN1|@design>"]),
)
_bad_url = st.one_of(
    st.sampled_from(
        [
            "ftp://x.com/a",
            "<ftp://x.com/a|x.com/a>",
            "<mailto:ana@example.com|ana@example.com>",
            "www.x.com/ana",
            "<https://localhost>",
            "https://",
            "<http://exa mple.com|example>",
            "javascript://x.com/%0Aalert(1)",
            "https://x.com:99999/a",
        ]
    ),
    st.integers(MAX_URL_LENGTH - 13, MAX_URL_LENGTH + 50).map(lambda n: "https://x.com/" + "a" * n),
    st.integers(COUNTERPART + 1, COUNTERPART + 40).map(lambda n: "https://x.com/" + "a" * n),  # too long to keep
    _mention_or_channel,
    # Attempted links that are not http(s) with a host: a scheme of another kind, a slash short, or none at all.
    st.builds(
        "{}{}{}".format,
        st.sampled_from(
            [
                "javascript:",
                "JavaScript:",
                "mailto:",
                "data:text/html,",
                "tel:",
                "vbscript:",
                "file:/",
                "https:/",
                "https:",
                "http:/",
                "://",
                "x.com/",
                "www.",
                "linkedin.com/in/",
                "m.youtube.com/",
                "ftp:/",
            ]
        ),
        st.sampled_from("abcxyz0129(&"),
        st.text(alphabet="abcxyz0129/.()@=&;", max_size=20),
    ),
)
_note_words = st.text(alphabet="abcdefghij klmnop,.!é😀", min_size=MAX_NOTE_LENGTH - 1, max_size=MAX_NOTE_LENGTH + 200)
_long_note = st.builds("x{}x".format, _note_words)
_rest = st.lists(st.tuples(_space, st.one_of(_safe_words, _mention_or_channel, _valid_url)), max_size=4).map(
    lambda parts: "".join(space + word for space, word in parts)
)


def _not_a_subcommand(word: str) -> bool:
    """Neither a subcommand nor the start of one (so `word` + the next word cannot spell "opt out")."""
    folded = word.casefold()
    return not any(known.startswith(folded) for known in SUBCOMMAND_WORDS)


_unknown_subcommand = st.builds(
    "{}{}".format,
    st.one_of(_safe_words.filter(_not_a_subcommand), _mention_or_channel, _valid_url),
    _rest,
)
_unknown_kind = st.builds(
    "log{}{}{}".format,
    _space,
    st.one_of(
        _safe_words.filter(lambda word: word.casefold() not in KIND_WORDS),
        st.just("link"),  # seen in Slack, never logged by hand
        _mention_or_channel,
        _valid_url,
    ),
    _rest,
)
_bad_link = st.builds("log{}{}{}{}{}".format, _space, _valid_kind, _space, _bad_url, _rest)
_over_long_note = st.builds(
    "log{}{}{}{}".format,
    _space,
    _valid_kind,
    st.one_of(st.just(""), st.builds(" {}".format, _valid_url)),
    st.builds(" {}".format, _long_note),
)
_trailing_words = st.builds(
    "{}{}{}".format,
    st.sampled_from(["undo", "export", "optout", "opt-out", "opt out", "optin", "opt-in", "help", "summary"]),
    _space,
    st.one_of(_safe_words, _mention_or_channel, _valid_url),
)
_other_malformed = st.sampled_from(
    ["me yesterday", "leaderboard forever", "backfill 99", "backfill #social", "settings colour blue", "log <>"]
)
MALFORMED = st.one_of(_unknown_subcommand, _unknown_kind, _bad_link, _over_long_note, _trailing_words, _other_malformed)


def activity_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Activity)) or 0


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=MALFORMED)
def test_no_malformed_coach_text_stores_anything_or_errors(
    driver: SlackDriver, slack: SlackStub, db: Database, text: str
) -> None:
    response = driver.command(text)

    assert response.status == 200, (text, response.text)
    body = response.json()
    assert body["response_type"] == "ephemeral", text
    assert body["text"].strip(), text
    assert "Sorry, something went wrong" not in body["text"], text
    assert activity_count(db) == 0, text
    assert {call.method for call in slack.calls} <= {"auth.test"}, text
