"""Importing workspace exports: the shipped sample, the same zipped, twice, broken ones, and the CLI."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import delete, func, inspect, select

from bot.cli import main
from bot.coach.kinds import Kind
from bot.services.export_import import (
    SAMPLE_EXPORT,
    SAMPLE_TEAM_ID,
    ArchiveLimits,
    ExportError,
    ImportProgress,
    import_export,
)
from bot.store.models import Activity, Channel, InboundEvent, Member, Reaction, Team
from bot.store.rollups import ROLLUP_TABLES, rebuild_rollups
from tests.slack_events import ledger, tally
from tests.zip_bombs import DAY_FILE, MIB, bomb, declare_sizes, peak_memory, repeated_messages

MALFORMED = Path(__file__).parents[1] / "fixtures" / "export_malformed"
MAYA, LEO = "U07NQ5C1H3M", "U07NQ5D8L2P"
LAUNCH_ROOM = "G07NQ7C5P6R"


def zipped(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, "export/" + path.relative_to(folder).as_posix())
    return target


def counts(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Team, Member, Channel, Activity, Reaction, InboundEvent)
        }


def test_the_sample_tells_its_story(deps, db) -> None:  # type: ignore[no-untyped-def]
    progress: list[ImportProgress] = []

    report = import_export(deps, SAMPLE_EXPORT, SAMPLE_TEAM_ID, on_progress=progress.append)

    rows = ledger(db)
    links = Counter(row.user_id for row in rows if row.kind == Kind.LINK)
    comments = Counter(row.user_id for row in rows if row.kind == Kind.COMMENT)
    assert links.most_common(1) == [(LEO, 15)]  # the content factory
    assert comments.most_common(1)[0][0] == MAYA and comments[LEO] == 0  # the social one
    assert (report.messages, report.files, report.channels, report.members) == (77, 19, 3, 9)
    assert report.new_entries == len(rows) == report.links + report.comments + report.likes
    assert {row.team_id for row in rows} == {SAMPLE_TEAM_ID}
    assert progress[-1] == ImportProgress(files_done=19, files_total=19, messages=77)
    assert [p.files_done for p in progress] == list(range(1, 20))


def test_private_channels_and_people_come_along(deps, db) -> None:  # type: ignore[no-untyped-def]
    import_export(deps, SAMPLE_EXPORT, SAMPLE_TEAM_ID)

    with db.session() as session:
        channels = {row.channel_id: row for row in session.scalars(select(Channel))}
        members = {row.user_id: row for row in session.scalars(select(Member))}
    assert channels[LAUNCH_ROOM].is_private and channels[LAUNCH_ROOM].name == "launch-room"
    assert not channels["C07NQ7A1S2C"].is_private
    assert all(row.is_private == (row.channel_id == LAUNCH_ROOM) for row in ledger(db))
    assert any(row.channel_id == LAUNCH_ROOM for row in ledger(db))
    assert (members[MAYA].name, members[MAYA].tz, members[MAYA].is_bot) == ("Maya Chen", "America/New_York", False)
    assert members["USLACKBOT"].is_bot and members["U07NQ5J9T0D"].is_deleted


def test_importing_twice_or_zipped_changes_nothing(deps, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import_export(deps, SAMPLE_EXPORT, SAMPLE_TEAM_ID)
    first, before = tally(db), counts(db)

    again = import_export(deps, zipped(SAMPLE_EXPORT, tmp_path / "export.zip"), SAMPLE_TEAM_ID)

    assert again.new_entries == 0 and again.messages == 77
    assert tally(db) == first and counts(db) == before


def test_reactions_in_the_export_are_one_like_per_teammate(deps, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "export"
    (root / "social").mkdir(parents=True)
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "social"}]))
    users = [{"id": "U1", "name": "ana"}, {"id": "U2", "name": "ben"}, {"id": "B1", "name": "bot", "is_bot": True}]
    (root / "users.json").write_text(json.dumps(users))
    link = {
        "type": "message",
        "user": "U1",
        "text": "<https://x.com/ana/status/1>",
        "ts": "1795424400.000100",
        "reactions": [
            {"name": "tada", "users": ["U1", "U2", "B1"], "count": 3},
            {"name": "fire", "users": ["U2"], "count": 1},
        ],
    }
    (root / "social" / "2026-11-23.json").write_text(json.dumps([link]))

    import_export(deps, root, "T0EXPORT1")

    assert tally(db) == {(Kind.LINK, "U1", ""): 1, (Kind.LIKE, "U2", "U1"): 1}
    with db.session() as session:
        assert sorted(session.scalars(select(Reaction.reaction))) == ["fire", "tada"]


def ledger_indexes(db) -> set[str]:  # type: ignore[no-untyped-def]
    """The ledger's indexes as the database has them (a big SQLite import drops some and builds them again)."""
    return {index["name"] for index in inspect(db.engine).get_indexes(Activity.__tablename__) if not index["unique"]}


