"""Write rds-postgres15-parameters.json: the parameters of an RDS ``postgres15`` family DB parameter group as
DescribeDBParameters reports them (ParameterName, ParameterValue, Description, Source, ApplyType, DataType,
AllowedValues, IsModifiable, MinimumEngineVersion, ApplyMethod).

    python -m sandbox.aws.data.make_rds_postgres15 "host=/tmp port=5432 user=postgres dbname=postgres"

ORIGIN (read before trusting a value). Nothing here was downloaded from AWS or copied from an AWS account:
* names, data types, ranges (AllowedValues), enum values, descriptions and ApplyType (static when the setting's
  context is postmaster) come from a real PostgreSQL 15 server's pg_settings (the sandbox's own);
* settings RDS does not expose (file locations, recovery, SSL key files, compile-time constants...) are left out;
* the RDS-only parameters (rds.*, and extension parameters RDS lists in postgres15 groups) and the values RDS's
  default group sets itself (Source "system": the {DBInstanceClassMemory...} formulas, LEAST/GREATEST, logging
  and WAL values) are written from the author's knowledge of RDS's postgres15 defaults as AWS documents and shows
  them. They are plausible, not authoritative: where a number matters to a check, the check's own proof says so.
Parameters RDS leaves at PostgreSQL's default have Source "engine-default" and no ParameterValue, as AWS answers.
"""

import json
import sys
from pathlib import Path

OUT = Path(__file__).with_name("rds-postgres15-parameters.json")
MIN_VERSION = "15.2"

LEFT_OUT = {
    "allow_system_table_mods", "archive_cleanup_command", "archive_command", "archive_library", "archive_mode",
    "bonjour", "bonjour_name", "cluster_name", "config_file", "data_directory", "data_directory_mode",
    "data_sync_retry", "dynamic_library_path", "dynamic_shared_memory_type", "event_source", "external_pid_file",
    "fsync", "full_page_writes", "hba_file", "hot_standby", "huge_page_size", "ident_file", "ignore_checksum_failure",
    "ignore_invalid_pages", "ignore_system_indexes", "jit_provider", "krb_caseins_users", "krb_server_keyfile",
    "lc_messages", "listen_addresses", "local_preload_libraries", "log_directory", "log_file_mode",
    "logging_collector", "port", "primary_conninfo", "primary_slot_name", "promote_trigger_file",
    "recovery_end_command", "recovery_init_sync_method", "recovery_prefetch", "recovery_target",
    "recovery_target_action", "recovery_target_inclusive", "recovery_target_lsn", "recovery_target_name",
    "recovery_target_time", "recovery_target_timeline", "recovery_target_xid", "restore_command",
    "shared_memory_type", "ssl_ca_file", "ssl_cert_file", "ssl_crl_dir", "ssl_crl_file", "ssl_dh_params_file",
    "ssl_key_file", "ssl_passphrase_command", "ssl_passphrase_command_supports_reload", "syslog_facility",
    "syslog_ident", "syslog_sequence_numbers", "syslog_split_messages", "trace_notify", "trace_recovery_messages",
    "trace_sort", "unix_socket_directories", "unix_socket_group", "unix_socket_permissions", "wal_level",
    "wal_log_hints", "wal_sync_method", "zero_damaged_pages", "debug_assertions", "debug_discard_caches",
}
"""PostgreSQL settings an RDS parameter group does not list (RDS manages them, or they are compile-time)."""

