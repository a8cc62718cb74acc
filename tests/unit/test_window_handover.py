"""The window runner's hand-over at its end (actions/window.py Runner.hand_over): the change-request report is
rendered again with the whole window, the completion email and the attachments go out as configured, and what
happened is in window.json; an undeliverable mail or a hand-over that breaks never stops the window."""

import json

from tests.unit.report_sample import record
from tests.unit.test_window_runner import make_plan, make_runner


def _with_post_evidence(r):
    """The fake post run leaves a record, as the real one does."""
    real = r.checks.run

    def run(name, *a, **kw):
        res = real(name, *a, **kw)
        if name == "post":
            (r.out / "post").mkdir(parents=True, exist_ok=True)
            (r.out / "post" / "evidence.json").write_text(json.dumps(record()))
        return res

    r.checks.run = run


def test_the_window_hands_over_its_evidence_at_its_end(tmp_path):
    plan = make_plan(tmp_path, [("a", "10m", False, None)])
    r, _ = make_runner(tmp_path, plan)
    _with_post_evidence(r)
    calls = []

    def hand_over(env, reports, crs, subject, body):
        calls.append((reports, crs, subject, body))
        return {"email": {"channel": "email", "event": "complete", "ok": False, "attempts": 1,
                          "detail": "no answer from smtp.example.com:587 within 10s", "at": "2026-01-05T14:10:00"},
                "attachments": [{"record": "CR-1", "file": "junit.xml", "ok": True, "detail": "82 bytes"}]}

    r.hand_over_fn = hand_over
    rec = r.run()
    assert rec["outcome"] == "completed", "an undeliverable mail does not make a deviation"
    (reports, crs, subject, body), = calls
    assert reports == r.out / "post" and crs == ["CR-1"]
    assert "CHG0030001" in subject and "checks FAILED" in subject and "Window: completed" in body
    html = (r.out / "post" / "change-request.html").read_text()
    assert "The window's steps" in html and 'href="../maintenance-log.md"' in html
    saved = json.loads((r.out / "window.json").read_text())
    assert saved["attachments"][0]["file"] == "junit.xml"
    assert saved["notifications"][-1]["channel"] == "email" and not saved["notifications"][-1]["ok"]
    assert "email" in (r.out / "maintenance-log.md").read_text()


def test_a_broken_hand_over_never_stops_the_window(tmp_path):
    plan = make_plan(tmp_path, [("a", "10m", False, None)])
    r, _ = make_runner(tmp_path, plan)

    def hand_over(*a):
        raise RuntimeError("the mail library exploded")

    r.hand_over_fn = hand_over
    said = []
    r.say = said.append
    rec = r.run()
    assert rec["outcome"] == "completed" and (r.out / "maintenance-log.md").is_file()
    assert any("hand-over failed (the evidence is in" in s for s in said)
