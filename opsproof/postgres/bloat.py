"""Table bloat: wasted bytes and percentage per table, estimated from the catalog and confirmed by reading the table.

Step 1, the estimate (no table read): from pg_stats' average widths and null fractions, how many pages reltuples
rows need at the table's fillfactor (the method of ioguix's pgsql-bloat-estimation); the rest of relpages is
bloat. It is only as good as the statistics, so it is TRUSTED only when the table's statistics are fresh (analyzed,
fewer modifications since than its own analyze trigger) and every column has statistics (a role without access to
pg_stats, or a never-analyzed column, would otherwise give silent junk; columns of type `name` are mis-sized, as
ioguix's is_na flags). Tables below a size floor are not judged at all; the floor is measured on the table's real
size (pg_relation_size, a stat of its files), not relpages, which stays 0 until the first VACUUM or ANALYZE: a table
filled and emptied by a bulk load with autovacuum off would otherwise never be looked at.

Step 2, confirmation: tables whose estimate reaches `confirm_from_percent`, and tables above the floor whose
estimate cannot be trusted, are measured with pgstattuple_approx (skips all-visible pages) or pgstattuple (reads
everything) when the extension is installed: wasted = dead tuples + free space beyond what the fillfactor leaves
free on purpose. Only this step reads tables: at most `confirm_max_tables` of them, largest first, all within one
time budget (each read's statement_timeout is what is left of it).

A table with no statistics in the catalog at all (never vacuumed nor analyzed: reltuples -1 on PostgreSQL 14+,
relpages 0 while its files hold data) has no estimate: it is read like any untrusted one (pgstattuple_approx reads
every page of a never-vacuumed table: none is all-visible, so its figure is exact), and when it cannot be read (no
pgstattuple, or past the budget) it is `blind`: the check fails on it rather than pass a table nobody can judge
(check_postgres's bloat action "requires that ANALYZE is run frequently" and skips such tables). A table whose
statistics VIEW was reset (a crash, a failover) keeps its catalog statistics: it is untrusted, not blind.

    >>> [(b.name, b.percent, b.basis) for b in assess(conn, min_bytes=1 << 20, confirm_from=20, ...)]
    [('public.assets', 50.3, 'pgstattuple_approx'), ('public.jobs', 2.1, 'estimate')]
"""

import time
from dataclasses import dataclass

import psycopg

ESTIMATE_SQL = """
WITH s AS (SELECT current_setting('block_size')::int AS bs),
t AS (
  SELECT c.oid, n.nspname, c.relname, c.relpages::int8 AS relpages, greatest(c.reltuples, 0)::float8 AS reltuples,
         c.reltuples < 0 OR c.relpages = 0 AS no_statistics,  -- above the size floor, so its files hold data
         coalesce((SELECT split_part(o, '=', 2)::int FROM unnest(c.reloptions) o WHERE o LIKE 'fillfactor=%%'),
                  100) AS fillfactor
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN s
  WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't'
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
    AND pg_relation_size(c.oid) >= %(min_bytes)s
),
cols AS (
  SELECT t.oid,
         sum((1 - coalesce(st.null_frac, 0)) * coalesce(st.avg_width, 0)) AS data_width,
         bool_or(coalesce(st.null_frac, 0) > 0) AS has_nulls,
         count(*) AS ncols,
         count(st.attname) AS ncols_with_stats,
         bool_or(a.atttypid = 'name'::regtype) AS has_name_column
  FROM t
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_stats st ON st.schemaname = t.nspname AND st.tablename = t.relname AND st.attname = a.attname
                       AND NOT st.inherited
  GROUP BY t.oid
),
est AS (
  SELECT t.*, cols.ncols, cols.ncols_with_stats, cols.has_name_column,
         -- tuple: header (23 bytes + null bitmap, MAXALIGNed) + data (MAXALIGNed) + 4-byte line pointer
         8 * ceil((23 + CASE WHEN cols.has_nulls THEN (cols.ncols + 7) / 8 ELSE 0 END) / 8.0)
           + 8 * ceil(coalesce(cols.data_width, 0) / 8.0) + 4 AS tuple_bytes
  FROM t JOIN cols ON cols.oid = t.oid
)
SELECT format('%%I.%%I', nspname, relname) AS name, oid::int8, pg_relation_size(oid) AS size_bytes, relpages,
       ceil(reltuples / ((s.bs - 24) * fillfactor / (tuple_bytes * 100.0)))::int8 AS expected_pages,
       fillfactor, ncols = ncols_with_stats AND NOT has_name_column AS estimable, no_statistics
FROM est CROSS JOIN s
ORDER BY 3 DESC
"""