LEDGER_INDEXES = {index.name for index in Activity.__table__.indexes}


@pytest.mark.parametrize("separate_reader", [False, True], ids=["read here", "read by other processes"])
def test_a_malformed_archive_is_refused_and_nothing_is_written(deps, db, tmp_path, separate_reader) -> None:  # type: ignore[no-untyped-def]
    for source in (MALFORMED, zipped(MALFORMED, tmp_path / "bad.zip")):
        with pytest.raises(ExportError, match=r"social/2026-11-11\.json: bad JSON at line \d+"):
            import_export(deps, source, "T0EXPORT1", separate_reader=separate_reader)

    assert counts(db) == dict.fromkeys(counts(db), 0)
    assert ledger_indexes(db) == LEDGER_INDEXES


@pytest.mark.parametrize("separate_reader", [False, True], ids=["read here", "read by other processes"])
def test_an_import_stopped_half_way_leaves_nothing_behind(deps, db, separate_reader) -> None:  # type: ignore[no-untyped-def]
    def interrupt(progress: ImportProgress) -> None:
        if progress.files_done == 10:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the import

    with pytest.raises(KeyboardInterrupt):
        import_export(deps, SAMPLE_EXPORT, SAMPLE_TEAM_ID, on_progress=interrupt, separate_reader=separate_reader)

    assert counts(db) == dict.fromkeys(counts(db), 0)
    assert ledger_indexes(db) == LEDGER_INDEXES
    assert not [child for child in multiprocessing.active_children() if child.name.startswith("export-reader")]


def test_a_reply_to_a_link_imported_in_an_earlier_run_still_counts(deps, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    def export(name: str, messages: list[dict]) -> Path:
        root = tmp_path / name
        (root / "social").mkdir(parents=True)
        (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "social"}]))
        (root / "social" / f"{name}.json").write_text(json.dumps(messages))
        return root

    link = {"type": "message", "user": "U1", "text": "<https://blog.example.com/a>", "ts": "1795424400.000100"}
    comment = {
        "type": "message",
        "user": "U2",
        "text": "This is the clearest explanation I have read",
        "ts": "1795510800.000100",
        "thread_ts": "1795424400.000100",
        "parent_user_id": "U1",
    }
    import_export(deps, export("2026-11-23", [link]), "T0EXPORT1")
    import_export(deps, export("2026-11-24", [comment]), "T0EXPORT1")

    assert tally(db) == {(Kind.LINK, "U1", ""): 1, (Kind.COMMENT, "U2", "U1"): 1}


