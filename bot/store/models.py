"""The database schema as SQLAlchemy 2 typed models. Every row belongs to one Slack workspace (team).

Migrations in `bot/store/migrations` are the source of truth for the live schema; `alembic check` in
CI holds these models and the migrations to each other.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.coach.totals import COUNTERS
from bot.store.types import BigIntId, UTCDateTime

# Named constraints make migrations reproducible and let SQLite's batch mode find them again.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SLACK_ID = 32  # Slack ids are short (U0123ABCD, C0123ABCD, T0123ABCD); leave room for enterprise forms.
TS = 32  # Slack message timestamps such as "1763900000.000100"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _team_fk() -> ForeignKey:
    return ForeignKey("teams.id", ondelete="CASCADE")


class Team(Base):
    """A Slack workspace the bot is installed in, with its coaching settings."""

    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(SLACK_ID), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    bot_user_id: Mapped[str | None] = mapped_column(String(SLACK_ID))
    # The channel the bot was first added to: the summary goes there until a summary channel is set.
    first_channel_id: Mapped[str | None] = mapped_column(String(SLACK_ID))
    # TeamSettings.to_dict(); a JSON column so a new setting needs no migration.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Member(Base):
    """A person in a workspace, with what the bot needs to treat them kindly (opt-out, pauses, time zone)."""

    __tablename__ = "members"

    team_id: Mapped[str] = mapped_column(String(SLACK_ID), _team_fk(), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(SLACK_ID), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    tz: Mapped[str | None] = mapped_column(String(64))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Deactivated in Slack (users.info or user_change `deleted: true`): never named in public while set.
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The ts of the newest user_change applied: an older one Slack delivers later (a retry) changes nothing.
    status_version: Mapped[str | None] = mapped_column(String(TS))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # When is_admin was last read from users.info: admin rights are re-checked once this is stale.
    admin_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    nudges_paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    nudges_stopped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    last_nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_burst_note_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Channel(Base):
    """A conversation the bot has seen; `is_private` keeps private links out of every public surface."""

    __tablename__ = "channels"

    team_id: Mapped[str] = mapped_column(String(SLACK_ID), _team_fk(), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    is_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    bot_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    history_imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Activity(Base):
    """One entry of the ledger: a social action, logged by a member or seen by the bot in Slack.

    `source_key` is unique per team and deterministic for everything the bot sees, so a redelivered
    event, a re-imported history or a repeated `/coach log` is a no-op at the unique index.
    `day` and `hour` are local to the team's time zone, for the daily cap and burst rules in SQL.
    """

    __tablename__ = "activities"
    __table_args__ = (
        UniqueConstraint("team_id", "source_key"),
        Index(None, "team_id", "occurred_at"),
        Index(None, "team_id", "user_id", "occurred_at"),
        Index(None, "team_id", "channel_id", "message_ts"),
        Index(None, "team_id", "channel_id", "thread_ts"),
        Index(None, "team_id", "counterpart", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID), _team_fk())
    user_id: Mapped[str] = mapped_column(String(SLACK_ID))
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(8))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    day: Mapped[date] = mapped_column(Date)
    hour: Mapped[int] = mapped_column(SmallInteger)
    counterpart: Mapped[str] = mapped_column(String(255), default="", server_default=text("''"))
    url: Mapped[str | None] = mapped_column(Text)
    url_key: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(String(SLACK_ID))
    message_ts: Mapped[str | None] = mapped_column(String(TS))
    thread_ts: Mapped[str | None] = mapped_column(String(TS))
    is_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    source_key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Reaction(Base):
    """One emoji a member put on a shared link: the like stays until their last emoji on it is removed."""

    __tablename__ = "reactions"

    team_id: Mapped[str] = mapped_column(String(SLACK_ID), _team_fk(), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID), primary_key=True)
    message_ts: Mapped[str] = mapped_column(String(TS), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(SLACK_ID), primary_key=True)
    reaction: Mapped[str] = mapped_column(String(100), primary_key=True)
    # The newest reaction_added/removed seen for this emoji wins, whatever order Slack delivered them in: a
    # removed emoji stays as a row (removed) so an older "added" delivered after it cannot bring it back.
    # History and exports carry no reaction time (None: older than any live event).
    event_ts: Mapped[str | None] = mapped_column(String(TS))
    removed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


# The columns that say which emoji is where: what history and exports write (they know nothing of removals).
REACTION_KEY = ("team_id", "channel_id", "message_ts", "user_id", "reaction")


class InboundEvent(Base):
    """The inbox: an Events API delivery, stored before it is acknowledged (dedupe on event_id).

    The ledger writer (`bot.services.inbox`) applies unprocessed rows oldest `event_ts` first and marks them
    processed in the same transaction; a delivery that failed MAX_ATTEMPTS times is parked for a person.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (
        Index(
            "ix_inbound_events_pending",
            "event_ts",
            sqlite_where=text("processed_at IS NULL"),
            postgresql_where=text("processed_at IS NULL"),
        ),
    )

    team_id: Mapped[str] = mapped_column(String(SLACK_ID), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    # The event's own Slack ts (zero-padded, so text order is time order): the order the writer applies them in.
    event_ts: Mapped[str] = mapped_column(String(TS), default="", server_default=text("''"))
    last_error: Mapped[str | None] = mapped_column(Text)
    # After a failure, not before this: a lock timeout or a database restart passes, a real bug parks it.
    retry_after: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MessageState(Base):
    """The newest version of a Slack message the bot has seen, kept a few days so deliveries may come in any order.

    An edit is applied only when it is newer than `version` (the edit's time), a deletion is final, and a thread
    reply is stored even when its parent has not arrived yet: when the parent comes, its replies are read
    again from here. The ledger entries of a message are always a function of this row, its parent and its
    emoji (`bot.services.ingest`), never of the order events arrived in.
    """

    __tablename__ = "message_states"
    __table_args__ = (Index(None, "team_id", "channel_id", "thread_ts"), Index(None, "updated_at"))

    team_id: Mapped[str] = mapped_column(String(SLACK_ID), _team_fk(), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID), primary_key=True)
    ts: Mapped[str] = mapped_column(String(TS), primary_key=True)
    thread_ts: Mapped[str | None] = mapped_column(String(TS))
    version: Mapped[str] = mapped_column(String(TS))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The message as Slack last sent it (None once deleted); read again when its thread parent arrives.
    message: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """A message the clock sends exactly once: claimed here (unique key) before Slack is called.

    `status` moves claimed -> sent (with the Slack ts) or back to failed for a later retry; `skipped` and
    `abandoned` settle a key without a message (see bot.store.deliveries.Status). `unconfirmed_since` is when
    an attempt that may have reached Slack unseen (a 5xx, a lost connection, a crash) began: the next owner
    looks for the message in the channel's history from then on before sending it again.
    """

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID), _team_fk())
    key: Mapped[str] = mapped_column(String(255))
    channel_id: Mapped[str | None] = mapped_column(String(SLACK_ID))
    status: Mapped[str] = mapped_column(String(16))
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_ts: Mapped[str | None] = mapped_column(String(TS))
    error: Mapped[str | None] = mapped_column(Text)
    unconfirmed_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- Standings rollups: kept on write by bot/store/rollups.py, read by bot/store/tallies.py ----------------
