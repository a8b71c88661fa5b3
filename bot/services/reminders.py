"""The channel reminder on working days: public links still waiting for a first reply, at most five."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.coach.schedule_rules import reminder_due
from bot.deps import Deps
from bot.services.deliveries import Delivered, Outgoing, deliver_once, needs_delivery, settle_without_message
from bot.services.settings_service import effective_settings
from bot.services.summary import summary_channel
from bot.slack.blocks.reminders import LinkToAnswer, build_waiting_reminder
from bot.store.models import Team
from bot.store.tallies import unnamed_members
from bot.store.waiting import WaitingLink, waiting_links

log = logging.getLogger(__name__)

REMINDER_LINKS = 5


def permalink(client: WebClient, channel_id: str, message_ts: str) -> str | None:
    """The link that opens a message in Slack; None if Slack will not say (the line still names the channel)."""
    try:
        return client.chat_getPermalink(channel=channel_id, message_ts=message_ts)["permalink"]
    except SlackApiError as error:
        log.info("no permalink for %s/%s: %s", channel_id, message_ts, error.response.get("error"))
        return None


def links_to_answer(client: WebClient, links: list[WaitingLink]) -> list[LinkToAnswer]:
    return [
        LinkToAnswer(
            link.user_id, link.url, link.channel_id, link.shared_at, permalink(client, link.channel_id, link.message_ts)
        )
        for link in links
    ]


def send_waiting_reminder(deps: Deps, client: WebClient, team_id: str, now: datetime) -> list[Delivered]:
    """Post today's reminder once if links are waiting; if none are, settle the day without a message."""
    with deps.db.session() as session:
        team = session.get(Team, team_id)
        if team is None:
            return []
        settings = effective_settings(session, team)
        due = reminder_due(settings, now)
        if due is None or not needs_delivery(session, team_id, due.key, deps.now()):
            return []
        channel_id = settings.reminder_channel or summary_channel(team, settings)
        if channel_id is None:
            return []
        links = waiting_links(
            session,
            team_id,
            now,
            settings.waiting_hours,
            public_only=True,
            limit=REMINDER_LINKS,
            exclude_user_ids=unnamed_members(session, team_id).everyone,  # deactivated members, bots
        )
    if not links:
        settle_without_message(deps, team_id, due.key)
        return []
    message = build_waiting_reminder(links_to_answer(client, links), now)
    return [deliver_once(deps, client, Outgoing(team_id, due.key, message, channel_id=channel_id))]
