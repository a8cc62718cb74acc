"""The database's activity as rules over the PostgreSQL facts (opsproof/postgres/activity.py, horizon.py,
replication.py) and the [database] section: connections, long queries, idle transactions, transaction ID age,
what holds the xmin horizon back, and read replicas' lag."""

from ..config.database import Connections, Horizon, Replication, Wraparound, parse_size
from ..findings import Finding, alarm, ok
from ..postgres import pretty
from ..postgres.activity import ConnectionGroup, DatabaseAge, HorizonHolder, Session, Usage
from ..postgres.horizon import Prepared, Slot
from ..postgres.replication import Replica


# ---- connections and sessions ------------------------------------------------------------------------------------
def connections(u: Usage, groups: list[ConnectionGroup], c: Connections) -> list[Finding]:
    """Client connections stay at or below max_percent of max_connections; the largest groups are named."""
    what = f"{u.client_connections} client connections = {u.percent}% of max_connections {u.max_connections}"
    if u.percent <= c.max_percent:
        return [ok("connections", what, measured=u.percent, limit=c.max_percent)]
    largest = "; ".join(f"{g.connections} × {g.user}/{g.application} from {g.client or 'local'} ({g.state})"
                        for g in groups[:3])
    return [alarm("connections", f"{what} > {c.max_percent:g}%; largest: {largest}", measured=u.percent,
                  limit=c.max_percent, key="database.connections.max_percent",
                  fix="find what opened them (the largest groups above); a pooler, or max_connections reviewed with "
                      "python -m actions db-parameters")]


def long_queries(sessions: list[Session], c: Connections) -> list[Finding]:
    """No query has been running longer than long_query_s."""
    return _sessions(sessions, c.long_query_s, "database.connections.long_query_s", "queries",
                     lambda s: f"SELECT pg_cancel_backend({s.pid}) once its owner agrees")


def idle_in_transaction(sessions: list[Session], c: Connections) -> list[Finding]:
    """No session has been idle inside an open transaction longer than idle_in_transaction_s: it holds its locks
    and the xmin horizon."""
    return _sessions(sessions, c.idle_in_transaction_s, "database.connections.idle_in_transaction_s",
                     "idle-in-transaction sessions",
                     lambda s: f"SELECT pg_terminate_backend({s.pid}); set idle_in_transaction_session_timeout")


def _sessions(sessions: list[Session], limit: float, key: str, what: str, fix) -> list[Finding]:
    over = [s for s in sessions if s.seconds > limit]
    if not over:
        return [ok(what, f"none longer than {limit:g}s", limit=limit)]
    return [alarm(f"pid {s.pid} ({s.user}, {s.application})", f"{s.state} for {s.seconds:.0f}s > {limit:g}s: "
                  f"{s.query}", measured=s.seconds, limit=limit, key=key, fix=fix(s)) for s in over]


# ---- transaction ID wraparound and the xmin horizon ------------------------------------------------------------
def wraparound(ages: list[DatabaseAge], holders: list[HorizonHolder], w: Wraparound) -> list[Finding]:
    """Every database's transaction ID and multixact age stays below the limits; what holds the xmin horizon back
    is named, and what releases the oldest of it is the fix. Above xid_age_warn a database passes, saying so."""
    held = "; ".join(map(str, holders[:3])) or "nothing now"
    fix = holders[0].fix if holders and holders[0].fix else "VACUUM (FREEZE) the oldest tables"
    found = []
    for a in ages:
        if a.xid_age > w.xid_age_max or a.mxid_age > w.mxid_age_max:
            xid_over = a.xid_age > w.xid_age_max
            found.append(alarm(a.database, f"xid age {a.xid_age:,}" + (f" multixact age {a.mxid_age:,}"
                                                                        if a.mxid_age > w.mxid_age_max else "")
                               + f": transaction ID wraparound approaching; held back by: {held}",
                               measured=a.xid_age if xid_over else a.mxid_age,
                               limit=w.xid_age_max if xid_over else w.mxid_age_max,
                               key="database.wraparound." + ("xid_age_max" if xid_over else "mxid_age_max"), fix=fix))
        elif a.xid_age > w.xid_age_warn:
            found.append(ok(a.database, f"xid age {a.xid_age:,}: over xid_age_warn {w.xid_age_warn:,}, look at "
                            f"what holds it: {held}", measured=a.xid_age, limit=w.xid_age_max))
        else:
            found.append(ok(a.database, f"xid age {a.xid_age:,}", measured=a.xid_age, limit=w.xid_age_max))
    return found


