"""The /coach router: every command the grammar can produce has exactly one handler."""

from __future__ import annotations

import re
import typing

from bot.coach.commands import SUBCOMMANDS, Command
from bot.slack.commands import collect_handlers


def test_every_command_type_has_a_handler() -> None:
    assert set(collect_handlers()) == set(typing.get_args(Command))


def test_every_subcommand_in_the_help_table_parses_to_a_handled_command() -> None:
    from bot.coach.commands import parse_command

    handled = set(collect_handlers())
    for subcommand in SUBCOMMANDS:
        for example in subcommand.examples:
            # In Slack, picking #social or @ana from the suggestions sends them escaped (should_escape).
            text = re.sub(r"#([a-z-]+)", r"<#C0SOCIAL01|\1>", example.removeprefix("/coach").strip())
            text = re.sub(r"@([a-z]+)", r"<@U0ANA00001|\1>", text)
            assert type(parse_command(text)) in handled, example
