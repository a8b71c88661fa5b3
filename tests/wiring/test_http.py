"""The HTTP surface: health check, signature checks, and the only Slack host the bot talks to."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from bot.services.teams import ensure_team
from bot.store.database import Database
from bot.store.models import Team
from bot.web import SlackWSGIApp
from tests.slack_requests import SIGNING_SECRET, SlackDriver, sign
from tests.slack_stub import TEAM_ID

UNINSTALL = {"type": "app_uninstalled", "event_ts": "1763900000.000100"}


def _team_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Team)) or 0


def test_healthz_answers_200_when_the_database_answers(driver: SlackDriver) -> None:
    response = driver.get("/healthz")
    assert response.status == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_unreachable(bolt_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    unreachable = Database.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        app = SlackWSGIApp(bolt_app, unreachable, signing_secret=SIGNING_SECRET)
        response = SlackDriver(app, stub=None).get("/healthz")  # type: ignore[arg-type]
    finally:
        unreachable.dispose()
    assert response.status == 503
    assert response.json()["database"] == "down"


def test_unknown_paths_and_methods_are_not_500(driver: SlackDriver) -> None:
    assert driver.get("/nope").status == 404
    assert driver.get("/slack/events").status == 405


def _seed_team(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        ensure_team(session, TEAM_ID, clock())


def test_bad_signature_is_refused_and_changes_nothing(driver: SlackDriver, db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    _seed_team(db, clock)
    body = driver.event_body(UNINSTALL)
    response = driver.request(body, "application/json", signature="v0=" + "0" * 64)
    assert response.status == 401
    assert _team_count(db) == 1


def test_stale_timestamp_is_refused_and_changes_nothing(driver: SlackDriver, db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    _seed_team(db, clock)
    stale = str(int(time.time()) - 301)
    response = driver.request(driver.event_body(UNINSTALL), "application/json", timestamp=stale)
    assert response.status == 401
    assert _team_count(db) == 1


def test_non_numeric_or_missing_timestamp_gets_401_not_500(driver: SlackDriver, db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    _seed_team(db, clock)
    for timestamp in ("not-a-number", "", "12.5", "-1", "١٢٣"):
        response = driver.request(driver.event_body(UNINSTALL), "application/json", timestamp=timestamp)
        assert response.status == 401, timestamp
    assert _team_count(db) == 1


def test_a_body_that_is_not_utf8_is_refused_without_a_500(driver: SlackDriver) -> None:
    assert driver.request(b"\xff\xfe\x00junk", "application/json").status == 400


def test_url_verification_is_answered(driver: SlackDriver) -> None:
    body = json.dumps({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmd", "type": "url_verification"})
    response = driver.request(body.encode(), "application/json")
    assert response.status == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmd" in response.text


def test_app_rate_limited_notice_is_acknowledged(driver: SlackDriver) -> None:
    """Slack's notice has no inner event; without an answer it counts as a failed delivery."""
    notice = {
        "token": "x",
        "type": "app_rate_limited",
        "team_id": "T0ACME001",
        "minute_rate_limited": 1518467820,
        "api_app_id": "A0MORESOC1",
    }
    response = driver.request(json.dumps(notice).encode(), "application/json")
    assert response.status == 200


def test_an_event_that_cannot_be_stored_gets_503_so_slack_redelivers_it(driver: SlackDriver, db: Database) -> None:
    """Acknowledging an event we could not store would lose it: Slack only retries a non-2xx answer."""
    from sqlalchemy import text

    link = {
        "type": "message",
        "channel": "C0SOCIAL01",
        "user": "U0ANA00001",
        "ts": "1763900000.000100",
        "text": "New post <https://x.com/ana/status/1>",
        "channel_type": "channel",
    }
    with db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE inbound_events RENAME TO inbound_events_away"))
    try:
        response = driver.event(link, event_id="EvNOSTORE1", settle=False)
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE inbound_events_away RENAME TO inbound_events"))
    assert response.status == 503
    assert driver.event(link, event_id="EvNOSTORE1", retry_num=1).status == 200
    with db.session() as session:
        assert session.scalar(text("SELECT count(*) FROM activities")) == 1


def test_a_refused_slash_command_stores_nothing(driver: SlackDriver, db: Database) -> None:
    """Bad signature, stale or non-numeric timestamp on a real /coach log: 401 and no ledger row."""
    from sqlalchemy import text

    body = driver.command_body("log reply https://x.com/ana/status/1 thanks", user="U0ANA00001")
    form = "application/x-www-form-urlencoded"
    assert driver.request(body, form, signature="v0=" + "f" * 64).status == 401
    assert driver.request(body, form, timestamp=str(int(time.time()) - 301)).status == 401
    assert driver.request(body, form, timestamp="yesterday").status == 401
    with db.session() as session:
        assert session.scalar(text("SELECT count(*) FROM activities")) == 0
        assert session.scalar(text("SELECT count(*) FROM teams")) == 0
    assert driver.request(body, form).status == 200  # the same request, signed properly, is taken
    with db.session() as session:
        assert session.scalar(text("SELECT count(*) FROM activities")) == 1


