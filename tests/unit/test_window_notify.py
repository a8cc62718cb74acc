"""Notifications against a local receiver (the sandbox's Slack-compatible webhook and Statuspage-compatible API,
served in-process): delivered, retried with a bounded timeout, recorded when undeliverable, never raising, and never
showing a token or a webhook URL."""

import datetime as dt
import json
import socket
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from opsproof import config, schedule, secrets
from opsproof.config.window import Window
from opsproof.notify import Notifier
from opsproof.probes import statuspage
from sandbox import web

WINDOW = schedule.emergency(schedule.utc(2026, 1, 5, 14), dt.timedelta(hours=1))


@pytest.fixture
def receiver(tmp_path):
    """The sandbox's receivers on a free port, their state in tmp_path."""
    web.STATE = tmp_path
    web.ensure_token(tmp_path)
    (tmp_path / "run").mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), web.Api)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield Receiver(tmp_path, server.server_address[1])
    server.shutdown()


class Receiver:
    def __init__(self, state: Path, port: int):
        self.state, self.port = state, port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def control(self, **kw) -> None:
        (self.state / "run" / "web.json").write_text(json.dumps(kw))

    def slack(self) -> list[dict]:
        path = self.state / "receivers" / "slack.jsonl"
        return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []

    def incidents(self) -> list[dict]:
        path = self.state / "receivers" / "statuspage.json"
        return json.loads(path.read_text()) if path.exists() else []

    @property
    def token(self) -> str:
        return (self.state / "secrets" / web.TOKEN_FILE).read_text().strip()


def make_env(receiver: Receiver | None, *, slack_url: str | None = None, token_file: Path | None = None,
             port: int | None = None, **notify):
    base = config.load("sandbox")
    url = f"http://127.0.0.1:{port or receiver.port}"
    w = Window.model_validate({**base.window.model_dump(), "notify": {
        "timeout_s": 1.0, "attempts": 3, "retry_wait_s": 0.05, **notify,
        "slack": {"webhook_url": slack_url or f"{url}/hooks/slack/T0/B0/x"} if slack_url != "env" else
                 {"webhook_url_env": "OPSPROOF_TEST_SLACK_URL"},
        "status_page": {"api_url": f"{url}/v1", "page_id": "p1", "token_env": "",
                        "token_file": str(token_file or receiver.state / "secrets" / web.TOKEN_FILE)}}})
    return base.model_copy(update={"window": w})


def test_start_progress_and_completion_reach_slack_and_the_status_page(receiver, tmp_path):
    journal = tmp_path / "out" / "notifications.jsonl"
    n = Notifier(make_env(receiver), journal=journal)
    first = n.send("start", WINDOW, "Maintenance started", ("CR-1",))
    assert [d.ok for d in first] == [True, True], first
    n.send("progress", WINDOW, "step 1/2 running")
    n.send("complete", WINDOW, "Maintenance Complete")
    posts = receiver.slack()
    assert [p["payload"]["text"] for p in posts] == ["Maintenance started", "step 1/2 running", "Maintenance Complete"]
    assert posts[0]["payload"]["channel"] == "#ops-alerts"
    [inc] = receiver.incidents()
    assert inc["status"] == "completed" and inc["scheduled_for"] == "2026-01-05T14:00:00Z"
    assert inc["metadata"]["opsproof"] == {"window": WINDOW.id, "change_requests": ["CR-1"]}
    assert [u["status"] for u in inc["incident_updates"]] == ["in_progress", "in_progress", "completed"]
    assert len(journal.read_text().splitlines()) == 6


def test_the_announcement_goes_to_its_channel_and_schedules_the_maintenance(receiver):
    env = make_env(receiver)
    Notifier(env).send("announce", WINDOW, "Scheduled maintenance", ("CR-1", "CR-2"))
    assert receiver.slack()[0]["payload"]["channel"] == "#engineering"
    [m] = statuspage.maintenances(env)
    assert m.status == "scheduled" and m.change_requests == ("CR-1", "CR-2") and m.covers(WINDOW.start, WINDOW.end)