@dataclass(frozen=True)
class Bloat:
    name: str
    size_bytes: int
    estimated_percent: float
    estimate_trusted: bool
    basis: str
    """How `percent` was measured: pgstattuple_approx | pgstattuple | estimate | unconfirmed (not trusted, not read)."""
    percent: float | None
    wasted_bytes: int | None
    note: str = ""
    no_statistics: bool = False
    """Never vacuumed nor analyzed (reltuples -1 / relpages 0): without a read nothing is known about it."""

    @property
    def blind(self) -> bool:
        """No statistics and not read: its bloat cannot be judged."""
        return self.no_statistics and self.percent is None


def pgstattuple_available(conn: psycopg.Connection) -> bool:
    """The extension is installed and this role may run it (pg_stat_scan_tables, part of pg_monitor)."""
    return bool(conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgstattuple') "
        "AND has_function_privilege('pgstattuple_approx(regclass)', 'execute')").fetchone()[0])


def estimates(conn: psycopg.Connection, min_bytes: int) -> list[dict]:
    """The catalog estimate for every table of at least min_bytes (its real size), largest first."""
    cur = conn.execute(ESTIMATE_SQL, {"min_bytes": min_bytes})
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def measure(conn: psycopg.Connection, oid: int, method: str, timeout_s: float) -> tuple[int, int]:
    """(table bytes, wasted bytes) read by pgstattuple[_approx]; wasted = dead tuples + free space beyond the
    fillfactor's share."""
    fn = "pgstattuple_approx" if method == "pgstattuple_approx" else "pgstattuple"
    free = "approx_free_space" if fn == "pgstattuple_approx" else "free_space"
    with conn.transaction():
        conn.execute(f"SET LOCAL statement_timeout = {int(timeout_s * 1000)}")
        row = conn.execute(
            f"SELECT s.table_len, s.dead_tuple_len, s.{free}, coalesce((SELECT split_part(o, '=', 2)::int "
            "FROM pg_class c, unnest(c.reloptions) o WHERE c.oid = %(oid)s AND o LIKE 'fillfactor=%%'), 100) "
            f"FROM {fn}(%(oid)s::oid::regclass) s", {"oid": oid}).fetchone()
    table_len, dead, free_space, fillfactor = row
    intended_free = table_len * (100 - fillfactor) / 100
    return int(table_len), int(dead + max(0.0, free_space - intended_free))


def assess(conn: psycopg.Connection, *, min_bytes: int, fresh: set[str], confirm_from: float, confirm_with: str,
           confirm_max_tables: int, confirm_timeout_s: float) -> list[Bloat]:
    """Every table above min_bytes with its bloat, confirmed where it matters (see the module's docstring).
    `fresh` names the tables whose statistics are current (opsproof/postgres/tables.py)."""
    rows = estimates(conn, min_bytes)
    can_read = confirm_with != "none" and pgstattuple_available(conn)
    budget = confirm_max_tables
    deadline = time.monotonic() + confirm_timeout_s  # one budget for every confirmation of the run
    out = []
    for r in rows:  # largest first: the confirmation budget goes to what matters most
        est_pct = round(100.0 * max(r["relpages"] - r["expected_pages"], 0) / r["relpages"], 1) if r["relpages"] \
            else 0.0
        never = r["no_statistics"]
        trusted = r["estimable"] and r["name"] in fresh and not never
        why_not = "" if trusted else ("never vacuumed nor analyzed" if never else "statistics not fresh"
                                      if r["name"] not in fresh else "columns without statistics")
        needs_reading = not trusted or est_pct >= confirm_from
        left = deadline - time.monotonic()
        if needs_reading and can_read and budget > 0 and left > 0.1:
            budget -= 1
            size, wasted = measure(conn, r["oid"], confirm_with, left)
            out.append(Bloat(r["name"], size, est_pct, trusted, confirm_with,
                             round(100.0 * wasted / size, 1) if size else 0.0, wasted, why_not, never))
        elif trusted:
            wasted = int(r["size_bytes"] * est_pct / 100)
            note = "over the confirmation limit" if needs_reading and can_read else ""
            out.append(Bloat(r["name"], r["size_bytes"], est_pct, True, "estimate", est_pct, wasted, note))
        else:
            note = why_not + ("; over the confirmation limit" if can_read else "; pgstattuple not available")
            out.append(Bloat(r["name"], r["size_bytes"], est_pct, False, "unconfirmed", None, None, note, never))
    return out