SYSTEM = {  # what RDS's default postgres15 group sets itself (Source "system")
    "shared_buffers": "{DBInstanceClassMemory/32768}",
    "effective_cache_size": "{DBInstanceClassMemory/16384}",
    "max_connections": "LEAST({DBInstanceClassMemory/9531392},5000)",
    "maintenance_work_mem": "GREATEST({DBInstanceClassMemory*1024/63963136},65536)",
    "autovacuum_max_workers": "GREATEST({DBInstanceClassMemory/64371566592},3)",
    "autovacuum_vacuum_cost_limit": "GREATEST({log(DBInstanceClassMemory/21474836480)*600},200)",
    "max_worker_processes": "GREATEST(${DBInstanceVCPU*2},8)",
    "max_parallel_workers": "GREATEST(${DBInstanceVCPU/2},8)",
    "autovacuum_naptime": "15",
    "autovacuum_analyze_scale_factor": "0.05",
    "autovacuum_vacuum_scale_factor": "0.1",
    "checkpoint_completion_target": "0.9",
    "max_wal_size": "2048",
    "min_wal_size": "192",
    "max_replication_slots": "20",
    "max_wal_senders": "20",
    "max_logical_replication_workers": "4",
    "wal_sender_timeout": "30000",
    "wal_receiver_timeout": "30000",
    "archive_timeout": "300",
    "log_rotation_age": "60",
    "log_rotation_size": "100000",
    "log_filename": "postgresql.log.%Y-%m-%d-%H",
    "log_line_prefix": "%t:%r:%u@%d:[%p]:",
    "log_timezone": "UTC",
    "log_autovacuum_min_duration": "10000",
    "log_checkpoints": "1",
    "track_io_timing": "1",
    "track_activity_query_size": "4096",
    "shared_preload_libraries": "pg_stat_statements",
    "password_encryption": "scram-sha-256",
    "ssl": "1",
    "ssl_min_protocol_version": "TLSv1.2",
    "huge_pages": "on",
    "hot_standby_feedback": "0",
}
NOT_MODIFIABLE = {"ssl", "rds.extensions", "lc_collate", "lc_ctype", "server_encoding"}

