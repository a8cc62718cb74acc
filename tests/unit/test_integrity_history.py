"""The run history: the store in SQLite and in the sandbox's PostgreSQL (migrations, runs, the chain), what the
summaries say on hand-built rows, and two real processes appending at once."""

import datetime as dt
import os
import subprocess
import sys

import pytest

from opsproof import history, integrity
from opsproof.config import ROOT
from opsproof.history import migrations
from opsproof.history.store import Row

from .integrity_runs import check, environment, record, seal_run

DAY = 86400.0
NOW = 1_800_000_000.0


@pytest.fixture(params=["sqlite", "postgresql"])
def store_at(request, tmp_path):
    """A fresh store's location: a SQLite file, or a database of its own in the sandbox's PostgreSQL."""
    if request.param == "sqlite":
        yield str(tmp_path / "history.sqlite")
        return
    sb = request.getfixturevalue("sandbox")
    name = f"opsproof_history_{os.getpid()}"
    with sb.admin("postgres") as c:
        c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {name}")
    yield f"postgresql://postgres@/{name}?host={sb.run_dir}&port={sb.ports.postgres}"
    with sb.admin("postgres") as c:
        c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_runs_go_into_the_store_and_come_back(store_at, tmp_path):
    env = environment(store_at)
    t0 = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    seal_run(env, tmp_path / "1", record([check("test_a"), check("test_b", "failed", measured=5000,
                                                                  key="database.vacuum.dead_tuples")], t0))
    seal_run(env, tmp_path / "2", record([check("test_a"), check("test_b", measured=900,
                                                                  key="database.vacuum.dead_tuples")]))
    with history.open_store(store_at) as store:
        assert store.version() == migrations.LATEST and store.count_runs() == 2
        rows = store.rows("sandbox", t0.timestamp() - 10)
        assert [(r.nodeid.split("::")[1], r.outcome) for r in rows] == \
            [("test_a", "passed"), ("test_b", "failed"), ("test_a", "passed"), ("test_b", "passed")]
        assert rows[1].measurements == [("database.vacuum.dead_tuples", "t", 5000.0), ("test_b:n", "test_b", 1.0)]
        assert rows[0].area == "database"
        assert store.last_success("sandbox", "nightly") == pytest.approx(rows[-1].finished_at)
        assert store.last_success("sandbox", "pre_maintenance") is None
        assert store.chain_forks("sandbox") == []


def test_an_older_store_is_migrated_in_place(tmp_path):
    path = tmp_path / "history.sqlite"
    with history.open_store(path) as store:  # a store as version 1 left it
        store.execute("CREATE TABLE opsproof_schema (version INTEGER NOT NULL, applied_at DOUBLE PRECISION)")
        for s in migrations.statements("sqlite", 0)[0][1]:
            store.execute(s)
        store.execute("INSERT INTO opsproof_schema VALUES (1, 0)")
        store.execute("INSERT INTO runs (environment, started_at, finished_at, exitstatus) "
                      "VALUES ('sandbox', 1, 2, 0)")
        assert store.version() == 1
    env = environment(path)
    seal_run(env, tmp_path / "run", record([check("test_a", measured=3, key="k")]))
    with history.open_store(path) as store:
        assert store.version() == migrations.LATEST == 2
        assert store.count_runs() == 2
        assert store.query("SELECT count(*) FROM measurements") == [(2,)]  # the finding's and the evidence value


def _rows(outcomes: str, evidence: str | None = None, start: float = NOW - 9 * DAY, step: float = DAY,
          nodeid: str = "checks/x/test_x.py::test_x") -> list[Row]:
    """One Row per letter: p passed, f failed, w waived, s skipped; evidence: one letter per run (same letter, same
    evidence)."""
    kinds = {"p": "passed", "f": "failed", "w": "waived", "s": "skipped"}
    return [Row(i, start + i * step, nodeid, "x", kinds[o], (evidence or "abcdefghijklmnopqrstuvwxyz")[i])
            for i, o in enumerate(outcomes)]


def test_pass_rate_per_window_ignores_skips():
    old = _rows("ffff", start=NOW - 80 * DAY)
    recent = [Row(10 + r.run_id, r.finished_at, r.nodeid, r.area, r.outcome, r.evidence_digest)
              for r in _rows("ppps", start=NOW - 5 * DAY)]
    s = history.summarize(old + recent, NOW, [30, 90], 90, [])
    (c,) = s.checks
    assert c.pass_rate == {30: 1.0, 90: 3 / 7}


def test_a_flip_with_the_same_evidence_is_flaky_and_one_with_new_evidence_is_not():
    flaky = history.summarize(_rows("pfpf", evidence="aaaa"), NOW, [30], 90, [])
    assert flaky.flaky and flaky.flaky[0].flips_same_evidence == 3
    honest = history.summarize(_rows("pfpf", evidence="abcd"), NOW, [30], 90, [])
    assert not honest.flaky


