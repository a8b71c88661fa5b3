"""Reading Slack workspace exports: the shipped sample, the same zipped, broken archives, big ones."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot
from bot.coach.kinds import Kind
from bot.coach.messages import ChannelContext, LedgerEntry, ParentMessage, entries_for_message, entry_for_reaction
from bot.services import export_archive
from bot.services.export_archive import DayFileMessage, ExportArchive, ExportChannel, ExportError, ExportUser
from bot.services.export_reader import ReadingPlan, read_day_files

SAMPLE = Path(bot.__file__).parent / "data" / "sample_export"
MALFORMED = Path(__file__).parents[1] / "fixtures" / "export_malformed"

MAYA, LEO, PRIYA, SAM, JONAS, ANA = (
    "U07NQ5C1H3M",
    "U07NQ5D8L2P",
    "U07NQ5E4R6K",
    "U07NQ5F2S9W",
    "U07NQ5G7J1B",
    "U07NQ5H3A5Z",
)


def zip_folder(folder: Path, target: Path, *, under: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, under + path.relative_to(folder).as_posix())
    return target


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def everything(archive: ExportArchive) -> tuple:
    """What an import would see, in the order it would see it."""
    days = archive.day_files()
    return archive.users(), archive.channels(), days, [archive.messages(c, m) for c, m in days]


# --- the shipped sample ----------------------------------------------------------------------------


def test_the_sample_export_lists_people_bots_and_channels():
    with ExportArchive(SAMPLE) as archive:
        users = {user.id: user for user in archive.users()}
        channels = archive.channels()

    assert users[MAYA] == ExportUser(MAYA, "Maya Chen", is_bot=False, deleted=False, tz="America/New_York")
    assert users["U07NQ6B0T4X"].is_bot and users["USLACKBOT"].is_bot
    assert users["U07NQ5J9T0D"].deleted
    assert sum(not u.is_bot and not u.deleted for u in users.values()) == 6
    assert channels == [
        ExportChannel("C07NQ7A1S2C", "social", is_private=False),
        ExportChannel("C07NQ7B3M4K", "marketing", is_private=False),
        ExportChannel("G07NQ7C5P6R", "launch-room", is_private=True),
    ]


def test_day_files_come_by_channel_then_date():
    with ExportArchive(SAMPLE) as archive:
        days = archive.day_files()
        count = archive.count_day_files()

    members = [member for _, member in days]
    assert count == len(days) == 19
    assert members == sorted(members)
    assert members[0] == "launch-room/2026-11-11.json" and members[-1] == "social/2026-11-20.json"
    assert all(member.startswith(channel.name + "/") for channel, member in days)


def test_a_day_file_is_slacks_own_messages():
    with ExportArchive(SAMPLE) as archive:
        social = next(c for c in archive.channels() if c.name == "social")
        messages = archive.messages(social, "social/2026-11-09.json")

    first = messages[0]
    assert first["user"] == LEO and first["reply_count"] == 2 and first["thread_ts"] == first["ts"]
    assert first["reactions"] == [{"name": "eyes", "users": [SAM], "count": 1}]
    assert messages[1]["thread_ts"] == first["ts"]
    assert "parent_user_id" not in messages[1]  # in the file, never decoded: no rule reads it (DayFileMessage)
    assert [m["ts"] for m in messages] == sorted(m["ts"] for m in messages)


def test_the_sample_validates():
    with ExportArchive(SAMPLE) as archive:
        archive.validate()


@pytest.mark.parametrize("under", ["", "acme-social-export/"])
def test_the_zipped_sample_reads_the_same_as_the_folder(tmp_path, under):
    zipped = zip_folder(SAMPLE, tmp_path / "export.zip", under=under)

    with ExportArchive(SAMPLE) as folder, ExportArchive(zipped) as archive:
        archive.validate()
        assert everything(archive) == everything(folder)


# --- the story the sample tells --------------------------------------------------------------------


def replay(archive: ExportArchive) -> list[LedgerEntry]:
    """Import the export the way the bot does: messages oldest first, then reactions on link messages."""
    bots = {user.id for user in archive.users() if user.is_bot}
    link_authors: dict[tuple[str, str], str] = {}
    entries: dict[str, LedgerEntry] = {}
    for channel, member in archive.day_files():
        context = ChannelContext(channel.id, channel.is_private)
        for message in sorted(archive.messages(channel, member), key=lambda m: float(m["ts"])):
            ts, thread_ts = message["ts"], message.get("thread_ts")
            author = link_authors.get((channel.id, thread_ts))
            parent = ParentMessage(author, thread_ts, has_links=True) if author else None
            found = entries_for_message(message, context, parent)
            if any(entry.kind is Kind.LINK for entry in found):
                link_authors[(channel.id, ts)] = message["user"]
            for reaction in message.get("reactions", []):
                for reactor in set(reaction["users"]) - bots:
                    like = entry_for_reaction(
                        reactor=reactor,
                        item_user=message.get("user"),
                        channel=context,
                        item_ts=ts,
                        event_ts=ts,
                        item_has_links=(channel.id, ts) in link_authors,
                    )
                    found += [like] if like else []
            entries.update((entry.source_key, entry) for entry in found)
    return list(entries.values())


def test_the_sample_shows_a_content_factory_and_a_social_member():
    with ExportArchive(SAMPLE) as archive:
        entries = replay(archive)

    links = Counter(e.user_id for e in entries if e.kind is Kind.LINK)
    comments = Counter(e.user_id for e in entries if e.kind is Kind.COMMENT)
    given = Counter(e.user_id for e in entries if e.kind.is_given)
    assert links.most_common(1) == [(LEO, 15)]
    assert comments[LEO] == 0 and given[LEO] <= 4
    assert comments.most_common(1)[0][0] == MAYA and comments[MAYA] >= 2 * max(comments[u] for u in (PRIYA, JONAS, ANA))
    assert given.most_common(1)[0][0] == MAYA
    assert {e.user_id for e in entries} == {MAYA, LEO, PRIYA, SAM, JONAS, ANA}
    assert any(e.private for e in entries) and Counter(e.kind for e in entries)[Kind.LIKE] > 0


# --- broken archives -------------------------------------------------------------------------------


def test_a_bad_day_file_is_named_by_validate_and_by_messages():
    with ExportArchive(MALFORMED) as archive:
        (social,) = archive.channels()
        assert len(archive.messages(social, "social/2026-11-10.json")) == 1
        with pytest.raises(ExportError, match=r"social/2026-11-11\.json: bad JSON at line \d+"):
            archive.validate()
        with pytest.raises(ExportError, match=r"social/2026-11-11\.json"):
            archive.messages(social, "social/2026-11-11.json")


def test_a_bad_day_file_in_a_zip_is_named_too(tmp_path):
    with ExportArchive(zip_folder(MALFORMED, tmp_path / "bad.zip")) as archive, pytest.raises(ExportError) as error:
        archive.validate()

    assert "social/2026-11-11.json: bad JSON" in str(error.value)


def minimal_export(root: Path) -> Path:
    write_json(root / "channels.json", [{"id": "C1", "name": "social"}])
    write_json(root / "users.json", [{"id": "U1", "name": "ana"}])
    write_json(root / "social" / "2026-11-20.json", [{"type": "message", "user": "U1", "ts": "1795132800.000100"}])
    return root


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda root: (root / "channels.json").unlink(), r"channels\.json is missing"),
        (lambda root: write_json(root / "channels.json", {"channels": []}), r"channels\.json should hold a JSON list"),
        (lambda root: write_json(root / "channels.json", [{"name": "social"}]), r"channels\.json: item 0 has no id"),
        (
            lambda root: write_json(root / "channels.json", [{"id": "C1", "name": ".."}]),
            r"channel C1 has no usable name",
        ),
        (lambda root: write_json(root / "groups.json", [{"id": "G1", "name": "a/b"}]), r"groups\.json: channel G1"),
        (lambda root: write_json(root / "users.json", [{"id": "U1"}, {"name": "x"}]), r"users\.json: item 1 has no id"),
        (lambda root: write_json(root / "social" / "2026-11-21.json", {"ts": "1"}), r"2026-11-21\.json should hold"),
        (lambda root: write_json(root / "social" / "2026-11-21.json", [[]]), r"2026-11-21\.json: item 0 should be"),
        (lambda root: (root / "social" / "2026-11-21.json").write_bytes(b"\xff\xfe["), r"2026-11-21\.json"),
        (
            lambda root: (root / "social" / "2026-11-21.json").write_bytes(
                b'[{"blocks": ' + b"[" * 5000 + b"]" * 5000 + b"}]"
            ),
            r"2026-11-21\.json: JSON nested too deeply",
        ),
        (
            lambda root: (root / "users.json").write_bytes(
                b'[{"id": "U1", "profile": ' + b"[" * 5000 + b"]" * 5000 + b"}]"
            ),
            r"users\.json: JSON nested too deeply",
        ),
    ],
)
def test_malformed_archives_are_refused_with_the_file_named(tmp_path, break_it, message):
    root = minimal_export(tmp_path / "export")
    break_it(root)

    with pytest.raises(ExportError, match=message), ExportArchive(root) as archive:
        archive.validate()


@pytest.mark.parametrize(
    ("raw", "messages"),
    [
        (b'\xef\xbb\xbf[{"ts": "1795132800.000100"}]', [{"ts": "1795132800.000100"}]),  # a byte-order mark
        (b'[{"ts": "1795132800.000100", "score": NaN}]', None),
    ],
    ids=["bom", "nan"],
)
def test_day_files_the_fast_parser_refuses_read_as_the_standard_library_reads_them(tmp_path, raw, messages):
    root = minimal_export(tmp_path / "export")
    (root / "social" / "2026-11-20.json").write_bytes(raw)

    with ExportArchive(root) as archive:
        read = archive.messages(ExportChannel("C1", "social", False), "social/2026-11-20.json")

    assert read == (messages if messages is not None else json.loads(raw))


def test_bad_json_is_reported_at_its_line_and_column(tmp_path):
    root = minimal_export(tmp_path / "export")
    (root / "social" / "2026-11-21.json").write_text('[\n  {"ts": "1795132800.000100",}\n]')

    with (
        pytest.raises(ExportError, match=r"2026-11-21\.json: bad JSON at line 2, column 30: Expecting property name"),
        ExportArchive(root) as a,
    ):
        a.validate()


def test_what_is_not_an_export_is_refused(tmp_path):
    not_zip = tmp_path / "export.zip"
    not_zip.write_text("not a zip")

    with pytest.raises(ExportError, match=r"export\.zip is not a zip file or a folder"):
        ExportArchive(not_zip)
    with pytest.raises(ExportError, match="does not exist"):
        ExportArchive(tmp_path / "missing")
    with pytest.raises(ExportError, match=r"channels\.json is missing"), ExportArchive(tmp_path) as empty:
        empty.channels()


def test_only_day_files_of_known_channels_are_read(tmp_path):
    root = minimal_export(tmp_path / "export")
    (root / "users.json").unlink()
    write_json(root / "dms.json", [{"id": "D1", "members": ["U1", "U2"]}])
    write_json(root / "D1" / "2026-11-20.json", [{"type": "message", "user": "U2", "ts": "1795132800.000200"}])
    write_json(root / "social" / "notes.json", [])
    write_json(root / "groups.json", [{"id": "C2", "name": "private-social", "is_private": True}])

    with ExportArchive(root) as archive:
        social, private = archive.channels()
        assert archive.users() == []
        assert private.is_private
        assert archive.day_files() == [(social, "social/2026-11-20.json")]
        with pytest.raises(ExportError, match="not a day file of #social"):
            archive.messages(social, "D1/2026-11-20.json")


# --- a big export, one day at a time ---------------------------------------------------------------


def test_a_large_export_is_read_day_by_day_in_order(tmp_path):
    root = tmp_path / "big"
    channels = [{"id": f"C{n:02d}", "name": f"channel-{n:02d}"} for n in range(4)]
    write_json(root / "channels.json", channels)
    day_zero = 1794182400  # 2026-11-09
    for channel in channels:
        for day in range(50):
            date = f"2026-{11 + day // 30:02d}-{day % 30 + 1:02d}"
            messages = [
                {
                    "type": "message",
                    "user": "U1",
                    "text": f"{channel['name']} {day} {n}",
                    "ts": f"{day_zero + day * 86400 + n}.000100",
                }
                for n in range(25)
            ]
            write_json(root / channel["name"] / f"{date}.json", messages)

    for source in (root, zip_folder(root, tmp_path / "big.zip")):
        with ExportArchive(source) as archive:
            archive.validate()
            assert archive.count_day_files() == 200
            seen = []
            for channel, member in archive.day_files():
                day = archive.messages(channel, member)
                assert len(day) == 25 and day[0]["text"].startswith(channel.name)
                assert archive.messages(channel, member) is not day  # nothing is cached
                seen.extend((channel.name, float(m["ts"])) for m in day)
        assert len(seen) == 5000
        assert seen == sorted(seen)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


class RecordingMessage(dict):
    """A message that notes every field the rules ask it for, present or not."""

    asked: ClassVar[set[str]] = set()

    def get(self, key, default=None):  # type: ignore[no-untyped-def, override]
        RecordingMessage.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        RecordingMessage.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:  # type: ignore[no-untyped-def]
        RecordingMessage.asked.add(key)
        return super().__contains__(key)


def test_the_rules_read_no_field_of_a_message_that_day_files_leave_undecoded(monkeypatch):
    """If a rule starts reading another field, it must be added to DayFileMessage, or imports would never see it."""
    with ExportArchive(SAMPLE) as archive:
        day_files = tuple(archive.day_files())
    whole = export_archive._parse_json
    monkeypatch.setattr(
        export_archive, "_parse_day_file", lambda data: [RecordingMessage(message) for message in whole(data)]
    )
    RecordingMessage.asked = set()
    plan = ReadingPlan(
        SAMPLE, day_files, "T0READ001", "UTC", datetime(2026, 11, 23, tzinfo=UTC), None, frozenset(), frozenset(), None
    )

    rows = [row for day in read_day_files(plan) for row in day.rows]

    assert rows  # the sample has links, replies of both kinds, reactions, bots and joins: every rule ran
    assert RecordingMessage.asked <= set(DayFileMessage.__annotations__)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from([*DayFileMessage.__annotations__, "user_profile", "team", "type"]), json_values
        ),
        max_size=5,
    )
)
def test_a_day_file_decodes_to_its_messages_without_the_fields_no_rule_reads(messages):
    data = json.dumps(messages).encode()

    assert export_archive._parse_day_file(data) == [
        {key: value for key, value in message.items() if key in DayFileMessage.__annotations__} for message in messages
    ]


@pytest.mark.parametrize(
    "data",
    [b"\xef\xbb\xbf[]", b"[1]", b'{"a": 1}', b'[{"ts": NaN}]', b'[{"ts": "a\\ud800b"}]', b"[] x", b'[{"ts": "\xff"}]'],
)
def test_what_msgspec_refuses_is_parsed_or_refused_as_before(data):
    try:
        before = export_archive._parse_json(data)
    except ValueError as error:  # json.JSONDecodeError and UnicodeDecodeError alike
        with pytest.raises(type(error)):
            export_archive._parse_day_file(data)
    else:
        assert export_archive._parse_day_file(data) == before


# --- which workspace the export is from ------------------------------------------------------------


def test_the_sample_names_its_workspace_in_every_member(tmp_path):
    for source in (SAMPLE, zip_folder(SAMPLE, tmp_path / "export.zip", under="acme/")):
        with ExportArchive(source) as archive:
            assert archive.team_ids() == ("T07NQ4K2A8M",)
            assert archive.team_id() == "T07NQ4K2A8M"


@pytest.mark.parametrize(
    ("users", "team", "ids"),
    [
        (
            [{"id": "U1", "team_id": "T1"}, {"id": "U2", "team_id": "T2"}, {"id": "U3", "team_id": "T2"}],
            None,
            ("T2", "T1"),
        ),
        ([{"id": "U1", "team_id": "T2"}, {"id": "U2", "team_id": "T1"}], None, ("T1", "T2")),
        ([{"id": "U1"}, {"id": "U2", "team_id": ""}, {"id": "U3", "team_id": 7}], None, ()),
        ([{"id": "U1", "team_id": "T2"}, {"id": "U2", "team_id": "T1"}], {"id": "T1", "name": "Acme"}, ("T1",)),
        ([], {"team_id": "T3"}, ("T3",)),
    ],
    ids=["several, most members' first", "several, as many", "none", "team.json decides", "team.json alone"],
)
def test_the_workspace_comes_from_team_json_else_the_members(tmp_path, users, team, ids):
    root = minimal_export(tmp_path / "export")
    write_json(root / "users.json", users)
    if team is not None:
        write_json(root / "team.json", team)

    with ExportArchive(root) as archive:
        assert archive.team_ids() == ids
        if len(ids) > 1:
            with pytest.raises(
                export_archive.SeveralTeamsError, match=rf"several workspaces \({', '.join(ids)}\)"
            ) as error:
                archive.team_id()
            assert error.value.team_ids == ids
        else:
            assert archive.team_id() == (ids[0] if ids else None)


@pytest.mark.parametrize("team", [[{"id": "T1"}], {"name": "Acme"}, {"id": 12}], ids=["list", "no id", "number"])
def test_a_team_json_without_a_usable_id_is_refused(tmp_path, team):
    root = minimal_export(tmp_path / "export")
    write_json(root / "team.json", team)

    with ExportArchive(root) as archive, pytest.raises(ExportError, match=r"team\.json should hold the workspace"):
        archive.team_ids()


member_team_ids = st.sampled_from(["T1", "T2", "T3", "", None, 7, ["T1"]])


@settings(max_examples=200, deadline=None)
@given(users_teams=st.lists(member_team_ids, max_size=12), team_json=st.none() | st.sampled_from(["T1", "T9"]))
def test_the_workspace_is_team_json_else_the_members_most_carry(tmp_path_factory, users_teams, team_json):
    root = minimal_export(tmp_path_factory.mktemp("export"))
    users = [{"id": f"U{n}"} | ({} if team is None else {"team_id": team}) for n, team in enumerate(users_teams)]
    write_json(root / "users.json", users)
    if team_json is not None:
        write_json(root / "team.json", {"id": team_json, "name": "Acme"})

    named = Counter(team for team in users_teams if isinstance(team, str) and team)
    expected = (team_json,) if team_json else tuple(sorted(named, key=lambda team: (-named[team], team)))
    with ExportArchive(root) as archive:
        assert archive.team_ids() == expected
        if len(expected) > 1:
            with pytest.raises(export_archive.SeveralTeamsError):
                archive.team_id()
        else:
            assert archive.team_id() == (expected[0] if expected else None)