def test_a_reply_to_a_link_older_than_the_readers_memory_still_counts(deps, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "export"
    (root / "social").mkdir(parents=True)
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "social"}]))
    link = {"type": "message", "user": "U1", "text": "<https://blog.example.com/a>", "ts": "1790000000.000100"}
    later = {
        "type": "message",
        "user": "U2",
        "text": "Came back to this after a month, still the best take on it",
        "ts": "1794000000.000100",  # 46 days on: the reader has forgotten the parent, the store has not
        "thread_ts": "1790000000.000100",
        "parent_user_id": "U1",
    }
    (root / "social" / "2026-09-21.json").write_text(json.dumps([link]))
    (root / "social" / "2026-11-06.json").write_text(json.dumps([later]))

    report = import_export(deps, root, "T0EXPORT1")

    assert tally(db) == {(Kind.LINK, "U1", ""): 1, (Kind.COMMENT, "U2", "U1"): 1}
    assert (report.links, report.comments, report.new_entries) == (1, 1, 2)


def everything(db) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    """Every row an import writes, but ids and when rows were written."""
    with db.session() as session:
        return {
            table.name: sorted(
                tuple(row)
                for row in session.execute(
                    select(*(column for column in table.columns if column.name not in ("id", "created_at")))
                )
            )
            for table in (Activity.__table__, Reaction.__table__, *ROLLUP_TABLES)
        }


def test_however_it_is_read_and_written_an_import_stores_the_same(deps, db) -> None:  # type: ignore[no-untyped-def]
    import_export(deps, SAMPLE_EXPORT, SAMPLE_TEAM_ID, separate_reader=False, in_bulk=False)
    expected = everything(db)
    assert expected["rollup_totals"] and expected["rollup_received_pairs"]

    for separate_reader, in_bulk in ((True, True), (False, True), (True, False)):
        with db.session() as session:
            session.execute(delete(Team))
        progress: list[ImportProgress] = []
        import_export(
            deps,
            SAMPLE_EXPORT,
            SAMPLE_TEAM_ID,
            on_progress=progress.append,
            separate_reader=separate_reader,
            in_bulk=in_bulk,
        )
        assert everything(db) == expected, (separate_reader, in_bulk)
        assert ledger_indexes(db) == LEDGER_INDEXES
        assert progress[-1] == ImportProgress(files_done=19, files_total=19, messages=77)


