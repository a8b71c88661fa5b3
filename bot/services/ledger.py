"""The ledger's use cases for one member: log an action, take the last one back, opt out and in, export.

Each function opens one session (one transaction) and returns plain frozen facts for the Slack layer to
render; none of them calls Slack. Expected refusals (opted out, nothing to undo) raise `Refusal` with
words meant for the member, and change nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from bot.coach.advice import actions_to_target
from bot.coach.commands import LogAction
from bot.coach.kinds import Kind, Platform, Source
from bot.coach.scoring import MemberScore
from bot.coach.settings import TeamSettings
from bot.coach.urls import counterpart_of, platform_of, url_key
from bot.deps import Deps
from bot.services.errors import Refusal
from bot.services.inbox import MAX_ATTEMPTS
from bot.services.standings import week_score
from bot.services.teams import ensure_team, team_settings
from bot.store import limits
from bot.store.ledger import activity_row, delete_activity_ids, insert_activities
from bot.store.ledger_queries import (
    count_member_activities,
    ensure_member,
    latest_logged,
    member_activities,
)
from bot.store.member_data import forget_member, hold_opt_outs_steady
from bot.store.models import Activity

log = logging.getLogger(__name__)

OPTED_OUT = (
    "You've opted out, so I'm not keeping anything for you and nothing was logged. "
    "`/coach optin` turns tracking back on whenever you like."
)
NOTHING_TO_UNDO = (
    "There's nothing to undo: you haven't logged anything with `/coach log` yet (or you've already taken it all back)."
)
EXPORT_COLUMNS = ("occurred_at", "kind", "source", "platform", "url", "note", "channel_id", "counterpart")


@dataclass(frozen=True)
class WeekBalance:
    """The member's calendar week so far, in the very numbers `/coach me` shows.

    `given` is the engagement that counted: likes and follows past the daily cap do not (`capped_light` says
    how many), so a burst of clicks never reads as a balance the leaderboard would not give.
    """

    given: int
    pushed: int
    target_ratio: float
    capped_light: int = 0

    @classmethod
    def of(cls, score: MemberScore | None, target_ratio: float) -> WeekBalance:
        if score is None:
            return cls(0, 0, target_ratio)
        return cls(score.given, score.pushed, target_ratio, score.capped_light)

    @property
    def actions_to_target(self) -> int:
        """How many more social actions bring the week to the target (0 when there, or with no posts)."""
        return actions_to_target(self.given, self.pushed, self.target_ratio)

    @property
    def on_target(self) -> bool:
        return self.actions_to_target == 0


@dataclass(frozen=True)
class LoggedAction:
    """What a logged ledger row says, as the member would describe it."""

    kind: Kind
    url: str | None
    platform: Platform
    counterpart: str
    note: str

    @classmethod
    def from_row(cls, row: Activity) -> LoggedAction:
        return cls(Kind(row.kind), row.url, Platform(row.platform), row.counterpart, row.note or "")


@dataclass(frozen=True)
class LogResult:
    """`is_new` is False when the member had already logged this kind and link: it still counts once."""

    action: LoggedAction
    is_new: bool
    balance: WeekBalance


@dataclass(frozen=True)
class UndoResult:
    removed: LoggedAction
    balance: WeekBalance


@dataclass(frozen=True)
class OptOutPreview:
    """What `/coach optout` would do: whether they are already out, and how many rows it would delete."""

    opted_out: bool
    activity_count: int


@dataclass(frozen=True)
class ExportRow:
    """One line of a member's export: one action they took, logged or seen in Slack."""

    occurred_at: datetime
    kind: str
    source: str
    platform: str
    url: str | None
    note: str | None
    channel_id: str | None
    counterpart: str


def source_key(user_id: str, action: LogAction) -> str:
    """The dedupe key of a logged action: one per member, kind and link; every link-less log is its own."""
    if action.url is None:
        return f"{Source.LOG}:{user_id}:{action.kind}:{uuid.uuid4().hex}"
    digest = hashlib.sha1(url_key(action.url).encode()).hexdigest()
    return f"{Source.LOG}:{user_id}:{action.kind}:{digest}"


def _storable(note: str) -> str | None:
    """The note as the database can keep it: PostgreSQL text cannot hold NUL, and nobody means one."""
    return note.replace("\x00", "") or None


def _week_balance(session: Session, team_id: str, user_id: str, now: datetime, settings: TeamSettings) -> WeekBalance:
    """Scored exactly as the leaderboard and `/coach me` score it, so the three never disagree."""
    return WeekBalance.of(week_score(session, team_id, user_id, now, settings), settings.target_ratio)


def check_can_log(deps: Deps, team_id: str, user_id: str) -> None:
    """Refuse before the log form opens if the member has opted out (so they don't fill it in for nothing)."""
    with deps.db.session() as session:
        ensure_team(session, team_id, deps.now())
        if ensure_member(session, team_id, user_id).opted_out:
            raise Refusal(OPTED_OUT)


