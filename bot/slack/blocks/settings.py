"""The `/coach settings` card and the confirmation of one change, built from bot.coach.settings' table."""

from __future__ import annotations

from bot.coach.settings import SETTINGS
from bot.slack.blocks import Block, Message, context, header, section

_ABOUT = {spec.name: spec.about for spec in SETTINGS}
_EXAMPLE = SETTINGS[1].example  # summary-time monday 09:00: the one people change first


def build_settings(rows: list[tuple[str, str]], *, can_change: bool, first_channel_id: str | None) -> Message:
    """Every setting with its value and what it does; how to change one, or who can.

    `first_channel_id` is where the summary goes while no summary channel is set.
    """
    lines = []
    for name, value in rows:
        if name == "summary-channel" and first_channel_id and value.startswith("the channel I was first added"):
            value = f"<#{first_channel_id}> (where I was first added)"
        lines.append(f"*{name}* · {value}\n_{_ABOUT[name]}_")
    how = (
        f"Change one with `/coach settings <name> <value>`, e.g. `/coach settings {_EXAMPLE}`."
        if can_change
        else "Only workspace admins and coach admins can change these; ask one of them if something should change."
    )
    blocks: list[Block] = [header("⚙️ More Social settings"), section("\n".join(lines)), context(how)]
    text = "More Social settings:\n" + "\n".join(line.replace("\n", " — ") for line in lines) + "\n" + how
    return Message(text=text, blocks=blocks)


def build_setting_changed(name: str, value: str) -> Message:
    """The ephemeral confirmation after `/coach settings <name> <value>`."""
    text = f"✅ *{name}* is now {value}. `/coach settings` shows them all."
    return Message(text=text, blocks=[section(text)])
