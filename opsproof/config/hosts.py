"""The [hosts] section: the fleet (pytest-testinfra host specs or an Ansible inventory) and what every host must
show after patching (runbook: "Manual Patching": update packages, reboot if the kernel was updated, verify the
instance returns healthy)."""

from typing import Annotated

from pydantic import Field, PositiveFloat, field_validator

from .base import Section


class Hosts(Section):
    """The fleet, as pytest-testinfra host specs (ssh://user@host, paramiko://..., ansible://group, local://, and
    the sandbox's own sandbox://NAME hosts)."""

    specs: list[str] = ["local://"]
    ansible_inventory: str | None = None
    """An Ansible inventory (testinfra's --ansible-inventory); specs like ansible://gpu-workers pick from it."""
    database_host: str | None = None
    """The testinfra spec of the host running PostgreSQL, for the port check; unset where the database is a managed
    service (RDS): the check is skipped."""
    services: list[str] = ["sshd", "chronyd", "amazon-ssm-agent"]
    """Services that must be running and enabled on every host (systemd units, or SysV/OpenRC services)."""
    disk_mounts: list[str] = ["/"]
    disk_max_percent: Annotated[float, Field(gt=0, le=100)] = 85.0
    """A mount more used than this fails (blocks, as `df` reports them)."""
    clock_max_offset_ms: PositiveFloat = 100.0
    """The clock must be synchronised (chrony or systemd-timesyncd) and off by at most this much."""
    command_timeout_s: PositiveFloat = 30.0
    """Bound of one command on a host; a host that does not answer within it fails its checks as unreachable."""
    reboot_timeout_s: PositiveFloat = 600.0
    """patch-hosts waits at most this long for a rebooted host to come back healthy."""
    reboot_poll_s: PositiveFloat = 10.0

    @field_validator("specs")
    @classmethod
    def _specs(cls, v):
        bad = [s for s in v if not s or "," in s]
        if bad:
            raise ValueError(f"one host spec per list item, without commas (got {bad!r})")
        return v

    @field_validator("disk_mounts")
    @classmethod
    def _mounts(cls, v):
        bad = [m for m in v if not m.startswith("/")]
        if bad:
            raise ValueError(f"mount points are absolute paths (got {bad!r})")
        return v
