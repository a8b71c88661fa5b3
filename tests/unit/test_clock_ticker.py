"""The clock loop: its own schedule.Scheduler, a tick at start-up and every minute, stoppable, never killed."""

from __future__ import annotations

import logging
import threading

import pytest
import schedule

from bot.clock import Ticker


def test_ticks_at_the_top_of_every_minute_on_its_own_scheduler() -> None:
    ticker = Ticker(lambda: None)
    [job] = ticker.scheduler.get_jobs()
    assert (job.interval, job.unit, job.at_time.second) == (1, "minutes", 0)
    assert schedule.get_jobs() == []  # the library's global scheduler is left alone


def test_ticks_once_at_start_up_and_stops_when_asked() -> None:
    ticked = threading.Event()
    ticker = Ticker(ticked.set)
    thread = ticker.start()
    assert ticked.wait(timeout=30)
    ticker.stop()
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_a_failing_tick_is_logged_and_the_clock_keeps_running(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    ticker: Ticker

    def tick() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        ticker.stop()

    ticker = Ticker(tick)
    with caplog.at_level(logging.ERROR, logger="bot.clock"):
        thread = ticker.start()
        ticker.scheduler.run_all()  # the next minute's tick, without waiting for it
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert len(calls) == 2
    assert "clock tick failed" in caplog.text and "database went away" in caplog.text
