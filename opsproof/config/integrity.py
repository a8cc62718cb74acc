"""The run's integrity and memory (issue 15): the evidence folder's signed manifest and its hash chain, the run
history store, and the metrics for dashboards and alarms. [integrity] is also an AWS section: CloudWatch's
PutMetricData goes to its region with its credentials (a monitoring account's role, say)."""

from pydantic import Field, PositiveFloat, PositiveInt, field_validator

from .target import AwsTarget


class Integrity(AwsTarget):
    history: str = "reports/history.sqlite"
    """The run history: a SQLite file (relative to the project, or "{sandbox}/...") or a PostgreSQL URL
    (postgresql://user@host:5432/db; the password from PGPASSWORD or ~/.pgpass, never from this file)."""
    signing_key: str | None = None
    """An Ed25519 private key (PEM, PKCS#8) that signs each manifest; a path like history's. Unset: the
    environment variable named by signing_key_env; neither: manifests are written unsigned and say so."""
    signing_key_env: str = "OPSPROOF_SIGNING_KEY"
    """The environment variable that may hold the signing key's PEM text (a CI secret)."""
    public_key: str | None = None
    """The Ed25519 public key (PEM) `python -m opsproof verify` checks signatures with, where the private key is
    not at hand (an auditor's machine). Default: derived from the signing key."""
    require_signature: bool = False
    """verify fails an unsigned manifest (set it where a key is configured, so dropping the signature is caught)."""
    lock_timeout_s: PositiveFloat = 60.0
    """How long a run waits for another run's history transaction (two nightly jobs, a window and a nightly)."""
    metrics_file: str | None = None
    """The Prometheus text file for node_exporter's textfile collector (e.g.
    /var/lib/node_exporter/textfile_collector/opsproof-{gate}.prom; {gate} is the run's -m expression or "all").
    Default: metrics.prom in the evidence folder."""
    cloudwatch: bool = False
    """Opt-in: publish the run's metrics with CloudWatch PutMetricData (this section's region and credentials)."""
    cloudwatch_namespace: str = "Opsproof"
    pass_rate_days: list[PositiveInt] = Field(default_factory=lambda: [30, 90])
    """The windows (days) of each check's pass rate in the history report."""
    never_red_days: PositiveInt = 90
    """A check that ran in this many days and was never red is listed: can it fail?"""
    trends: list[str] = Field(default_factory=lambda: ["*dead_tup*", "*days_left*", "*lag*"])
    """Findings' configuration keys (shell patterns) whose measured values are charted over time: dead tuples
    (database.vacuum...), days to certificate expiry (certificates.min_days_left), replication lag. Evidence values
    are kept too, as "check:title"."""
    max_charts: int = Field(default=6, ge=0)
    """Charts drawn per report (the first costs ~1 s of CPU with matplotlib's import, each more ~0.3 s; 0 lists the
    trends as text only)."""

    @field_validator("cloudwatch_namespace")
    @classmethod
    def _namespace(cls, v: str) -> str:
        if not v or v.startswith("AWS/") or len(v) > 255:
            raise ValueError("a namespace of 1-255 characters that does not start with 'AWS/'")
        return v
