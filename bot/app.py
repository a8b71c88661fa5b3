"""Build the Bolt app: one client on SLACK_API_URL, every Slack surface registered, one error handler."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.deps import Deps
from bot.services.errors import EventNotStored
from bot.slack import register_surfaces
from bot.slack.client import make_web_client

log = logging.getLogger(__name__)

SORRY = (
    "Sorry, something went wrong on my side and nothing was changed. "
    "Please try again in a minute; if it keeps happening, tell whoever runs More Social."
)


def handle_error(error: Exception, request: BoltRequest, response: BoltResponse | None) -> BoltResponse:
    """Log the failure with its traceback and answer Slack with a 200, never a 5xx.

    A slash command gets a short ephemeral apology. An event still gets a 200 so Slack does not
    retry it over and over; it was stored before processing, so nothing acknowledged is lost. Only an
    event that could not even be stored gets a 503, so that Slack delivers it again.
    """
    log.error("listener failed for %s", request.body.get("type") or request.body.get("command"), exc_info=error)
    response = response or BoltResponse(status=200, body="")
    if isinstance(error, EventNotStored):
        # The one deliberate 5xx: nothing was stored, so Slack must redeliver the event later.
        response.status, response.body = 503, ""
        return response
    response.status = 200
    if request.body.get("command"):
        response.body = json.dumps({"response_type": "ephemeral", "text": SORRY})
        response.headers["content-type"] = ["application/json;charset=utf-8"]
    else:
        response.body = ""
    return response


def create_app(deps: Deps, *, client: WebClient | None = None, **bolt_options: Any) -> App:
    """Return the Bolt app for `deps.settings`; `client` lets tests share one recorded client.

    `process_before_response=True`: a listener finishes before Slack gets its answer, so an
    acknowledged event has been stored (FaaS-style, and the same on a long-running server).
    """
    settings = deps.settings
    app = App(
        client=client or make_web_client(settings),
        signing_secret=settings.slack_signing_secret or "",
        process_before_response=True,
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
        **bolt_options,
    )
    app.error(handle_error)
    app.middleware(acknowledge_rate_limit_notices)
    register_surfaces(app, deps)
    return app


def acknowledge_rate_limit_notices(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
    """Answer Slack's `app_rate_limited` notice with a 200 (it has no event, so no listener matches it).

    Slack sends it when a workspace's events exceed 30,000 an hour; an unanswered notice counts as a failure.
    """
    if body.get("type") == "app_rate_limited":
        log.warning(
            "Slack is rate limiting events for %s (minute %s)", body.get("team_id"), body.get("minute_rate_limited")
        )
        return BoltResponse(status=200, body="")
    return next()
