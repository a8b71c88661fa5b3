"""BulkRows builds the same encoded ledger rows as `row_encoder(driver)(activity_values(...))`, only cheaper."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.store import ledger
from bot.store.ledger import (
    ACTIVITY_COLUMNS,
    BULK_COLUMNS,
    SHARED_COLUMNS,
    BulkRows,
    activity_values,
    row_encoder,
)

DRIVERS = ("sqlite+pysqlite", "postgresql+psycopg", None)
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham")
CREATED = datetime(2026, 11, 22, 7, 38, 54, 929264, tzinfo=UTC)
text = st.text(min_size=0, max_size=12)
maybe_text = st.none() | text
instants = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, ZoneInfo("Asia/Tokyo")]),
)
rows = st.tuples(
    text,  # user_id
    st.sampled_from(["link", "comment", "like", "reply"]),
    instants,
    text,  # source_key
    st.sampled_from(["slack", "x", "linkedin"]),
    text,  # counterpart
    maybe_text,  # url
    maybe_text,  # url_key
    maybe_text,  # channel_id
    maybe_text,  # message_ts
    maybe_text,  # thread_ts
    st.booleans(),
)


def reference(driver: str | None, zone: str, row: tuple, team_id: str = "T0TEAM") -> dict[str, object]:
    """The row as the export reader built it before BulkRows (activity_values, then the driver's encoder), by column."""
    user_id, kind, occurred_at, source_key, platform, counterpart, url, url_key, channel, ts, thread, private = row
    values = activity_values(
        team_id, user_id, kind, "slack", occurred_at, ZoneInfo(zone), source_key, platform, CREATED,
        counterpart, url, url_key, None, channel, ts, thread, private,
    )  # fmt: skip
    return dict(zip(ACTIVITY_COLUMNS, row_encoder(driver)(values) if driver else values, strict=True))


@pytest.mark.parametrize("driver", DRIVERS)
@settings(max_examples=150, deadline=None)
@given(zone=st.sampled_from(ZONES), batch=st.lists(rows, min_size=1, max_size=8))
def test_rows_are_what_activity_values_and_row_encoder_give(driver: str | None, zone: str, batch: list[tuple]) -> None:
    builder = BulkRows(driver, "T0TEAM", "slack", ZoneInfo(zone), CREATED)
    # Rows of one message share their instant: repeat each row's instant on the next one, as a message's likes do.
    shared = [row for first in batch for row in (first, (*first[:3], "other-key", *first[4:]))]

    assert [builder.values(builder.row(*row)) for row in shared] == [reference(driver, zone, row) for row in shared]


@pytest.mark.parametrize("driver", DRIVERS)
def test_rows_hold_their_columns_in_bulk_order(driver: str | None) -> None:
    builder = BulkRows(driver, "T0TEAM", "slack", ZoneInfo("UTC"), CREATED)
    row = builder.row("U1", "link", CREATED, "k", "x", "", None, None, "C1", "1.0", None, False)

    assert builder.columns == BULK_COLUMNS[: len(row)]
    # On SQLite the values the whole write shares are written into the statement, not bound on every row.
    assert len(row) == len(BULK_COLUMNS) - (len(SHARED_COLUMNS) if driver == "sqlite+pysqlite" else 0)


def test_a_team_id_that_cannot_be_written_into_the_statement_is_bound_on_every_row() -> None:
    builder = BulkRows("sqlite+pysqlite", "T0\0TEAM", "slack", ZoneInfo("UTC"), CREATED)
    row = ("U1", "link", CREATED, "k", "x", "", None, None, "C1", "1.0", None, False)

    assert builder.columns == BULK_COLUMNS
    assert builder.values(builder.row(*row)) == reference("sqlite+pysqlite", "UTC", row, team_id="T0\0TEAM")


def link_at(builder: BulkRows, when: datetime) -> dict[str, object]:
    """A link row built at `when`, by column."""
    return builder.values(builder.row("U1", "link", when, "k", "x", "", None, None, "C1", "1.0", None, False))


def test_a_message_at_midnight_in_the_zone_gets_that_local_day_and_hour() -> None:
    builder = BulkRows("sqlite+pysqlite", "T0TEAM", "slack", ZoneInfo("Europe/Berlin"), CREATED)
    late = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 00:30 on the 29th in Berlin, the night clocks go forward
    row = link_at(builder, late)

    assert (row["occurred_at"], row["day"], row["hour"]) == ("2026-03-28 23:30:00.000000", "2026-03-29", 0)
    assert link_at(builder, late + timedelta(hours=2))["hour"] == 3  # 02:00-03:00 does not exist there that night


def test_where_a_faster_encoding_disagrees_with_sqlalchemy_its_own_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """The faster encodings are checked against SQLAlchemy's when a builder is made, so an upgrade cannot split them."""
    monkeypatch.setitem(ledger._FASTER, "day", lambda day: day.strftime("%d/%m/%Y"))
    builder = BulkRows("sqlite+pysqlite", "T0TEAM", "slack", ZoneInfo("UTC"), CREATED)

    assert link_at(builder, datetime(2026, 1, 2, tzinfo=UTC))["day"] == date(2026, 1, 2).isoformat()


def test_a_column_it_would_not_encode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger, "_ENCODED_ONCE", ledger._ENCODED_ONCE - {"is_private"})

    with pytest.raises(ValueError, match="is_private"):
        BulkRows("sqlite+pysqlite", "T0TEAM", "slack", ZoneInfo("UTC"), CREATED)
