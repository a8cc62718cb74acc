"""The history store's schema, as numbered migrations: a store records the version it is at and a run applies the
ones after it, inside the same lock as its write (two runs never migrate at once). Append; never edit one that
shipped. Times are epoch seconds (one portable type for SQLite and PostgreSQL)."""

SERIAL = {"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT", "postgresql": "BIGSERIAL PRIMARY KEY"}

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "runs and their checks' results", [
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
            manifest TEXT)""",
        "CREATE INDEX runs_environment ON runs (environment, finished_at)",
        """CREATE TABLE results (
            run_id BIGINT NOT NULL REFERENCES runs (id),
            nodeid TEXT NOT NULL,
            area TEXT,
            outcome TEXT NOT NULL,
            duration_s DOUBLE PRECISION,
            evidence_digest TEXT,
            PRIMARY KEY (run_id, nodeid))""",
        "CREATE INDEX results_nodeid ON results (nodeid, run_id)",
    ]),
    (2, "key measured values (findings' numeric measurements) for trends", [
        """CREATE TABLE measurements (
            run_id BIGINT NOT NULL REFERENCES runs (id),
            nodeid TEXT NOT NULL,
            key TEXT NOT NULL,
            subject TEXT NOT NULL,
            value DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX measurements_key ON measurements (key, subject, run_id)",
    ]),
]

LATEST = MIGRATIONS[-1][0]


def statements(dialect: str, after: int) -> list[tuple[int, list[str]]]:
    """The migrations a store at version `after` still needs, in the dialect's SQL."""
    return [(v, [s.format(serial=SERIAL[dialect]) for s in sql]) for v, _, sql in MIGRATIONS if v > after]
