"""Import a channel's recent history through Slack's Web API, the way the live events would have counted it.

Runs off the request thread (see `BackgroundJobs`), pages conversations.history and, for thread parents,
conversations.replies, with the WebClient's retry handlers honouring 429 Retry-After. Each page is
written in its own short transaction, never holding a session across a Slack call. Everything goes
through the same rows as live events, so importing the same history twice changes nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient

from bot.coach.commands import MAX_BACKFILL_DAYS
from bot.coach.messages import ChannelContext, ParentMessage
from bot.deps import Deps
from bot.services.admins import is_admin
from bot.services.errors import Refusal
from bot.services.ingest import LedgerBatch, ThreadParents, oldest_first
from bot.services.teams import ensure_team, team_settings
from bot.store import ingest_queries as q
from bot.store.limits import SLACK_ID

log = logging.getLogger(__name__)

HISTORY_DAYS = MAX_BACKFILL_DAYS
PAGE_SIZE = 200


@dataclass(frozen=True)
class BackfillReport:
    """What one channel's import read and counted (`new_entries` excludes what was already counted)."""

    channel_id: str
    days: int
    messages: int
    links: int
    comments: int
    likes: int
    new_entries: int


NOT_AN_ADMIN = (
    "Only workspace admins and coach admins can import a channel's history. "
    "Ask one of them to run `/coach backfill` if a channel's last two weeks should count."
)


def check_can_backfill(deps: Deps, client: WebClient, team_id: str, user_id: str) -> None:
    """Refuse unless the member is a coach admin or a workspace admin or owner."""
    if not is_admin(deps, client, team_id, user_id):
        raise Refusal(NOT_AN_ADMIN)


def check_backfill_channel(channel_id: str) -> None:
    """Refuse what cannot have a history we read: DMs and anything that is not a channel id."""
    if len(channel_id) > SLACK_ID:
        raise Refusal(
            f"That channel's id is {len(channel_id):,} characters long; Slack's are at most {SLACK_ID}. Pick the"
            " channel from Slack's suggestions as you type: `/coach backfill #social 7`."
        )
    if not channel_id or channel_id[0] not in "CG":
        raise Refusal(
            "I can only read channels. Run `/coach backfill` in the channel itself, or name it: "
            "`/coach backfill #social 7`."
        )


def _pages(call: Callable[..., Any], key: str, **args: Any) -> Iterator[list[Mapping[str, Any]]]:
    """Yield each page of a cursor-paginated Web API method's `key` list."""
    cursor = ""
    while True:
        response = call(**args, limit=PAGE_SIZE, **({"cursor": cursor} if cursor else {}))
        yield [item for item in response.get(key) or [] if isinstance(item, Mapping)]
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or ""
        if not cursor:
            return


def backfill_channel(
    deps: Deps, client: WebClient, team_id: str, channel_id: str, days: int = HISTORY_DAYS
) -> BackfillReport:
    """Count the last `days` days of a channel: links, replies to teammates' links, reactions on them.

    Raises slack_sdk's SlackApiError when Slack refuses (not_in_channel, ratelimited after the retries);
    what was read up to then stays counted, and running it again finishes the job.
    """
    now = deps.now()
    info = client.conversations_info(channel=channel_id).get("channel") or {}
    with deps.db.session() as session:
        bot_user_id = ensure_team(session, team_id, now).bot_user_id
    if bot_user_id is None:  # no event has told us yet; our own reactions must not count
        bot_user_id = client.auth_test().get("user_id")
    with deps.db.session() as session:
        team = ensure_team(session, team_id, now)
        team.bot_user_id = bot_user_id
        stored_private = q.channel_is_private(session, team_id, channel_id)
        private = bool(info.get("is_private", stored_private if stored_private is not None else channel_id[0] == "G"))
        q.upsert_channel(session, team_id, channel_id, is_private=private, name=info.get("name"))
        batch = LedgerBatch(
            team_id,
            team_settings(team).timezone,
            now,
            bots=q.bot_user_ids(session, team_id),
            opted_out=q.opted_out_user_ids(session, team_id),
        )
        channel = ChannelContext(channel_id, private, bot_user_id)

    def stored_parent(thread_ts: str) -> ParentMessage | None:
        with deps.db.session() as session:
            return q.link_parent(session, team_id, channel_id, thread_ts)

    def write() -> None:
        with deps.db.session() as session:
            session.connection(execution_options={"compiled_cache": None})  # page-sized bulk statements
            batch.flush(session)

    parents = ThreadParents(stored_parent)
    oldest = f"{(now - timedelta(days=days)).timestamp():.6f}"
    for page in _pages(client.conversations_history, "messages", channel=channel_id, oldest=oldest):
        messages = oldest_first(page)
        for message in messages:
            batch.add(message, channel, parents)
        write()
        for parent in messages:
            if parent.get("reply_count") and isinstance(parent.get("ts"), str):
                _read_thread(client, channel, parent["ts"], batch, parents)
                write()
    with deps.db.session() as session:
        q.mark_history_imported(session, team_id, channel_id, deps.now())
    tally = batch.tally
    return BackfillReport(channel_id, days, tally.messages, tally.links, tally.comments, tally.likes, tally.new_entries)


def _read_thread(
    client: WebClient, channel: ChannelContext, thread_ts: str, batch: LedgerBatch, parents: ThreadParents
) -> None:
    for page in _pages(client.conversations_replies, "messages", channel=channel.channel_id, ts=thread_ts):
        for reply in oldest_first(page):
            if reply.get("ts") != thread_ts:  # the first item of every page is the parent itself
                batch.add(reply, channel, parents)


class BackgroundJobs:
    """A small pool for slow work a request starts (history imports), so Slack gets its answer at once.

    At most `max_workers` jobs run together; a job already queued or running for the same key is not
    started twice. `join()` waits for everything submitted (tests, and a clean shutdown).
    """

    def __init__(self, max_workers: int = 1, name: str = "background") -> None:
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._running: dict[str, Future[None]] = {}

    def submit(self, key: str, job: Callable[[], None]) -> bool:
        """Start `job` unless one with the same key is queued or running; return whether it was started."""
        with self._lock:
            if key in self._running:
                return False
            future = self._executor.submit(self._run, key, job)
            self._running[key] = future
        return True

    def _run(self, key: str, job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:  # nobody waits on this thread: log it here or it is lost
            log.exception("background job %s failed", key)
        finally:
            with self._lock:
                self._running.pop(key, None)

    def join(self, timeout: float | None = None) -> None:
        with self._lock:
            pending = list(self._running.values())
        wait(pending, timeout=timeout)


def backfill_key(team_id: str, channel_id: str) -> str:
    return f"backfill:{team_id}:{channel_id}"