def prepared(rows: list[Prepared], h: Horizon) -> list[Finding]:
    """No prepared transaction (two-phase commit) is older than prepared_xact_max_age_s: a forgotten one holds its
    locks and the xmin horizon until someone commits or rolls it back."""
    if not rows:
        return [ok("prepared transactions", "none")]
    limit = h.prepared_xact_max_age_s
    found = []
    for p in rows:
        subject, what = f"prepared transaction '{p.gid}'", (f"prepared {p.age_s:.0f}s ago by {p.owner} in "
                                                            f"{p.database}, xmin age {p.xid_age}")
        if p.age_s > limit:
            found.append(alarm(subject, f"{what}, older than {limit:g}s", measured=round(p.age_s, 1), limit=limit,
                               key="database.horizon.prepared_xact_max_age_s",
                               fix=f"ask its coordinator, then COMMIT PREPARED or ROLLBACK PREPARED '{p.gid}' (in "
                                   f"database {p.database})"))
        else:
            found.append(ok(subject, what, measured=round(p.age_s, 1), limit=limit))
    return found


def slots(rows: list[Slot], h: Horizon) -> list[Finding]:
    """Every replication slot is consumed (unless inactive_slots = "limits"), not lost, and under the retained-WAL
    and xmin-age limits; each named with the WAL it retains and the xmin age it holds."""
    if not rows:
        return [ok("replication slots", "none")]
    found = []
    for s in rows:
        why = []  # (reason, configuration key)
        if not s.active and h.inactive_slots == "fail":
            why.append(("nothing consumes it", "database.horizon.inactive_slots"))
        if s.wal_status == "lost":
            why.append(("its WAL is lost: the consumer cannot resume", None))
        if (s.retained_bytes or 0) > h.slot_max_retained_bytes:
            why.append((f"retained WAL over {pretty(h.slot_max_retained_bytes)}",
                        "database.horizon.slot_max_retained_wal"))
        if s.horizon_age > h.slot_max_xmin_age:
            why.append((f"xmin age over {h.slot_max_xmin_age}", "database.horizon.slot_max_xmin_age"))
        kind = s.type + (f" ({s.plugin}, {s.database})" if s.type == "logical" else "")
        state = f"{kind}, {'active' if s.active else 'inactive'}"
        holds = f"retains {pretty(s.retained_bytes)} of WAL, xmin age {s.horizon_age}"
        subject = f"replication slot '{s.name}'"
        if why:
            found.append(alarm(subject, f"{state}: {', '.join(w for w, _ in why)}; {holds}",
                               measured=s.retained_bytes, limit=h.slot_max_retained_bytes,
                               key=next((k for _, k in why if k), None),
                               fix=f"reconnect its consumer, or SELECT pg_drop_replication_slot('{s.name}')"))
        else:
            found.append(ok(subject, f"{state}; {holds}", measured=s.retained_bytes, limit=h.slot_max_retained_bytes))
    return found


# ---- read replicas -----------------------------------------------------------------------------------------------
def replicas(seen: dict[str, Replica], r: Replication) -> list[Finding]:
    """Every configured replica is connected, streaming, and has replayed the primary's WAL to within max_lag_bytes
    and max_lag_s (seconds counted only while WAL is outstanding: an idle primary is not a lagging replica)."""
    max_bytes = parse_size(r.max_lag_bytes)
    found = []
    for name in r.replicas:
        x = seen.get(name)
        if x is None:
            found.append(alarm(name, "not connected to the primary (pg_stat_replication)",
                               key="database.replication.replicas"))
        elif x.state != "streaming":
            found.append(alarm(name, f"state {x.state}, not streaming", measured=x.state, limit="streaming"))
        else:
            lag = f"{pretty(x.replay_bytes)} of WAL not replayed, replay lag {x.lag_s:.1f}s"
            if x.replay_bytes > max_bytes or x.lag_s > r.max_lag_s:
                over_bytes = x.replay_bytes > max_bytes
                found.append(alarm(name, f"{lag} (limits {r.max_lag_bytes}, {r.max_lag_s:g}s)",
                                   measured=x.replay_bytes if over_bytes else x.lag_s,
                                   limit=max_bytes if over_bytes else r.max_lag_s,
                                   key="database.replication." + ("max_lag_bytes" if over_bytes else "max_lag_s")))
            else:
                found.append(ok(name, f"streaming, {lag}", measured=x.replay_bytes, limit=max_bytes))
    return found