def test_a_webhook_that_is_down_is_retried_then_recorded_and_nothing_raises(receiver, tmp_path):
    receiver.control(webhook_status=503)
    journal = tmp_path / "n.jsonl"
    t0 = time.monotonic()
    slack, page = Notifier(make_env(receiver), journal=journal).send("start", WINDOW, "started")
    assert time.monotonic() - t0 < 2
    assert not slack.ok and slack.attempts == 3 and "HTTP 503" in slack.detail and "after 3 attempt(s)" in slack.detail
    assert page.ok, "the status page is not affected by the webhook"
    assert json.loads(journal.read_text().splitlines()[0])["ok"] is False


def test_a_status_page_that_is_down_does_not_stop_the_webhook(receiver):
    receiver.control(statuspage_status=503)
    slack, page = Notifier(make_env(receiver)).send("progress", WINDOW, "step 2")
    assert slack.ok and not page.ok and "HTTP 503" in page.detail


def test_a_refused_token_is_not_retried_and_never_shown(receiver, tmp_path):
    bad = tmp_path / "bad-token"
    bad.write_text("not-the-token-123")
    secrets.register("not-the-token-123")
    slack, page = Notifier(make_env(receiver, token_file=bad)).send("start", WINDOW, "x")
    assert not page.ok and page.attempts == 1 and "HTTP 401" in page.detail and "not retried" in page.detail
    assert "not-the-token-123" not in page.detail
    assert receiver.token not in json.dumps([slack.__dict__, page.__dict__])


def test_a_receiver_that_never_answers_is_bounded_by_the_timeout(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections, never answers
    port = silent.getsockname()[1]
    try:
        (tmp_path / "token").write_text("t0ken-t0ken")
        env = make_env(None, port=port, token_file=tmp_path / "token", timeout_s=0.3, attempts=2)
        t0 = time.monotonic()
        slack, page = Notifier(env).send("start", WINDOW, "x")
        took = time.monotonic() - t0
    finally:
        silent.close()
    assert not slack.ok and "no answer from the webhook at 127.0.0.1 within 0.3s after 2 attempt(s)" in slack.detail
    assert not page.ok and slack.attempts == 2
    assert took < 3, f"two receivers x two attempts x 0.3 s (+ waits) took {took:.1f}s"


def test_nothing_listening_is_retried_and_recorded(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connection refused
    (tmp_path / "token").write_text("t0ken-t0ken")
    slack, _ = Notifier(make_env(None, port=port, token_file=tmp_path / "token")).send("start", WINDOW, "x")
    assert not slack.ok and "ConnectError" in slack.detail and slack.attempts == 3


def test_a_webhook_url_from_the_environment_is_a_secret(receiver, monkeypatch, tmp_path):
    env = make_env(receiver, slack_url="env")
    missing, _ = Notifier(env).send("start", WINDOW, "x")
    assert not missing.ok and "no webhook URL: set $OPSPROOF_TEST_SLACK_URL" in missing.detail
    url = f"{receiver.url}/hooks/slack/T0/B0/s3cr3t-webhook-path"
    monkeypatch.setenv("OPSPROOF_TEST_SLACK_URL", url)
    journal = tmp_path / "n.jsonl"
    receiver.control(webhook_status=500)
    failed, _ = Notifier(env, journal=journal).send("start", WINDOW, "x")
    assert not failed.ok
    assert "s3cr3t" not in failed.detail and "s3cr3t" not in journal.read_text()
    assert "s3cr3t" not in secrets.redact(url)


def test_unknown_events_are_a_programming_error(receiver):
    with pytest.raises(ValueError, match="unknown event"):
        Notifier(make_env(receiver)).send("started", WINDOW, "x")


def test_the_sandbox_status_page_announces_the_next_two_windows(tmp_path):
    web.STATE = tmp_path
    added = web.seed_status_page(schedule.utc(2026, 1, 1))
    assert added == ["2026-01-11", "2026-01-25"]
    assert web.seed_status_page(schedule.utc(2026, 1, 1)) == []
    items = [statuspage.parse(i) for i in json.loads((tmp_path / "receivers" / "statuspage.json").read_text())]
    assert all(m.scheduled_for - m.created_at >= dt.timedelta(days=7) for m in items)
