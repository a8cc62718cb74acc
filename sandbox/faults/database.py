"""Faults of the database area."""

from .. import postgres
from . import fault


@fault("database-down", area="database", part="postgres")
class DatabaseDown:
    """The PostgreSQL server is stopped: connections are refused and its port is closed."""

    def apply(self, sb):
        postgres.stop(sb)

    def heal(self, sb):
        postgres.start(sb)
        postgres.wait_ready(sb)


@fault("rds-instance-stopped", area="database")
class RdsInstanceStopped:
    """The RDS instance prod-db is stopped (status 'stopped')."""

    def apply(self, sb):
        sb.client("rds").stop_db_instance(DBInstanceIdentifier=sb.env.rds.instance_id)

    def heal(self, sb):
        sb.client("rds").start_db_instance(DBInstanceIdentifier=sb.env.rds.instance_id)