def test_an_export_that_repeats_messages_counts_them_once_however_it_is_written(deps, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A repeated day file (a hand-merged export) adds nothing, written in bulk or row by row."""
    export = tmp_path / "export"
    shutil.copytree(SAMPLE_EXPORT, export)
    first_day = sorted((export / "marketing").glob("*.json"))[0]
    shutil.copy(first_day, export / "marketing" / "2026-11-30.json")  # every message of that day, twice

    import_export(deps, export, SAMPLE_TEAM_ID, in_bulk=False)
    expected = everything(db)
    with db.session() as session:
        session.execute(delete(Team))
    import_export(deps, export, SAMPLE_TEAM_ID, in_bulk=True)

    assert everything(db) == expected
    with db.session() as session:
        session.execute(delete(Team))
    import_export(deps, SAMPLE_EXPORT, SAMPLE_TEAM_ID, in_bulk=False)
    assert everything(db) == expected  # the repeated day added nothing


def test_a_big_import_into_a_team_with_history_adds_to_its_standings(deps, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import_export(deps, SAMPLE_EXPORT, SAMPLE_TEAM_ID, in_bulk=False)
    with db.session() as session:
        session.execute(delete(Activity).where(Activity.channel_id == LAUNCH_ROOM))  # as if never imported
        rebuild_rollups(session, SAMPLE_TEAM_ID)

    import_export(deps, SAMPLE_EXPORT, SAMPLE_TEAM_ID, in_bulk=True)
    bulk = everything(db)
    with db.session() as session:
        session.execute(delete(Team))
    import_export(deps, SAMPLE_EXPORT, SAMPLE_TEAM_ID, in_bulk=False)

    assert bulk == everything(db)


# --- the command line --------------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch, database_url, db):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", database_url)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    return db


def test_import_export_sample_from_the_command_line(cli_env, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["import-export", "--sample"]) == 0
    first = capsys.readouterr()
    assert main(["import-export", "--sample"]) == 0
    second = capsys.readouterr()

    assert first.out.startswith("Imported 77 messages from 19 day files in 3 channels into workspace T0SAMPLE")
    assert "87 new entries" in first.out and "python -m bot report" in first.out
    assert "nothing new (already imported)" in second.out
    assert first.err == ""  # no progress bar when stderr is not a terminal


def test_the_command_line_names_the_bad_file_and_writes_nothing(cli_env, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["import-export", str(MALFORMED), "--team", "T0EXPORT1"]) == 1

    err = capsys.readouterr().err
    assert err.startswith("Nothing was imported: social/2026-11-11.json: bad JSON at line")
    assert counts(cli_env) == dict.fromkeys(counts(cli_env), 0)


def test_the_command_line_asks_for_the_export(cli_env, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["import-export"]) == 2
    assert "or --sample" in capsys.readouterr().err


# --- which workspace: the export says ---------------------------------------------------------------


def export_with_users(tmp_path: Path, users: list[dict], team: dict | None = None) -> Path:
    """The sample export with its users.json replaced (and a team.json, when given)."""
    root = Path(shutil.copytree(SAMPLE_EXPORT, tmp_path / "export"))
    (root / "users.json").write_text(json.dumps(users))
    if team is not None:
        (root / "team.json").write_text(json.dumps(team))
    return root


def teams_stored(db) -> set[str]:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return set(session.scalars(select(Team.id))) | set(session.scalars(select(Activity.team_id).distinct()))


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "zip"])
def test_the_export_names_its_workspace_in_its_users(cli_env, capsys, tmp_path, packed) -> None:  # type: ignore[no-untyped-def]
    export = zipped(SAMPLE_EXPORT, tmp_path / "export.zip") if packed else SAMPLE_EXPORT

    assert main(["import-export", str(export)]) == 0

    assert "into workspace T07NQ4K2A8M" in capsys.readouterr().out
    assert teams_stored(cli_env) == {"T07NQ4K2A8M"}


def test_team_overrides_what_the_export_says(cli_env, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["import-export", str(SAMPLE_EXPORT), "--team", "T0OTHER1"]) == 0

    assert "into workspace T0OTHER1" in capsys.readouterr().out
    assert teams_stored(cli_env) == {"T0OTHER1"}


def test_an_export_of_several_workspaces_is_refused_naming_them(cli_env, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    export = export_with_users(
        tmp_path,
        [
            {"id": MAYA, "team_id": "T0HOME01", "name": "maya"},
            {"id": LEO, "team_id": "T0GUEST1", "name": "leo"},
            {"id": "U07NQ5E4R6K", "team_id": "T0HOME01", "name": "priya"},
        ],
    )

    assert main(["import-export", str(export)]) == 2
    assert capsys.readouterr().err == (
        "Nothing was imported: its members belong to several workspaces (T0HOME01, T0GUEST1); "
        "say which one to import into with --team, e.g. --team T0HOME01\n"
    )
    assert counts(cli_env) == dict.fromkeys(counts(cli_env), 0)

    assert main(["import-export", str(export), "--team", "T0HOME01"]) == 0
    assert teams_stored(cli_env) == {"T0HOME01"}


def test_team_json_settles_which_workspace_the_export_is_from(cli_env, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    export = export_with_users(
        tmp_path,
        [{"id": MAYA, "team_id": "T0HOME01", "name": "maya"}, {"id": LEO, "team_id": "T0GUEST1", "name": "leo"}],
        team={"id": "T0HOME01", "name": "Acme", "domain": "acme"},
    )

    assert main(["import-export", str(export)]) == 0
    assert teams_stored(cli_env) == {"T0HOME01"}


def test_an_export_that_names_no_workspace_goes_to_the_only_one_stored_or_asks(cli_env, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    export = export_with_users(tmp_path, [{"id": MAYA, "name": "maya"}, {"id": LEO, "name": "leo"}])

    assert main(["import-export", str(export)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("This export doesn't say which workspace it is from (no team_id in users.json, no team.json)")
    assert "add --team with your workspace id" in err and "Slack exports don't say" not in err
    assert counts(cli_env) == dict.fromkeys(counts(cli_env), 0)

    assert main(["import-export", "--sample"]) == 0
    assert main(["import-export", str(export)]) == 0
    assert "into workspace T0SAMPLE" in capsys.readouterr().out.splitlines()[-1]
    assert teams_stored(cli_env) == {SAMPLE_TEAM_ID}


def test_a_team_json_without_an_id_is_refused(cli_env, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    export = export_with_users(tmp_path, [{"id": MAYA, "team_id": "T0HOME01"}], team={"name": "Acme"})

    assert main(["import-export", str(export)]) == 1
    assert capsys.readouterr().err.startswith("Nothing was imported: team.json should hold the workspace")
    assert counts(cli_env) == dict.fromkeys(counts(cli_env), 0)


# --- zip bombs: refused from the command line, exit 2, nothing written ----------------------------------


@pytest.mark.parametrize(
    ("options", "cap", "option"),
    [
        ([], "more than the cap of 200 times", "--max-ratio"),
        (
            ["--max-ratio", "5000", "--max-uncompressed-mb", "100"],
            "more than the cap of 100 MB",
            "--max-uncompressed-mb",
        ),
        (["--max-entries", "2"], "holds 3 files, more than the cap of 2", "--max-entries"),
    ],
    ids=["ratio", "uncompressed size", "entries"],
)
def test_the_command_line_refuses_a_zip_bomb_naming_the_cap_and_its_option(  # type: ignore[no-untyped-def]
    cli_env, capsys, tmp_path, options, cap, option
) -> None:
    path = bomb(tmp_path / "export.zip")

    with peak_memory() as peak:
        code = main(["import-export", str(path), *options])

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("Nothing was imported: export.zip") and cap in err
    assert err.endswith(f"so it may be a zip bomb; if you trust this export, raise the cap with {option}\n")
    assert err.count("\n") == 1
    assert counts(cli_env) == dict.fromkeys(counts(cli_env), 0)
    assert peak[0] < 64 * MIB


def test_a_zip_bomb_is_refused_when_the_team_is_given_too(cli_env, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["import-export", str(bomb(tmp_path / "export.zip")), "--team", "T0BOMB"]) == 2

    assert capsys.readouterr().err.endswith("raise the cap with --max-ratio\n")
    assert counts(cli_env) == dict.fromkeys(counts(cli_env), 0)


@pytest.mark.parametrize("separate_reader", [False, True], ids=["read here", "read by other processes"])
def test_with_its_cap_raised_a_bomb_is_refused_a_chunk_in_and_nothing_is_written(  # type: ignore[no-untyped-def]
    deps, db, tmp_path, separate_reader
) -> None:
    path = bomb(tmp_path / "export.zip")

    with (
        peak_memory() as peak,
        pytest.raises(ExportError, match=rf"{DAY_FILE}: its first 1,048,576 bytes do not start a JSON list"),
    ):
        import_export(deps, path, "T0BOMB", separate_reader=separate_reader, limits=ArchiveLimits(max_ratio=10_000))

    assert counts(db) == dict.fromkeys(counts(db), 0)
    assert peak[0] < 64 * MIB  # what this process held; a reading process unpacks one chunk of it too


def test_the_command_line_refuses_a_zip_that_lies_about_its_sizes(cli_env, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = declare_sizes(bomb(tmp_path / "export.zip", filler=repeated_messages), DAY_FILE, file_size=1000)

    with peak_memory() as peak:
        assert main(["import-export", str(path)]) == 1

    assert capsys.readouterr().err.startswith(f"Nothing was imported: {DAY_FILE}: cannot be unpacked (Bad CRC-32")
    assert counts(cli_env) == dict.fromkeys(counts(cli_env), 0)
    assert peak[0] < 64 * MIB


def damaged(path: Path, how: str) -> Path:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        del data[len(data) // 2 :]
    elif how == "a name that is not UTF-8":
        directory = data.find(b"PK\x01\x02")
        data[directory + 9] |= 0x08  # general purpose flags, bit 11: the name is UTF-8...
        data[directory + 46] = 0x80  # ...and it starts with a byte UTF-8 never does
    else:  # every member "encrypted" (flags, bit 0) or packed with Deflate64 (method 9), zipfile knows neither
        for signature, flags_at, method_at in ((b"PK\x01\x02", 8, 10), (b"PK\x03\x04", 6, 8)):
            at = data.find(signature)
            while at >= 0:
                if how == "encrypted":
                    data[at + flags_at] |= 0x01
                else:
                    data[at + method_at : at + method_at + 2] = (9).to_bytes(2, "little")
                at = data.find(signature, at + 4)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("truncated", "export.zip is not a zip file or a folder\n"),
        ("a name that is not UTF-8", "export.zip is not a zip file or a folder ('utf-8' codec can't decode"),
        ("encrypted", "users.json is encrypted: unpack the export with its password, or export it without one\n"),
        ("Deflate64", "users.json: cannot be unpacked (That compression method is not supported)\n"),
    ],
)
def test_a_damaged_zip_is_refused_with_exit_1_never_a_traceback(cli_env, capsys, tmp_path, how, message) -> None:  # type: ignore[no-untyped-def]
    path = damaged(zipped(SAMPLE_EXPORT, tmp_path / "export.zip"), how)

    assert main(["import-export", str(path), "--team", "T0DAMAGED"]) == 1

    err = capsys.readouterr().err
    assert err.startswith("Nothing was imported: " + message) and "Traceback" not in err
    assert counts(cli_env) == dict.fromkeys(counts(cli_env), 0)


def test_a_file_without_a_name_in_the_zip_is_passed_over(cli_env, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = zipped(SAMPLE_EXPORT, tmp_path / "export.zip")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(zipfile.ZipInfo(""), b"[]")  # zipfile itself cannot list it

    assert main(["import-export", str(path)]) == 0
    assert "87 new entries" in capsys.readouterr().out


def test_the_help_says_where_the_workspace_comes_from_and_each_cap(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        main(["import-export", "--help"])

    help_text = " ".join(capsys.readouterr().out.split())
    assert "else the one the export names in team.json or its users' team_id, else the only one stored" in help_text
    assert "--max-uncompressed-mb MB refuse a zip that unpacks to more than this (default: 2048)" in help_text
    assert "--max-entries N refuse a zip of more files than this (default: 100000)" in help_text
    assert (
        "--max-ratio X refuse a zip, or a file of 1 MB or more in it, packed over X times smaller (default: 200)"
        in help_text
    )


@pytest.mark.parametrize("option", ["--max-uncompressed-mb", "--max-entries", "--max-ratio"])
@pytest.mark.parametrize("value", ["0", "-1", "lots"])
def test_a_cap_must_be_a_number_above_zero(cli_env, capsys, option, value) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exited:
        main(["import-export", "--sample", option, value])

    assert exited.value.code == 2
    assert f"argument {option}: '{value}' isn't a" in capsys.readouterr().err


def test_the_caps_leave_room_for_the_sample(cli_env, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = zipped(SAMPLE_EXPORT, tmp_path / "export.zip")

    assert (
        main(["import-export", str(path), "--max-ratio", "20", "--max-entries", "30", "--max-uncompressed-mb", "1"])
        == 0
    )
    assert "87 new entries" in capsys.readouterr().out