def test_a_check_never_red_in_90_days_is_named():
    s = history.summarize(_rows("pppp", nodeid="a::never") + _rows("pfpp", nodeid="b::sometimes") +
                          _rows("ssss", nodeid="c::only-skipped"), NOW, [30], 90, [])
    assert [c.nodeid for c in s.never_red] == ["a::never"]
    assert "never red in 90 days (4 runs): a::never" in history.lines(s)


def test_time_from_first_red_to_green():
    s = history.summarize(_rows("pffpfffp", step=3600), NOW, [30], 90, [])
    (c,) = s.checks
    assert c.red_spells_s == [2 * 3600, 3 * 3600] and c.red_since is None
    still = history.summarize(_rows("pff"), NOW, [30], 90, []).checks[0]
    assert still.red_since == NOW - 9 * DAY + DAY
    assert "red to green" in " ".join(history.lines(s))


def test_trends_of_key_measured_values_are_charted():
    rows = _rows("pppp")
    for i, r in enumerate(rows):
        r.measurements += [("certificates.warn_days", "api.example.com", 40.0 - i), ("other.key", "x", 1.0)]
    s = history.summarize(rows, NOW, [30], 90, ["*days*"])
    assert list(s.trends) == [("certificates.warn_days", "api.example.com")]
    assert [v for _, v in s.trends[("certificates.warn_days", "api.example.com")]] == [40, 39, 38, 37]
    html = history.fragment(s, max_charts=1)
    assert "data:image/png;base64," in html and "<h3>History</h3>" in html
    assert "data:image/png" not in history.fragment(s, max_charts=0)


# ---- two runs at once ------------------------------------------------------------------------------------------
APPENDER = """
import sys, datetime as dt
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.unit.integrity_runs import check, environment, record, seal_run
env = environment({store!r})
for i in range({n}):
    seal_run(env, Path({folder!r}) / f"run-{{i}}", record([check("test_a"), check("test_b", "failed")]))
"""


def test_two_processes_appending_at_once_never_fork_the_chain(store_at, tmp_path):
    n = 12
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER.format(root=str(ROOT), store=store_at, n=n,
                                                                      folder=str(tmp_path / f"p{k}"))],
                              cwd=ROOT, env=os.environ.copy(), stderr=subprocess.PIPE, text=True)
             for k in range(2)]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    with history.open_store(store_at) as store:
        assert store.count_runs() == 2 * n
        assert store.chain_forks("sandbox") == []
        digests = store.query("SELECT manifest_digest, previous_digest FROM runs ORDER BY id")
        (last,), = store.query("SELECT folder FROM runs ORDER BY id DESC LIMIT 1")
    assert digests[0][1] is None and all(prev == d for (d, _), (_, prev) in zip(digests, digests[1:]))
    env = environment(store_at)
    v = integrity.verify(last, env)
    assert v.ok and any(f"{2 * n - 1} link(s) back verified" in note for note in v.notes), (v.problems, v.notes)


def test_the_same_evidence_ignores_the_findings_verdict_but_not_the_measured_value():
    def ev(status, measured):
        return [{"kind": "table", "title": "findings", "payload": [
            {"status": status, "subject": "t", "reason": f"{status}!", "measured": measured, "limit": 10}]}]

    red, green = check("test_a", "failed", evidence=ev("alarm", 5)), check("test_a", evidence=ev("ok", 5))
    assert integrity.evidence_digest(red) == integrity.evidence_digest(green)
    assert integrity.evidence_digest(check("test_a", evidence=ev("ok", 6))) != integrity.evidence_digest(green)


def test_the_command_line_shows_the_history(tmp_path, capsys, monkeypatch):
    from opsproof.__main__ import main

    store = tmp_path / "history.sqlite"
    env = environment(store)
    for outcome in ("passed", "failed", "passed"):
        seal_run(env, tmp_path / outcome, record([check("test_a", outcome)]))
    assert main(["history", "--history", str(store)]) == 0
    text = capsys.readouterr().out
    assert "3 run(s)" in text and "67 %" in text and "red to green: checks/database/test_x.py::test_a" in text
    assert main(["history", "--history", str(store), "--json"]) == 0
    assert '"runs": 3' in capsys.readouterr().out
    assert main(["alarm", "--gate", "nightly"]) == 0 and "LessThanThreshold" in capsys.readouterr().out
    assert main(["keygen", str(tmp_path / "k.pem"), str(tmp_path / "k.pub")]) == 0
    assert (tmp_path / "k.pem").stat().st_mode & 0o077 == 0
