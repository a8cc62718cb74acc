"""Self-managed PostgreSQL: the nightly pg_dump (custom format) is recent and complete ("Verify backup integrity").
pg_restore reads the dump; nothing is restored here (the logical drill does that: python -m actions
logical-restore-drill --apply)."""

import pytest

from opsproof import findings
from opsproof.probes import backups
from opsproof.rules import backups as rules

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
    dump = backups.read_dump(path, lg.verify_timeout_s) if path else None
    if dump:
        evidence.table("dump", [{"dump": dump.path, "size_bytes": dump.size_bytes, "age_h": round(dump.age_h, 2),
                                 "read through pg_restore in s": dump.read_s, "error": dump.error}])
    if dump and dump.toc:
        evidence.value("archive created at", dump.toc.created_at)
        evidence.value("table of contents entries", dump.toc.entries)
        evidence.value("tables with data", len(dump.toc.data_tables))
    findings.expect_no_alarm(rules.logical_dump(pattern, dump, lg, d), evidence)
