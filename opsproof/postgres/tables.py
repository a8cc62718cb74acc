"""Vacuum and analyze state of every table, each against its OWN autovacuum triggers, in one catalog query.

The runbook's `n_dead_tup > 1000` and `n_mod_since_analyze > 1000` treat a 1,000-row table and a 100-million-row
table alike. Autovacuum does not: it vacuums a table when dead tuples pass

    autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor × reltuples      (50 + 0.2 × reltuples by default)

and analyzes it when modifications pass autovacuum_analyze_threshold + autovacuum_analyze_scale_factor × reltuples
(50 + 0.1 × reltuples), each overridable per table (ALTER TABLE ... SET (autovacuum_vacuum_scale_factor = ...)).
A table past its own trigger is one autovacuum has not caught up with. reltuples = -1 (never vacuumed or analyzed)
counts as 0, as autovacuum counts it. The statistics reset on restore, failover and major upgrade: a table with pages
but no vacuum/analyze on record is reported, never silently skipped (check_postgres's last_vacuum skips it).

    >>> [t.name for t in tables(conn) if t.dead_tuples > t.vacuum_trigger]
    ['public.assets']

The rules over these facts (vacuum keeps up, statistics are current, the window reached every table) are in
opsproof/rules/database.py.

Reads only catalogs and statistics views: no user table is scanned.
"""

import datetime as dt
from dataclasses import dataclass

import psycopg

SQL = """
WITH s AS (
  SELECT current_setting('autovacuum')::bool AS autovacuum,
         current_setting('autovacuum_vacuum_threshold')::float8 AS vt,
         current_setting('autovacuum_vacuum_scale_factor')::float8 AS vs,
         current_setting('autovacuum_analyze_threshold')::float8 AS at,
         current_setting('autovacuum_analyze_scale_factor')::float8 AS as_,
         current_setting('block_size')::int AS bs
)
SELECT format('%I.%I', st.schemaname, st.relname) AS name,
       c.oid::int8 AS oid,
       greatest(c.reltuples, 0)::float8 AS reltuples,
       c.reltuples < 0 AS never_counted,
       c.relpages::int8 * s.bs AS size_bytes,
       st.n_live_tup, st.n_dead_tup, st.n_mod_since_analyze,
       st.last_vacuum, st.last_autovacuum, st.last_analyze, st.last_autoanalyze,
       s.autovacuum AND coalesce(o.enabled, true) AS autovacuum_enabled,
       coalesce(o.vt, s.vt) + coalesce(o.vs, s.vs) * greatest(c.reltuples, 0) AS vacuum_trigger,
       coalesce(o.at, s.at) + coalesce(o.as_, s.as_) * greatest(c.reltuples, 0) AS analyze_trigger,
       coalesce(o.vs, -1) AS own_vacuum_scale, coalesce(o.as_, -1) AS own_analyze_scale,
       running.relid IS NOT NULL AS vacuum_running
FROM pg_stat_user_tables st
JOIN pg_class c ON c.oid = st.relid
CROSS JOIN s
-- once, not per table: pg_stat_progress_vacuum is a function over every backend
LEFT JOIN (SELECT DISTINCT relid FROM pg_stat_progress_vacuum) running ON running.relid = c.oid
LEFT JOIN LATERAL (
  SELECT bool_or(v::bool) FILTER (WHERE k = 'autovacuum_enabled') AS enabled,
         max(v::float8) FILTER (WHERE k = 'autovacuum_vacuum_threshold') AS vt,
         max(v::float8) FILTER (WHERE k = 'autovacuum_vacuum_scale_factor') AS vs,
         max(v::float8) FILTER (WHERE k = 'autovacuum_analyze_threshold') AS at,
         max(v::float8) FILTER (WHERE k = 'autovacuum_analyze_scale_factor') AS as_
  FROM (SELECT split_part(opt, '=', 1) AS k, split_part(opt, '=', 2) AS v FROM unnest(c.reloptions) opt) kv
) o ON true
WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't'
ORDER BY c.relpages DESC, 1
"""


@dataclass(frozen=True)
class Table:
    name: str
    oid: int
    reltuples: float
    never_counted: bool
    """reltuples = -1: never vacuumed or analyzed since it was created (or its statistics were lost)."""
    size_bytes: int
    """relpages × block size: the size as of the last vacuum/analyze (no file is touched to get it)."""
    live_tuples: int
    dead_tuples: int
    mods_since_analyze: int
    last_vacuum: dt.datetime | None
    last_autovacuum: dt.datetime | None
    last_analyze: dt.datetime | None
    last_autoanalyze: dt.datetime | None
    autovacuum_enabled: bool
    vacuum_trigger: float
    analyze_trigger: float
    own_vacuum_scale: float
    """A per-table autovacuum_vacuum_scale_factor, or -1 when the server's applies."""
    own_analyze_scale: float
    vacuum_running: bool

    @property
    def vacuumed_at(self) -> dt.datetime | None:
        return max((t for t in (self.last_vacuum, self.last_autovacuum) if t), default=None)

    @property
    def analyzed_at(self) -> dt.datetime | None:
        return max((t for t in (self.last_analyze, self.last_autoanalyze) if t), default=None)

    @property
    def has_rows(self) -> bool:
        """Pages or tuples on record: an empty, never-touched table needs no vacuum."""
        return self.size_bytes > 0 or self.reltuples > 0 or self.live_tuples > 0 or self.dead_tuples > 0

    @property
    def statistics_fresh(self) -> bool:
        """Analyzed, and fewer modifications since than its own analyze trigger."""
        return self.analyzed_at is not None and self.mods_since_analyze <= self.analyze_trigger


def tables(conn: psycopg.Connection) -> list[Table]:
    """Every ordinary table and materialized view (largest first) with its vacuum/analyze state and triggers."""
    return [Table(*row) for row in conn.execute(SQL).fetchall()]
