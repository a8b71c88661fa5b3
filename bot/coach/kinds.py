"""The vocabulary of the ledger: what a social action is and which side of the balance it sits on.

Everything else (the /coach grammar, Slack ingestion, scoring, summaries) speaks in these terms, so they
live in the pure domain and import nothing from Slack, SQL or the rest of the bot.
"""

from __future__ import annotations

import enum


class Kind(enum.StrEnum):
    """One kind of social action. The value is what is stored in the database."""

    POST = "post"  # own content published elsewhere: a post, tweet, article, video, check-in
    LINK = "link"  # a link shared in a Slack channel (own output seen by the bot)
    REPLY = "reply"  # replied to someone
    COMMENT = "comment"  # commented on someone else's post or blog (or a teammate's link in Slack)
    ANSWER = "answer"  # answered a follower's or customer's question
    SHARE = "share"  # shared or retweeted someone else's content
    LIKE = "like"
    FOLLOW = "follow"

    @property
    def is_given(self) -> bool:
        """Engagement given to others: what the bot coaches toward."""
        return self in GIVEN_KINDS

    @property
    def is_pushed(self) -> bool:
        """Own output: what a content factory does too much of."""
        return self in PUSHED_KINDS

    @property
    def is_conversation(self) -> bool:
        """Replies, comments and answers: the heaviest engagement, shown on the leaderboard."""
        return self in CONVERSATION_KINDS

    @property
    def is_light(self) -> bool:
        """Likes and follows: one click each, capped per day so clicking cannot win."""
        return self in LIGHT_KINDS


GIVEN_KINDS = frozenset({Kind.REPLY, Kind.COMMENT, Kind.ANSWER, Kind.SHARE, Kind.LIKE, Kind.FOLLOW})
PUSHED_KINDS = frozenset({Kind.POST, Kind.LINK})
CONVERSATION_KINDS = frozenset({Kind.REPLY, Kind.COMMENT, Kind.ANSWER})
LIGHT_KINDS = frozenset({Kind.LIKE, Kind.FOLLOW})

# Kinds a member may log by hand with /coach log (LINK only comes from Slack itself).
LOGGABLE_KINDS = (Kind.POST, Kind.REPLY, Kind.COMMENT, Kind.ANSWER, Kind.SHARE, Kind.LIKE, Kind.FOLLOW)


class Source(enum.StrEnum):
    """Where a ledger entry came from."""

    LOG = "log"  # /coach log (typed or modal)
    SLACK = "slack"  # seen live in a channel, imported from history or from an export


class Platform(enum.StrEnum):
    """Where the action happened, inferred from the URL's host."""

    X = "x"
    LINKEDIN = "linkedin"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    YOUTUBE = "youtube"
    TIKTOK = "tiktok"
    MASTODON = "mastodon"
    SLACK = "slack"
    BLOG = "blog"  # any other site
    NONE = "none"  # no URL given
