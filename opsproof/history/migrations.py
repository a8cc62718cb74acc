"""The history store's schema, as numbered migrations: a store records the version it is at and a run applies the
ones after it, inside the same lock as its write (two runs never migrate at once). Append; never edit one that
shipped. Times are epoch seconds (one portable type for SQLite and PostgreSQL); a check's and a series' names are
stored once and referenced, and manifests are kept zlib-compressed (a quarter of their size): ~14 kB per run of 90
checks (bench/integrity.py)."""

TYPES = {"sqlite": {"serial": "INTEGER PRIMARY KEY AUTOINCREMENT", "blob": "BLOB", "rowid": " WITHOUT ROWID"},
         "postgresql": {"serial": "BIGSERIAL PRIMARY KEY", "blob": "BYTEA", "rowid": ""}}

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "runs, the checks they ran, and each check's result", [
        """CREATE TABLE runs (
            id {serial},
            environment TEXT NOT NULL,
            account TEXT,
            change_request TEXT,
            commit_sha TEXT,
            markexpr TEXT,
            started_at DOUBLE PRECISION NOT NULL,
            finished_at DOUBLE PRECISION NOT NULL,
            exitstatus INTEGER NOT NULL,
            folder TEXT,
            manifest_digest TEXT UNIQUE,
            previous_digest TEXT,
            manifest {blob})""",
        "CREATE INDEX runs_environment ON runs (environment, finished_at)",
        "CREATE TABLE checks (id {serial}, nodeid TEXT NOT NULL UNIQUE, area TEXT)",
        """CREATE TABLE results (
            run_id BIGINT NOT NULL REFERENCES runs (id),
            check_id BIGINT NOT NULL REFERENCES checks (id),
            outcome TEXT NOT NULL,
            duration_s REAL,
            evidence_digest TEXT,
            PRIMARY KEY (run_id, check_id)){rowid}""",
    ]),
    (2, "key measured values (findings' numeric measurements) for trends", [
        """CREATE TABLE series (id {serial}, key TEXT NOT NULL, subject TEXT NOT NULL,
            nodeid TEXT NOT NULL, UNIQUE (key, subject, nodeid))""",
        """CREATE TABLE measurements (
            run_id BIGINT NOT NULL REFERENCES runs (id),
            series_id BIGINT NOT NULL REFERENCES series (id),
            value DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (run_id, series_id)){rowid}""",
    ]),
]

LATEST = MIGRATIONS[-1][0]


def statements(dialect: str, after: int) -> list[tuple[int, list[str]]]:
    """The migrations a store at version `after` still needs, in the dialect's SQL."""
    return [(v, [s.format(**TYPES[dialect]) for s in sql]) for v, _, sql in MIGRATIONS if v > after]