# `period` is 'week', 'month' or 'all' and `start` its first local day (1970-01-01 for 'all'), so standings
# for any period read one row per member instead of the ledger.
# On SQLite they are WITHOUT ROWID: keyed by their composite primary key, each row is stored once, not twice.

PERIOD = 8
_STORED_BY_KEY = {"sqlite_with_rowid": False}


class RollupTotals(Base):
    """One member's totals for one period: the sums of `bot.coach.totals.COUNTERS`, one column each."""

    __table__ = Table(
        "rollup_totals",
        Base.metadata,
        Column("team_id", String(SLACK_ID), _team_fk(), primary_key=True),
        Column("period", String(PERIOD), primary_key=True),
        Column("start", Date, primary_key=True),
        Column("user_id", String(SLACK_ID), primary_key=True),
        *(Column(name, Integer, nullable=False, default=0, server_default=text("0")) for name in COUNTERS),
        **_STORED_BY_KEY,
    )


class RollupCounterpart(Base):
    """Given engagement toward one counterpart in one period: the group the breadth curve works on."""

    __tablename__ = "rollup_counterparts"
    __table_args__ = _STORED_BY_KEY

    team_id: Mapped[str] = mapped_column(String(SLACK_ID), _team_fk(), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(SLACK_ID), primary_key=True)
    period: Mapped[str] = mapped_column(String(PERIOD), primary_key=True)
    start: Mapped[date] = mapped_column(Date, primary_key=True)
    counterpart: Mapped[str] = mapped_column(String(255), primary_key=True)
    n_answer: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    n_comment: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    n_reply: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    n_share: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class RollupDay(Base):
    """Likes and follows of one member on one local day: the group the daily cap works on."""

    __tablename__ = "rollup_days"
    __table_args__ = _STORED_BY_KEY

    team_id: Mapped[str] = mapped_column(String(SLACK_ID), _team_fk(), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(SLACK_ID), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    n_follow: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    n_like: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class RollupHour(Base):
    """Posts and links of one member in one local hour: the group the burst rule works on."""

    __tablename__ = "rollup_hours"
    __table_args__ = _STORED_BY_KEY

    team_id: Mapped[str] = mapped_column(String(SLACK_ID), _team_fk(), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(SLACK_ID), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n_link: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    n_post: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class RollupReceivedPair(Base):
    """Engagement one member received from one teammate on one item (a Slack thread), counted over all time.

    `received` counts distinct (teammate, item) pairs. Which weeks and months a pair falls in is read from the
    pair's own ledger rows (a few, on the thread index) when it changes; this row is what writers of the same
    pair queue on, so two of them never both count it as new. One row per pair, not one per period: a bulk
    import writes a third as many rows.
    """

    __tablename__ = "rollup_received_pairs"
    __table_args__ = _STORED_BY_KEY

    team_id: Mapped[str] = mapped_column(String(SLACK_ID), _team_fk(), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(SLACK_ID), primary_key=True)
    giver: Mapped[str] = mapped_column(String(SLACK_ID), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID), primary_key=True)
    thread_ts: Mapped[str] = mapped_column(String(TS), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
