"""Block Kit builders: pure `build_*` functions returning a `Message` (blocks plus plain-text fallback).

Nothing here calls Slack or the database; tests read the returned structures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

Block = dict[str, Any]
MAX_SECTION_TEXT = 3000  # Slack's limit for a section's text
MAX_LINK_LABEL = 60
MAX_LINK_MARKUP = 2600  # a <url|label> this long still leaves room in a section for who shared it and when


@dataclass(frozen=True)
class Message:
    """What a person sees: `text` is the notification and screen-reader fallback for `blocks`."""

    text: str
    blocks: list[Block] = field(default_factory=list)


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text[:MAX_SECTION_TEXT]}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:150] if len(text) > 150 else text, "emoji": True}


def section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": mrkdwn(text), **extra}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts]}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text)}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str = "", *, style: str | None = None, url: str | None = None) -> Block:
    element: Block = {"type": "button", "text": plain(text), "action_id": action_id}
    if value:
        element["value"] = value
    if style:
        element["style"] = style
    if url:
        element["url"] = url
    return element


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text_bar(value: float, maximum: float, width: int = 10) -> str:
    """A small text bar (█░) for leaderboards: readable on a phone, no images needed."""
    filled = 0 if maximum <= 0 else max(0, min(width, round(width * value / maximum)))
    return "█" * filled + "░" * (width - filled)


def format_ratio(ratio: float | None) -> str:
    """ "4.3:1" (social actions per post), or "—" when there are no posts to balance."""
    return "—" if ratio is None else f"{ratio:.1f}:1"


def format_target(target: float) -> str:
    """A team's target ratio as it was set: "4:1", "1.5:1"."""
    return f"{target:g}:1"


def plural(n: int, one: str, many: str | None = None) -> str:
    """ "1 reply", "2 replies", "1,204 posts": the count with its noun (`many` defaults to `one` + "s")."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def link_label(url: str) -> str:
    """A URL as people read it: no scheme or www, shortened, safe inside a Slack link."""
    label = url.split("://", 1)[-1].removeprefix("www.").rstrip("/")
    if len(label) > MAX_LINK_LABEL:
        label = label[: MAX_LINK_LABEL - 1] + "…"
    return escape(label).replace("|", "¦")


def link_target(url: str) -> str:
    """A URL as a link's target in mrkdwn: `|`, `<`, `>` and whitespace percent-encoded, `&` escaped.

    Slack splits `<target|label>` at the first `|` and ends it at the first `>`, so a URL carrying them would
    let whoever shared it choose the label the team reads (`https://x.com/a|Your bank`) or end the link early.
    Percent-encoded, they still reach the same page.
    """
    if any(c in "|<>" or c.isspace() for c in url):
        url = "".join(quote(c, safe="") if c in "|<>" or c.isspace() else c for c in url)
    return url.replace("&", "&amp;")


def slack_link(url: str, label: str | None = None, *, room: int = MAX_LINK_MARKUP) -> str:
    """`<url|label>`, the one way a link is written in our messages: the whole URL as the target (see
    link_target), a label we computed (`link_label`, or our own words) escaped, in at most `room` characters.

    A link is never cut (half a `<url|label>` breaks the message): one whose markup would not fit is shown
    by its label alone, which only a URL escaped far beyond 2,048 characters ever needs.
    """
    text = link_label(url) if label is None else escape(label).replace("|", "¦")
    markup = f"<{link_target(url)}|{text}>"
    return markup if len(markup) <= room else text
