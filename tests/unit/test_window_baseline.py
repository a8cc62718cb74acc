"""The baseline's comparison: each metric judged by its rule and tolerance; what a plan expects to change is not a
regression; a metric measured before but not after is."""

import pytest

from opsproof import baseline
from opsproof.baseline import Metric, Snapshot
from opsproof.config.window import Baseline

TOL = Baseline()


def snap(**values) -> Snapshot:
    rules = {"api.p95_ms": ("API p95 response time", "ms", "latency"), "db.cpu_pct": ("Database CPU", "%", "cpu"),
             "storage.used_gb": ("Storage usage", "GB", "storage"), "rows.jobs": ("Rows in jobs", "rows", "rows"),
             "cert.api": ("Certificate serial api", "", "identity")}
    s = Snapshot("2026-01-11T02:00:00+00:00", "test")
    for key, v in values.items():
        key = key.replace("__", ".")
        label, unit, rule = rules[key]
        if isinstance(v, Exception):
            s.metrics.append(Metric(key, label, None, unit, rule, error=str(v)))
        else:
            s.metrics.append(Metric(key, label, v, unit, rule))
    return s


def verdicts(before, after, expect=()):
    return {r.key: r.verdict for r in baseline.compare(before, after, TOL, list(expect)).rows}


@pytest.mark.parametrize("before, after, verdict", [
    (10.0, 40.0, "ok"),           # +300% but only +30 ms: under the 50 ms floor
    (10.0, 70.0, "regression"),   # +60 ms
    (400.0, 480.0, "ok"),         # +20% < 25%
    (400.0, 520.0, "regression"),  # +30%
    (400.0, 100.0, "ok"),         # faster is never a regression
])
def test_api_p95_needs_both_the_percentage_and_the_floor(before, after, verdict):
    assert verdicts(snap(api__p95_ms=before), snap(api__p95_ms=after))["api.p95_ms"] == verdict


def test_cpu_storage_and_rows_tolerances():
    before = snap(db__cpu_pct=30.0, storage__used_gb=500.0, rows__jobs=120_000)
    assert set(verdicts(before, snap(db__cpu_pct=49.0, storage__used_gb=549.0, rows__jobs=119_000)).values()) == {"ok"}
    bad = verdicts(before, snap(db__cpu_pct=51.0, storage__used_gb=551.0, rows__jobs=118_000))
    assert bad == {"db.cpu_pct": "regression", "storage.used_gb": "regression", "rows.jobs": "regression"}


def test_identities_that_change_are_shown_not_failed():
    assert verdicts(snap(cert__api="a1"), snap(cert__api="b2")) == {"cert.api": "changed"}
    assert verdicts(snap(cert__api="a1"), snap(cert__api="a1")) == {"cert.api": "ok"}


def test_what_the_plan_expects_to_change_is_not_a_regression():
    before, after = snap(rows__jobs=120_000, cert__api="a1"), snap(rows__jobs=96_000, cert__api="b2")
    assert verdicts(before, after, ["rows.*", "cert.*"]) == {"rows.jobs": "expected", "cert.api": "expected"}


def test_measured_before_but_not_after_is_a_regression_and_never_measured_is_na():
    c = baseline.compare(snap(rows__jobs=120_000, db__cpu_pct=ConnectionError("down")),
                         snap(rows__jobs=ConnectionError("database down"), db__cpu_pct=20.0), TOL)
    rows = {r.key: r for r in c.rows}
    assert rows["rows.jobs"].verdict == "regression" and "database down" in rows["rows.jobs"].reason
    assert rows["db.cpu_pct"].verdict == "n/a"
    assert [r.key for r in c.regressions] == ["rows.jobs"]


def test_regression_reasons_name_the_tolerance_key():
    [row] = baseline.compare(snap(api__p95_ms=10.0), snap(api__p95_ms=300.0), TOL).rows
    assert "window.baseline.api_p95_tolerance_pct" in row.reason and row.before == "10.0 ms" and row.after == "300.0 ms"


def test_p95_is_nearest_rank():
    assert baseline.p95(list(range(1, 101))) == 95
    assert baseline.p95([5.0] * 19 + [500.0]) == 5.0
    assert baseline.p95([5.0] * 18 + [500.0, 500.0]) == 500.0


def test_snapshots_round_trip(tmp_path):
    s = snap(api__p95_ms=12.5, rows__jobs=7, cert__api="ab", db__cpu_pct=RuntimeError("x"))
    s.save(tmp_path / "b.json")
    back = Snapshot.load(tmp_path / "b.json")
    assert back == s and [m.key for m in back.errors] == ["db.cpu_pct"]
