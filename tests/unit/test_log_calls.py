"""The bot's own log lines carry ids and counts: a constant message, and no member's text among its arguments."""

from __future__ import annotations

import ast
from pathlib import Path

import bot

LEVELS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
# Names under which a member's words travel through the code: never an argument of a log line.
TEXT_NAMES = {"text", "note", "notes", "message_text", "payload", "raw", "raw_body", "value", "values"}


def _log_calls() -> list[tuple[str, ast.Call]]:
    calls = []
    for path in sorted(Path(bot.__file__).parent.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LEVELS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in {"log", "logger", "logging"}
            ):
                calls.append((f"{path.name}:{node.lineno}", node))
    return calls


def test_there_are_log_lines_to_check() -> None:
    assert len(_log_calls()) > 20


def test_every_log_message_is_a_constant_with_its_values_as_arguments() -> None:
    """An f-string message would carry whatever it interpolates, and defeat the checks below."""
    for where, call in _log_calls():
        message = call.args[1] if call.func.attr == "log" else call.args[0]  # type: ignore[attr-defined]
        assert isinstance(message, ast.Constant) and isinstance(message.value, str), where


def test_no_log_line_is_given_a_members_text() -> None:
    for where, call in _log_calls():
        for argument in [*call.args, *(keyword.value for keyword in call.keywords)]:
            for node in ast.walk(argument):
                name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
                assert name not in TEXT_NAMES, f"{where} logs {name!r}"
