from pathlib import Path



from .base import Port, Section


class SandboxPorts(Section):
    postgres: Port = 15432
    aws: Port = 15000
    http: Port = 15080
    tls: Port = 15443
    smtp: Port = 15025


class Sandbox(Section):
    """Only in sandbox environments: where the local stand-in keeps its state and listens."""

    state_dir: Path = Path(".sandbox")
    """Relative to the project folder; OPSPROOF_SANDBOX_DIR overrides it."""
    ports: SandboxPorts = SandboxPorts()
    autostart: bool = True
    """Start the sandbox for a test session when it is not running (and stop it afterwards)."""
