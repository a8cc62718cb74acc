"""Index health from the catalog: broken leftovers of concurrent builds, duplicates, and sizes.

A failed REINDEX CONCURRENTLY leaves `<name>_ccnew` (invalid, yet maintained on every write); a failed swap leaves
`<name>_ccold`; a failed CREATE INDEX CONCURRENTLY leaves an invalid index under its own name. REINDEX TABLE
CONCURRENTLY then skips them with a WARNING and exits 0, and pg_amcheck skips invalid indexes, so only the catalog
tells: an index is healthy when it is valid, ready and live, and not named like a leftover.

    >>> [i.name for i in broken(conn)]
    ['public.idx_users_email_ccnew']
"""

from dataclasses import dataclass

import psycopg

BROKEN_SQL = """
SELECT format('%I.%I', n.nspname, ic.relname), format('%I.%I', n.nspname, tc.relname),
       i.indisvalid, i.indisready, i.indislive, pg_relation_size(i.indexrelid)
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class tc ON tc.oid = i.indrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE (NOT (i.indisvalid AND i.indisready AND i.indislive) OR ic.relname ~ '_cc(new|old)[0-9]*$')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1
"""

# Same table, same key columns/expressions, operator classes, collations, options and predicate: one of the two is
# pure write cost. A unique index and a plain one on the same key: the plain one is the redundant one.
DUPLICATES_SQL = """
WITH ix AS (
  SELECT i.indexrelid, i.indrelid, i.indisunique, i.indisprimary, ic.relname, n.nspname,
         i.indkey::text AS k, i.indclass::text AS cls, i.indcollation::text AS coll, i.indoption::text AS opt,
         coalesce(pg_get_expr(i.indexprs, i.indrelid), '') AS exprs,
         coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS pred, am.amname
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = ic.relnamespace
  JOIN pg_am am ON am.oid = ic.relam
  WHERE i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
)
SELECT format('%I.%I', a.nspname, a.relname) AS redundant, format('%I.%I', b.nspname, b.relname) AS kept,
       a.indrelid::regclass::text AS table_name, pg_relation_size(a.indexrelid) AS bytes
FROM ix a JOIN ix b
  ON a.indrelid = b.indrelid AND a.indexrelid <> b.indexrelid AND a.amname = b.amname AND a.k = b.k
 AND a.cls = b.cls AND a.coll = b.coll AND a.opt = b.opt AND a.exprs = b.exprs AND a.pred = b.pred
-- keep the stronger one (primary > unique > plain); between equals keep the older (lower oid)
WHERE (b.indisprimary, b.indisunique, -b.indexrelid::int8) > (a.indisprimary, a.indisunique, -a.indexrelid::int8)
  AND NOT a.indisprimary AND NOT (a.indisunique AND NOT b.indisunique)
ORDER BY 1
"""

# Ordered by relpages (on record, no file touched), then sized: pg_relation_size() of every index of a 2,000-table
# database is thousands of stat() calls the evidence does not need.
LARGEST_INDEXES_SQL = """
SELECT format('%%I.%%I', n.nspname, ic.relname), i.indrelid::regclass::text, pg_relation_size(i.indexrelid),
       coalesce(s.idx_scan, 0)
FROM (SELECT indexrelid, indrelid FROM pg_index ix JOIN pg_class c ON c.oid = ix.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
      ORDER BY c.relpages DESC LIMIT %s) i
JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid
ORDER BY 3 DESC
"""

LARGEST_TABLES_SQL = """
SELECT format('%%I.%%I', n.nspname, c.relname), pg_total_relation_size(c.oid), pg_relation_size(c.oid),
       pg_indexes_size(c.oid)
FROM (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname !~ '^pg_toast'
      ORDER BY c.relpages DESC LIMIT %s) t
JOIN pg_class c ON c.oid = t.oid JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY 2 DESC
"""


@dataclass(frozen=True)
class BrokenIndex:
    name: str
    table: str
    valid: bool
    ready: bool
    live: bool
    bytes: int

    @property
    def leftover(self) -> str:
        """What it is and what to do (the PostgreSQL manual's advice for REINDEX CONCURRENTLY failures)."""
        if self.name.rstrip("0123456789").endswith("_ccnew"):
            return "leftover of a failed REINDEX CONCURRENTLY: DROP it, then reindex again"
        if self.name.rstrip("0123456789").endswith("_ccold"):
            return "old copy from a REINDEX CONCURRENTLY whose swap succeeded: DROP it"
        return "invalid (failed CREATE INDEX CONCURRENTLY?): REINDEX INDEX CONCURRENTLY it or DROP and recreate"


@dataclass(frozen=True)
class DuplicateIndex:
    redundant: str
    kept: str
    table: str
    bytes: int


@dataclass(frozen=True)
class IndexSize:
    name: str
    table: str
    bytes: int
    scans: int


@dataclass(frozen=True)
class TableSize:
    name: str
    total_bytes: int
    table_bytes: int
    indexes_bytes: int


def broken(conn: psycopg.Connection) -> list[BrokenIndex]:
    """Indexes that are not (valid, ready and live), or are named like a concurrent build's leftover."""
    return [BrokenIndex(*r) for r in conn.execute(BROKEN_SQL).fetchall()]


def duplicates(conn: psycopg.Connection) -> list[DuplicateIndex]:
    return [DuplicateIndex(*r) for r in conn.execute(DUPLICATES_SQL).fetchall()]


def largest_indexes(conn: psycopg.Connection, n: int) -> list[IndexSize]:
    """The runbook's 'Check index sizes' query (pg_stat_user_indexes by size), top n."""
    return [IndexSize(*r) for r in conn.execute(LARGEST_INDEXES_SQL, (n,)).fetchall()]


def largest_tables(conn: psycopg.Connection, n: int) -> list[TableSize]:
    """The runbook's 'Find largest tables' query, top n (ordered by pages on record, then sized)."""
    return [TableSize(*r) for r in conn.execute(LARGEST_TABLES_SQL, (n,)).fetchall()]
