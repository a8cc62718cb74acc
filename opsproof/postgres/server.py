"""The server behind a connection: its version, whether it is a replica, the session's role and read-only state.

    >>> server(conn).major >= 12
    True
"""

from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class Server:
    version: str
    version_num: int
    in_recovery: bool
    user: str
    read_only: bool

    @property
    def major(self) -> int:
        return self.version_num // 10000


def server(conn: psycopg.Connection) -> Server:
    row = conn.execute(
        "select current_setting('server_version'), current_setting('server_version_num')::int, "
        "pg_is_in_recovery(), current_user, current_setting('transaction_read_only') = 'on'"
    ).fetchone()
    return Server(*row)