RDS_ONLY = [  # (name, value or None, data type, allowed values, apply type, description)
    ("rds.accepted_password_auth_method", "md5+scram", "string", "md5+scram,scram", "dynamic",
     "Force authentication for connections with password stored locally."),
    ("rds.adaptive_autovacuum", "1", "boolean", "0,1", "dynamic", "Tunes autovacuum parameters when transaction "
     "ID thresholds are exceeded."),
    ("rds.allowed_delegated_extensions", None, "list", None, "dynamic",
     "Extensions rds_superuser may delegate to non-superusers."),
    ("rds.allowed_extensions", "*", "list", None, "dynamic", "Extensions that may be created in the instance."),
    ("rds.custom_dns_resolution", "0", "boolean", "0,1", "static", "Use the VPC's DNS resolver."),
    ("rds.enable_pgactive", "0", "boolean", "0,1", "static", "Enable the pgactive extension."),
    ("rds.enable_plan_management", "0", "boolean", "0,1", "static", "Enable or disable query plan management."),
    ("rds.extensions", "address_standardizer, amcheck, aws_commons, aws_s3, bloom, btree_gin, btree_gist, citext, "
     "cube, dblink, earthdistance, fuzzystrmatch, hstore, intarray, isn, lo, ltree, pg_buffercache, pg_cron, "
     "pg_hint_plan, pg_partman, pg_prewarm, pg_repack, pg_stat_statements, pg_trgm, pg_visibility, pgaudit, "
     "pgcrypto, pglogical, pgrowlocks, pgstattuple, plpgsql, postgis, postgres_fdw, sslinfo, tablefunc, "
     "tsm_system_rows, unaccent, uuid-ossp", "list", None, "static", "List of extensions available to users."),
    ("rds.force_admin_logging_level", "disabled", "string", "disabled,debug5,debug4,debug3,debug2,debug1,info,"
     "notice,warning,error,log,fatal,panic", "dynamic", "Log actions by the RDS admin user in customer databases."),
    ("rds.force_autovacuum_logging_level", "warning", "string", "disabled,debug5,debug4,debug3,debug2,debug1,info,"
     "notice,warning,error,log,fatal,panic", "dynamic", "Log autovacuum worker operations."),
    ("rds.force_ssl", "0", "boolean", "0,1", "dynamic", "Force SSL connections."),
    ("rds.log_retention_period", "4320", "integer", "1440-10080", "dynamic",
     "Amazon RDS deletes PostgreSQL logs older than this many minutes."),
    ("rds.logical_replication", "0", "boolean", "0,1", "static", "Enables logical decoding."),
    ("rds.rds_superuser_reserved_connections", "2", "integer", "0-8388607", "static",
     "Connection slots reserved for rds_superusers."),
    ("rds.restrict_password_commands", "0", "boolean", "0,1", "static",
     "Restricts password-related commands to members of rds_password."),
    ("rds.enable_memory_management", "1", "boolean", "0,1", "dynamic",
     "Cancels queries that would exhaust the instance's memory."),
    ("pg_stat_statements.max", None, "integer", "100-2147483647", "static",
     "Sets the maximum number of statements tracked by pg_stat_statements."),
    ("pg_stat_statements.save", None, "boolean", "0,1", "dynamic",
     "Save pg_stat_statements statistics across server shutdowns."),
    ("pg_stat_statements.track", None, "string", "all,none,top", "dynamic",
     "Selects which statements are tracked by pg_stat_statements."),
    ("pg_stat_statements.track_planning", None, "boolean", "0,1", "dynamic",
     "Selects whether planning duration is tracked by pg_stat_statements."),
    ("pg_stat_statements.track_utility", None, "boolean", "0,1", "dynamic",
     "Selects whether utility commands are tracked by pg_stat_statements."),
    ("auto_explain.log_analyze", None, "boolean", "0,1", "dynamic", "Use EXPLAIN ANALYZE for plan logging."),
    ("auto_explain.log_buffers", None, "boolean", "0,1", "dynamic", "Log buffers usage."),
    ("auto_explain.log_format", None, "string", "text,xml,json,yaml", "dynamic", "EXPLAIN format to be used."),
    ("auto_explain.log_level", None, "string", "debug5,debug4,debug3,debug2,debug1,debug,info,notice,warning,log",
     "dynamic", "Log level for the plan."),
    ("auto_explain.log_min_duration", None, "integer", "-1-2147483647", "dynamic",
     "Sets the minimum execution time above which plans will be logged."),
    ("auto_explain.log_nested_statements", None, "boolean", "0,1", "dynamic", "Log nested statements."),
    ("auto_explain.log_parameter_max_length", None, "integer", "-1-1073741823", "dynamic",
     "Sets the maximum length of query parameters to log."),
    ("auto_explain.log_settings", None, "boolean", "0,1", "dynamic", "Log modified configuration parameters."),
    ("auto_explain.log_timing", None, "boolean", "0,1", "dynamic", "Collect timing data, not just row counts."),
    ("auto_explain.log_triggers", None, "boolean", "0,1", "dynamic", "Include trigger statistics in plans."),
    ("auto_explain.log_verbose", None, "boolean", "0,1", "dynamic", "Use EXPLAIN VERBOSE for plan logging."),
    ("auto_explain.log_wal", None, "boolean", "0,1", "dynamic", "Log WAL usage."),
    ("auto_explain.sample_rate", None, "real", "0-1", "dynamic", "Fraction of queries to process."),
    ("pgaudit.log", None, "list", "ddl,function,misc,read,role,write,none,all,-ddl,-function,-misc,-read,-role,"
     "-write", "dynamic", "Specifies which classes of statements will be logged by session audit logging."),
    ("pgaudit.log_catalog", None, "boolean", "0,1", "dynamic",
     "Specifies that session logging should be enabled in the case where all relations are in pg_catalog."),
    ("pgaudit.log_level", None, "string", "debug5,debug4,debug3,debug2,debug1,info,notice,warning,log", "dynamic",
     "Specifies the log level that will be used for log entries."),
    ("pgaudit.log_parameter", None, "boolean", "0,1", "dynamic",
     "Specifies that audit logging should include the parameters that were passed with the statement."),
    ("pgaudit.log_relation", None, "boolean", "0,1", "dynamic",
     "Specifies whether session audit logging should create a separate log entry for each relation."),
    ("pgaudit.log_statement_once", None, "boolean", "0,1", "dynamic",
     "Specifies whether logging will include the statement text and parameters once or with every entry."),
    ("pgaudit.role", None, "string", None, "dynamic", "Specifies the master role to use for object audit logging."),
    ("pg_hint_plan.enable_hint", None, "boolean", "0,1", "dynamic", "Force planner to use plans specified in the "
     "hint comment preceding to the query."),
    ("pg_hint_plan.enable_hint_table", None, "boolean", "0,1", "dynamic", "Force planner to not get hint by using "
     "table lookups."),
    ("pg_hint_plan.debug_print", None, "string", "off,on,detailed,verbose,0,1,2,3,no,yes,false,true", "dynamic",
     "Logs results of hint parsing."),
    ("pg_hint_plan.message_level", None, "string", "debug5,debug4,debug3,debug2,debug1,log,info,notice,warning,"
     "error", "dynamic", "Message level of debug messages."),
    ("pg_hint_plan.parse_messages", None, "string", "debug5,debug4,debug3,debug2,debug1,log,info,notice,warning,"
     "error", "dynamic", "Message level of parse errors."),
    ("pg_prewarm.autoprewarm", None, "boolean", "0,1", "static", "Starts the autoprewarm worker."),
    ("pg_prewarm.autoprewarm_interval", None, "integer", "0-2147483", "dynamic",
     "Sets the interval between dumps of shared buffers."),
    ("pglogical.batch_inserts", None, "boolean", "0,1", "dynamic", "Tells PGLogical to use batch insert mechanism "
     "if possible."),
    ("pglogical.conflict_log_level", None, "string", "debug5,debug4,debug3,debug2,debug1,info,notice,warning,error,"
     "log,fatal,panic", "dynamic", "Sets log level used for logging resolved conflicts."),
    ("pglogical.conflict_resolution", None, "string", "error,apply_remote,keep_local,last_update_wins,"
     "first_update_wins", "dynamic", "Sets method used for conflict resolution for resolvable conflicts."),
    ("pglogical.use_spi", None, "boolean", "0,1", "dynamic", "Use SPI instead of low-level API for applying "
     "changes."),
    ("pg_transport.num_workers", None, "integer", "1-32", "dynamic", "Number of workers used for transport."),
    ("pg_transport.timing", None, "boolean", "0,1", "dynamic", "Report timing information during transport."),
    ("pg_transport.work_mem", None, "integer", "65536-2147483647", "dynamic", "Memory per transport worker (kB)."),
    ("pg_cron.database_name", None, "string", None, "static", "Database in which pg_cron metadata is kept."),
    ("pg_cron.max_running_jobs", None, "integer", "0-5000", "static", "Maximum number of jobs that can run "
     "concurrently."),
    ("pg_partman_bgw.interval", None, "integer", "1-2147483647", "dynamic",
     "How often run_maintenance() is called (seconds)."),
    ("pg_partman_bgw.dbname", None, "string", None, "dynamic", "Databases run_maintenance() is run on."),
    ("pg_partman_bgw.role", None, "string", None, "dynamic", "The role run_maintenance() runs as."),
]


