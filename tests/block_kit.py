"""Slack's Block Kit limits, checked on a built message: what Slack would reject or cut, a test rejects.

Limits from Slack's Block Kit reference: section and context texts 3,000 characters, header 150, button
text 75, 50 blocks and a 40,000-character `text` per message. Markup must be whole: a `<url|label>` cut in
half leaves a `<` with no `>`, which is how a too-long text used to break.
"""

from __future__ import annotations

import re
from typing import Any

from bot.slack.blocks import Message

SECTION_TEXT = 3000
CONTEXT_TEXT = 3000
CONTEXT_ELEMENTS = 10
HEADER_TEXT = 150
BUTTON_TEXT = 75
ACTIONS_ELEMENTS = 25
MESSAGE_BLOCKS = 50
MESSAGE_TEXT = 40000

_MARKUP = re.compile(r"<([^<>|]+)(?:\|([^<>]+))?>")


def _texts(block: dict[str, Any]) -> list[tuple[str, int]]:
    """Every text in a block with its limit."""
    kind = block["type"]
    if kind == "section":
        return [(block["text"]["text"], SECTION_TEXT)]
    if kind == "context":
        assert len(block["elements"]) <= CONTEXT_ELEMENTS
        return [(element["text"], CONTEXT_TEXT) for element in block["elements"]]
    if kind == "header":
        return [(block["text"]["text"], HEADER_TEXT)]
    if kind == "actions":
        assert len(block["elements"]) <= ACTIONS_ELEMENTS
        return [(element["text"]["text"], BUTTON_TEXT) for element in block["elements"]]
    assert kind == "divider", f"unexpected block type {kind}"
    return []


def whole_markup(text: str) -> bool:
    """Tell whether every `<...>` in a mrkdwn text is complete and nothing else uses `<` or `>`."""
    return "<" not in _MARKUP.sub("", text) and ">" not in _MARKUP.sub("", text)


def link_targets(text: str) -> list[str]:
    """The targets of the `<target|label>` links in a text, as written (escaped)."""
    return [match.group(1) for match in _MARKUP.finditer(text) if match.group(2)]


def assert_valid(message: Message) -> None:
    """Fail with the offending text if Slack would reject or cut any part of `message`."""
    assert 0 < len(message.text) <= MESSAGE_TEXT
    assert len(message.blocks) <= MESSAGE_BLOCKS
    for block in message.blocks:
        for text, limit in _texts(block):
            assert 0 < len(text) <= limit, f"{block['type']} text of {len(text)} characters: {text[:80]}..."
            assert whole_markup(text), f"cut markup in {block['type']}: ...{text[-80:]}"
