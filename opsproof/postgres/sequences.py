"""Sequences and the integer keys they feed: how much of the range is used, counted to whichever ends first.

A sequence stops at its own maximum (nextval fails), but the column it feeds may end sooner: a database that began
before PostgreSQL 10 has `serial` int4 columns fed by bigint sequences (every sequence was bigint then, and
pg_upgrade keeps them), so the int4 key overflows at 2,147,483,647 while the sequence shows 0.00000002% used.
pghero counts to the column's maximum for integer columns; check_postgres's `sequence` action considers the column
type only on servers before 10 (on 10+ it reads pg_sequences alone). Here every sequence is paired with each column
it feeds, found in the catalog rather than by parsing defaults: serial and identity columns (pg_depend 'a' / 'i'
from the sequence to the column) and any DEFAULT nextval(...) (the pg_attrdef entry depends on the sequence).

    >>> [str(s) for s in sequences(conn) if s.used_percent > 75]
    ['public.job_events_id_seq (bigint) feeds public.job_events.id (integer): 93.1% used, last_value 2000000000 of
      2147483647 (the column ends first)']

Reads catalogs and each sequence's last value (pg_sequence_last_value, no table scan).
"""

from dataclasses import dataclass

import psycopg


TYPE_RANGE = {"smallint": (-32768, 32767), "integer": (-2147483648, 2147483647),
              "bigint": (-9223372036854775808, 9223372036854775807)}

SQL = """
WITH seqs AS (
  SELECT s.seqrelid AS oid, format('%I.%I', n.nspname, c.relname) AS name, format_type(s.seqtypid, NULL) AS type,
         s.seqmin, s.seqmax, s.seqincrement, s.seqcycle,
         has_sequence_privilege(c.oid, 'SELECT,USAGE') AS readable
  FROM pg_sequence s
  JOIN pg_class c ON c.oid = s.seqrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE NOT pg_is_other_temp_schema(n.oid)
),
feeds AS (  -- serial / identity: the sequence depends on the column
  SELECT d.objid AS seq, d.refobjid AS rel, d.refobjsubid AS attnum
  FROM pg_depend d
  WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    AND d.refobjsubid > 0
  UNION  -- DEFAULT nextval('seq'): the column's default depends on the sequence
  SELECT d.refobjid, ad.adrelid, ad.adnum
  FROM pg_depend d JOIN pg_attrdef ad ON ad.oid = d.objid
  JOIN pg_class pr ON pr.oid = ad.adrelid AND NOT pr.relispartition  -- a partition repeats its parent's default
  WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
)
SELECT seqs.name, seqs.type, seqs.seqmin, seqs.seqmax, seqs.seqincrement, seqs.seqcycle, seqs.readable,
       CASE WHEN seqs.readable THEN pg_sequence_last_value(seqs.oid) END,
       CASE WHEN a.attname IS NOT NULL THEN format('%I.%I.%I', rn.nspname, r.relname, a.attname) END,
       format_type(a.atttypid, NULL)
FROM seqs
LEFT JOIN feeds f ON f.seq = seqs.oid
LEFT JOIN pg_class r ON r.oid = f.rel
LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = f.rel AND a.attnum = f.attnum AND NOT a.attisdropped
ORDER BY 1, 9
"""


@dataclass(frozen=True)
class Sequence:
    name: str
    type: str
    min_value: int
    max_value: int
    increment: int
    cycle: bool
    readable: bool
    """This role may read its last value (pg_read_all_data, or SELECT/USAGE on it)."""
    last_value: int | None
    """None: never called yet (or not readable)."""
    column: str | None
    """schema.table.column it feeds (one row per column; None when it feeds none)."""
    column_type: str | None

    @property
    def end(self) -> int:
        """The value nextval cannot pass: the sequence's own bound or the column's type range, whichever is nearer."""
        lo, hi = TYPE_RANGE.get(self.column_type or "", (self.min_value, self.max_value))
        return min(self.max_value, hi) if self.increment > 0 else max(self.min_value, lo)

    @property
    def start(self) -> int:
        return self.min_value if self.increment > 0 else self.max_value

    @property
    def column_ends_first(self) -> bool:
        return self.end != (self.max_value if self.increment > 0 else self.min_value)

    @property
    def used_percent(self) -> float:
        """Share of the values from its start to `end` already handed out (0 when never called)."""
        if self.last_value is None:
            return 0.0
        span = abs(self.end - self.start) + 1
        return round(100.0 * (abs(self.last_value - self.start) + 1) / span, 4)

    @property
    def subject(self) -> str:
        """The sequence and the column it feeds, with their types."""
        return self.name + f" ({self.type})" + (f" feeds {self.column} ({self.column_type})" if self.column else "")

    @property
    def usage(self) -> str:
        return f"{self.used_percent:.1f}% used, last_value {self.last_value} of {self.end}" + (
            " (the column ends first)" if self.column_ends_first else "") + (
            ", cycles: values repeat after it wraps" if self.cycle else "")

    def __str__(self) -> str:
        return f"{self.subject}: {self.usage}"


def sequences(conn: psycopg.Connection) -> list[Sequence]:
    """Every sequence of this database, once per column it feeds, by name."""
    return [Sequence(*r) for r in conn.execute(SQL).fetchall()]
