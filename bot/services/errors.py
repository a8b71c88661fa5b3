"""Expected refusals a service raises with words meant for the member (not bugs)."""

from __future__ import annotations


class Refusal(Exception):
    """The request was understood and politely declined (e.g. "only admins can change settings").

    Slack surfaces show `str(refusal)` ephemerally; nothing was changed.
    """


class EventNotStored(Exception):
    """An Events API delivery could not be stored, so it must not be acknowledged.

    Slack redelivers an event it did not get a 2xx for; answering 200 here would lose it for good.
    """