GARBAGE = (b"not json at all", b"{", b"", b"payload=not-json", b"payload={", b"[]")
JSON, FORM = "application/json", "application/x-www-form-urlencoded"


def _stored_rows(db: Database) -> int:
    from sqlalchemy import text

    with db.session() as session:
        return sum(
            session.scalar(text(f"SELECT count(*) FROM {table}")) or 0
            for table in ("inbound_events", "activities", "teams")
        )


def test_unsigned_garbage_gets_401_before_anything_parses_it(driver: SlackDriver, db: Database) -> None:
    """Bolt parses the body before it checks the signature: `{` with a bad signature used to raise a 500."""
    for body in GARBAGE:
        for content_type in (JSON, FORM, "text/plain"):
            wrong = driver.request(body, content_type, signature="v0=" + "0" * 64)
            assert wrong.status == 401, (body, content_type)
            assert driver.request(body, content_type, signature="").status == 401, (body, content_type)
            # hmac.compare_digest raises on non-ASCII text: a header of Latin-1 bytes used to be a 500
            assert driver.request(body, content_type, signature="v0=\x80é").status == 401, (body, content_type)
            stale = driver.request(body, content_type, timestamp=str(int(time.time()) - 301))
            assert stale.status == 401, (body, content_type)
            signed_by_another = driver.request(
                body, content_type, signature=sign(body, str(int(time.time())), "x" * 32)
            )
            assert signed_by_another.status == 401, (body, content_type)
    assert _stored_rows(db) == 0


def test_a_signed_body_that_does_not_parse_gets_400(driver: SlackDriver, db: Database) -> None:
    for body, content_type in (
        (b"not json at all", JSON),
        (b"{", JSON),
        (b"", JSON),
        (b"", FORM),
        (b"{", FORM),  # Bolt reads any body that starts with { as JSON
        (b"payload=not-json", FORM),
        (b"payload={", FORM),
        (b"payload=%5B%5D", FORM),  # payload=[]
        (b"[]", JSON),
        (b'"a string"', JSON),
        (b"12", JSON),
        (b'{"type": "event_callback", "enterprise": 5}', JSON),  # Bolt reads the enterprise's id as it builds
        (b"[" * 100_000 + b"]" * 100_000, JSON),  # nested past the recursion limit: json raises RecursionError
        (b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, JSON),
    ):
        response = driver.request(body, content_type)
        assert response.status == 400, (body, content_type, response.status)
        assert response.json() == {"error": "the body is not a Slack payload"}
    assert _stored_rows(db) == 0


def test_a_verified_request_is_still_dispatched_by_bolt(driver: SlackDriver, db: Database) -> None:
    """The check in front of Bolt passes what Slack really sends, with a charset in its content type too."""
    body = json.dumps({"token": "x", "challenge": "c-1", "type": "url_verification"}).encode()
    response = driver.request(body, "application/json; charset=utf-8")
    assert response.status == 200 and "c-1" in response.text
    assert driver.command("help").status == 200


def test_a_slash_command_that_says_payload_is_still_a_slash_command(driver: SlackDriver, db: Database) -> None:
    """Bolt took any form body containing "payload" for an interactivity payload, and read this one as empty."""
    from sqlalchemy import text

    response = driver.command("log reply https://x.com/ana/status/1 explained the payload format")
    assert response.status == 200
    assert "Logged your *reply*" in response.json()["text"]
    with db.session() as session:
        assert session.scalar(text("SELECT note FROM activities")) == "explained the payload format"


class _Unreadable:
    """A request stream that fails the test if anything reads it."""

    def read(self, *_args: object) -> bytes:
        raise AssertionError("the body was read")


def _with_environ(driver: SlackDriver, **overrides: object) -> SlackDriver:
    """The same app, each request's WSGI environ changed as a broken or hostile client would send it."""
    app = driver.wsgi_app
    return SlackDriver(lambda environ, start: app({**environ, **overrides}, start), driver.stub)


def test_an_absurd_content_length_is_refused_before_the_body_is_read(driver: SlackDriver, db: Database) -> None:
    from bot.web import MAX_BODY_BYTES

    huge = _with_environ(driver, CONTENT_LENGTH=str(MAX_BODY_BYTES + 1), **{"wsgi.input": _Unreadable()})
    assert huge.request(b"{}", JSON).status == 413
    assert _with_environ(driver, CONTENT_LENGTH="lots").request(b"{}", JSON).status == 400
    # A client that announces more than it sends: what arrived is checked, and its signature is not the sender's.
    short = _with_environ(driver, CONTENT_LENGTH="10")
    assert short.request(driver.event_body(UNINSTALL), JSON).status == 401
    assert _stored_rows(db) == 0


def test_a_signed_event_that_bolt_cannot_dispatch_gets_400_not_500(driver: SlackDriver, db: Database) -> None:
    """Bolt's own matching raised on `"event": null` (and so did the error path after it), out of the WSGI app."""
    for event in (None, 5):
        envelope = json.loads(driver.event_body(UNINSTALL))
        envelope["event"] = event
        response = driver.request(json.dumps(envelope).encode(), JSON)
        assert response.status == 400, event
    assert _stored_rows(db) == 0
