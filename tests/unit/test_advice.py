"""The one next step /coach me and the App Home suggest."""

from __future__ import annotations

from bot.coach.advice import NextStep, actions_to_target, next_step


def test_a_teammates_waiting_link_is_always_the_most_concrete_step() -> None:
    assert next_step(0, 0, 4.0, teammate_waiting=True) is NextStep.REPLY_TO_WAITING
    assert next_step(1, 5, 4.0, teammate_waiting=True) is NextStep.REPLY_TO_WAITING


def test_otherwise_begin_balance_or_keep_listening() -> None:
    assert next_step(0, 0, 4.0, teammate_waiting=False) is NextStep.BEGIN
    assert next_step(3, 1, 4.0, teammate_waiting=False) is NextStep.BALANCE
    assert next_step(4, 1, 4.0, teammate_waiting=False) is NextStep.KEEP_LISTENING
    assert next_step(2, 0, 4.0, teammate_waiting=False) is NextStep.KEEP_LISTENING


def test_actions_to_target_counts_what_is_missing_and_never_goes_negative() -> None:
    assert actions_to_target(2, 3, 4.0) == 10
    assert actions_to_target(20, 3, 4.0) == 0
    assert actions_to_target(32, 30, 1.1) == 1  # 33 balance 30 posts at 1.1, despite binary floats
    assert actions_to_target(33, 30, 1.1) == 0
