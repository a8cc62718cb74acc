"""Self-managed PostgreSQL: the nightly pg_dump (custom format) is recent and complete ("Verify backup integrity").
pg_restore reads the dump; nothing is restored here (the logical drill does that: python -m actions
logical-restore-drill --apply)."""

import pytest

from opsproof.probes import backups

pytestmark = [pytest.mark.backups]


@pytest.mark.pre_maintenance
@pytest.mark.nightly
def test_logical_dump_is_readable(env, evidence):
    """The newest logical dump is younger than 26 hours, lists the data of every validated table, and reads to its
    end through pg_restore: a truncated or corrupt dump fails."""
    lg, d = env.backups.logical, env.backups.drill
    if not lg.dump:
        pytest.skip("backups.logical.dump is not set (no self-managed PostgreSQL dump to verify)")
    pattern = str(env.path(lg.dump))
    path = backups.newest_dump(pattern)
    assert path is not None, f"no dump matches {pattern} (backups.logical.dump)"
    age_h = (backups.now().timestamp() - path.stat().st_mtime) / 3600
    evidence.value("dump", str(path))
    evidence.value("size", path.stat().st_size, "bytes")
    evidence.value("age", round(age_h, 2), "h")
    assert age_h <= lg.max_age_h, (f"the newest dump {path} is {age_h:.1f} h old, more than "
                                   f"backups.logical.max_age_h = {lg.max_age_h:g}")
    try:
        toc = backups.dump_toc(path)
        evidence.value("archive created at", toc.created_at)
        evidence.value("table of contents entries", toc.entries)
        seconds = backups.read_whole_dump(path, lg.verify_timeout_s)
    except backups.DumpError as e:
        pytest.fail(f"the dump is not readable: {e} (python -m actions logical-restore-drill --apply would fail "
                    "too)", pytrace=False)
    evidence.value("read through pg_restore in", seconds, "s")
    want = {v.table if "." in v.table else f"public.{v.table}" for v in d.validations}
    missing = sorted(want - set(toc.data_tables))
    evidence.value("tables with data", len(toc.data_tables))
    assert not missing, f"{path} holds no data for {', '.join(missing)} (backups.drill.validations)"