def rows(dsn: str) -> list[dict]:
    import psycopg

    with psycopg.connect(dsn) as c:
        settings = c.execute("SELECT name, vartype, min_val, max_val, enumvals, context, short_desc FROM pg_settings "
                             "WHERE context <> 'internal' ORDER BY name").fetchall()
    out = []
    for name, vartype, lo, hi, enums, context, desc in settings:
        if name in LEFT_OUT:
            continue
        kind, allowed = {"bool": ("boolean", "0,1"), "integer": ("integer", f"{lo}-{hi}"),
                         "real": ("real", f"{lo}-{hi}"), "enum": ("string", ",".join(enums or [])),
                         "string": ("string", None)}[vartype]
        if name in ("shared_preload_libraries", "session_preload_libraries", "search_path",
                    "temp_tablespaces", "default_text_search_config"):
            kind = "list"
            allowed = "auto_explain,orafce,pgaudit,pglogical,pg_bigm,pg_cron,pg_hint_plan,pg_prewarm,pg_similarity," \
                      "pg_stat_statements,pg_tle,pg_transport,plprofiler" if "preload" in name else None
        static = context == "postmaster"
        out.append(_row(name, SYSTEM.get(name), desc, kind, allowed, static))
    for name, value, kind, allowed, apply_type, desc in RDS_ONLY:
        out.append(_row(name, value, desc, kind, allowed, apply_type == "static"))
    return sorted(out, key=lambda r: r["ParameterName"])


def _row(name, value, desc, kind, allowed, static) -> dict:
    r = {"ParameterName": name}
    if value is not None:
        r["ParameterValue"] = value
    r.update(Description=desc, Source="system" if value is not None else "engine-default",
             ApplyType="static" if static else "dynamic", DataType=kind)
    if allowed:
        r["AllowedValues"] = allowed
    r.update(IsModifiable=name not in NOT_MODIFIABLE, MinimumEngineVersion=MIN_VERSION,
             ApplyMethod="pending-reboot" if static else "immediate")
    return r


if __name__ == "__main__":
    params = rows(sys.argv[1])
    OUT.write_text(json.dumps({"family": "postgres15", "origin": __doc__.split("ORIGIN", 1)[1].strip(),
                               "parameters": params}, indent=1) + "\n")
    print(f"{OUT}: {len(params)} parameters")