def log_action(deps: Deps, team_id: str, user_id: str, action: LogAction) -> LogResult:
    """Record a social action the member took elsewhere, once per kind and link, and return their week."""
    counterpart = counterpart_of(action.url)
    if len(counterpart) > limits.COUNTERPART:
        raise Refusal(
            f"The account or site in that link is {len(counterpart):,} characters long; I can keep names of up to"
            f" {limits.COUNTERPART}. Could you log it with a shorter link to the same place?"
        )
    now = deps.now()
    with deps.db.session() as session:
        hold_opt_outs_steady(session)  # an opt-out clicked meanwhile waits, then deletes this log too
        team = ensure_team(session, team_id, now)
        if ensure_member(session, team_id, user_id).opted_out:
            raise Refusal(OPTED_OUT)
        settings = team_settings(team)
        row = activity_row(
            team_id=team_id,
            user_id=user_id,
            kind=action.kind.value,
            source=Source.LOG.value,
            occurred_at=now,
            timezone=settings.timezone,
            source_key=source_key(user_id, action),
            platform=platform_of(action.url).value,
            created_at=now,
            counterpart=counterpart,
            url=action.url,
            url_key=url_key(action.url) if action.url else None,
            note=_storable(action.note),
        )
        is_new = insert_activities(session, [row]) == 1
        balance = _week_balance(session, team_id, user_id, now, settings)
    logged = LoggedAction(action.kind, action.url, Platform(row["platform"]), row["counterpart"], row["note"] or "")
    return LogResult(logged, is_new, balance)


def undo_last(deps: Deps, team_id: str, user_id: str) -> UndoResult:
    """Remove the member's most recently logged action; activity the bot saw in Slack is left alone."""
    now = deps.now()
    with deps.db.session() as session:
        team = ensure_team(session, team_id, now)
        ensure_member(session, team_id, user_id)
        row = latest_logged(session, team_id, user_id)
        if row is None:
            raise Refusal(NOTHING_TO_UNDO)
        removed = LoggedAction.from_row(row)
        delete_activity_ids(session, team_id, [row.id])
        balance = _week_balance(session, team_id, user_id, now, team_settings(team))
    return UndoResult(removed, balance)


def opt_out_preview(deps: Deps, team_id: str, user_id: str) -> OptOutPreview:
    """What opting out would delete, so the confirmation can say it plainly before anything goes."""
    with deps.db.session() as session:
        ensure_team(session, team_id, deps.now())
        member = ensure_member(session, team_id, user_id)
        return OptOutPreview(member.opted_out, count_member_activities(session, team_id, user_id))


def opt_out(deps: Deps, team_id: str, user_id: str) -> int:
    """Forget the member (`bot.store.member_data.forget_member`) and exclude them from now on; return how many
    of their actions went.

    The member row stays, flagged, because it is what remembers the choice. Tallies, leaderboards,
    summaries and nudges leave opted-out members out by reading the flag, and the writer keeps nothing of
    what they do next (their deliveries keep only the ids dedupe needs).
    """
    now = deps.now()
    with deps.db.session() as session:
        ensure_team(session, team_id, now)
        ensure_member(session, team_id, user_id)
        forgotten = forget_member(session, team_id, user_id, now, max_attempts=MAX_ATTEMPTS)
    log.info(
        "member %s of %s opted out: %d actions, %d of teammates' engagement with them, %d deliveries emptied",
        user_id,
        team_id,
        forgotten.actions,
        forgotten.engagement_with_them,
        forgotten.deliveries_emptied,
    )
    return forgotten.actions


def opt_in(deps: Deps, team_id: str, user_id: str) -> bool:
    """Count and coach the member again from now on; return whether they had been opted out."""
    with deps.db.session() as session:
        ensure_team(session, team_id, deps.now())
        member = ensure_member(session, team_id, user_id)
        was_out = member.opted_out
        member.opted_out = False
    return was_out


def export_rows(deps: Deps, team_id: str, user_id: str) -> list[ExportRow]:
    """Everything the member did that the ledger holds, oldest first, private channels included (theirs)."""
    with deps.db.session() as session:
        return [
            ExportRow(
                occurred_at=row.occurred_at,
                kind=row.kind,
                source=row.source,
                platform=row.platform,
                url=row.url,
                note=row.note,
                channel_id=row.channel_id,
                counterpart=row.counterpart,
            )
            for row in member_activities(session, team_id, user_id)
        ]


def export_csv(rows: Sequence[ExportRow]) -> str:
    """The rows as CSV with a header line; times as ISO 8601 in UTC."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                row.occurred_at.astimezone(UTC).isoformat(),
                row.kind,
                row.source,
                row.platform,
                row.url or "",
                row.note or "",
                row.channel_id or "",
                row.counterpart,
            )
        )
    return out.getvalue()
