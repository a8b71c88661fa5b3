"""Expected refusals a service raises with words meant for the member (not bugs)."""

from __future__ import annotations


class Refusal(Exception):
    """The request was understood and politely declined (e.g. "only admins can change settings").

    Slack surfaces show `str(refusal)` ephemerally; nothing was changed.
    """
