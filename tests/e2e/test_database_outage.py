"""PostgreSQL goes away under the running web process, and comes back: Slack's deliveries are never lost.

The Procfile's web process reaches PostgreSQL through a TCP proxy in the test, which is cut in the middle of
the day and restored. While it is cut, /healthz says 503 at once and every Events API delivery is answered
503, never 200: a 200 for an event that could not be stored would be lost, since Slack only resends what
failed. When it is back, the same process (no restart) answers again, Slack's resends are acknowledged,
and the operator's report counts every event exactly once, resends included.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import make_url

from bot.app import SORRY
from bot.store.database import Database
from tests.e2e.tcp_proxy import TcpProxy
from tests.e2e.test_crash_recovery import Delivery, link_deliveries, report_posts
from tests.e2e.web_process import WebProcess, deliver, free_port, run_procfile, subprocess_env
from tests.slack_events import ANA
from tests.slack_requests import SIGNING_SECRET, sign
from tests.slack_stub import TEAM_ID, SlackStub

BEFORE, DURING = 12, 12  # deliveries acknowledged before the outage, and sent while it lasts
HEALTH_WITHIN = 3.0  # seconds for /healthz to say 503 once the database is gone (and 200 once it is back)
RECOVER_WITHIN = 30.0
REPORT_WITHIN = 20.0


def health(url: str) -> tuple[int | str, float]:
    """GET /healthz: the status (or why no answer came) and how long the answer took."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=10) as response:
            status: int | str = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:
        status = type(error).__name__
    return status, time.monotonic() - started


def command(url: str, text: str) -> tuple[int | str, str]:
    """POST a signed `/coach text` from ANA: the status and the ephemeral text the bot answered with."""
    body = urlencode(
        {"command": "/coach", "text": text, "team_id": TEAM_ID, "channel_id": "C0SOCIAL01", "user_id": ANA}
    ).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(body, timestamp),
    }
    request = urllib.request.Request(url + "/slack/events", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}").get("text", "")
    except urllib.error.HTTPError as error:
        return error.code, ""


def counted_posts(env: dict[str, str], deliveries: list[Delivery]) -> dict[str, int] | str:
    """Wait for the report to count `deliveries` (each member's posts); what it counts last."""
    expected = dict(Counter(delivery.user for delivery in deliveries))
    deadline = time.monotonic() + REPORT_WITHIN
    while True:
        posts = report_posts(env)
        if posts == expected or time.monotonic() > deadline:
            return posts
        time.sleep(0.5)


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        pytest.skip("a database outage is a PostgreSQL server going away; SQLite is a file in the process")
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as running:
        yield running


@pytest.fixture
def web_via_proxy(
    db: Database, database_url: str, proxy: TcpProxy, slack: SlackStub, tmp_path: Path
) -> Iterator[WebProcess]:
    """The Procfile's web process, released on the real database, reaching it through the proxy."""
    through_proxy = make_url(database_url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    common = {"SLACK_API_URL": slack.url, "SLACK_BOT_TOKEN": "xoxb-0000000000-test-token"}
    run_procfile("release", subprocess_env(DATABASE_URL=database_url, **common))
    env = subprocess_env(
        PORT=str(free_port()), DATABASE_URL=through_proxy, SLACK_SIGNING_SECRET=SIGNING_SECRET, **common
    )
    process = WebProcess(env, tmp_path)
    try:
        yield process
    finally:
        process.stop()


def test_a_database_outage_gets_503s_and_every_resent_event_counts_once_after_it_without_a_restart(
    web_via_proxy: WebProcess, proxy: TcpProxy, slack: SlackStub, database_url: str
) -> None:
    web = web_via_proxy
    deliveries = link_deliveries(slack)[: BEFORE + DURING]
    before, during = deliveries[:BEFORE], deliveries[BEFORE:]
    report_env = subprocess_env(DATABASE_URL=database_url)
    try:
        web.start()
        assert [deliver(web.url, d.body) for d in before] == [200] * BEFORE
        assert counted_posts(report_env, before) == dict(Counter(d.user for d in before))

        proxy.cut()
        status, took = health(web.url)
        assert status == 503 and took < HEALTH_WITHIN, f"/healthz answered {status} after {took:.1f} s"
        answers = [deliver(web.url, d.body) for d in during]
        assert answers == [503] * DURING, f"during the outage: {Counter(answers)}"
        assert health(web.url)[0] == 503
        status, said = command(web.url, "me")
        assert status == 200 and said == SORRY, (status, said)  # a person gets a kind answer, not an error page

        proxy.restore()
        deadline = time.monotonic() + RECOVER_WITHIN
        while (status := health(web.url)[0]) != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status == 200, f"/healthz still says {status} {RECOVER_WITHIN:.0f} s after the database came back"
        assert len(web.runs) == 1 and web.process is not None and web.process.poll() is None  # never restarted

        # Slack resends what failed, and (thinking the 200 timed out) two that were acknowledged before.
        resends = [deliver(web.url, d.body, retry_num=1, retry_reason="http_error") for d in during]
        assert resends == [200] * DURING, f"after the outage: {Counter(resends)}"
        again = [deliver(web.url, d.body, retry_num=1, retry_reason="http_timeout") for d in before[-2:]]
        assert again == [200, 200]

        assert counted_posts(report_env, deliveries) == dict(Counter(d.user for d in deliveries))
    except BaseException:
        print(web.logs())
        raise


def test_the_health_check_reports_the_database_in_its_body(web_via_proxy: WebProcess, proxy: TcpProxy) -> None:
    web = web_via_proxy
    try:
        web.start()
        proxy.cut()
        request = urllib.request.Request(web.url + "/healthz")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 503
        assert json.loads(refused.value.read()) == {"status": "unavailable", "database": "down"}
    except BaseException:
        print(web.logs())
        raise
