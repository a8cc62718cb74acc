"""A private sandbox: the sandbox environment on other ports and another state folder, so two sandboxes (a
developer's and a benchmark's, or two engineers') never share a port or a fault.

    eval "$(python -m sandbox.private alice 26000)"    # then python -m sandbox up, pytest ... as usual

Pick a base below 32768: Linux hands out ports above that to outgoing connections, which can hold a port a
sandbox wants to listen on. The default sandbox sits at 15000.

Re-run it after editing environments/sandbox.toml: the private file is a copy with the ports moved.
"""

import os
import re
import sys
import tempfile
from pathlib import Path

from opsproof.config import ENV_DIR

DEFAULT_PORTS = {"postgres": 15432, "aws": 15000, "http": 15080, "tls": 15443, "smtp": 15025}


def private_env(name: str, base: int, root: Path | None = None) -> tuple[Path, Path]:
    """Write <root>/opsproof-NAME/sandbox.toml with every sandbox port moved to base + (port - 15000)."""
    folder = (root or Path(tempfile.gettempdir())) / f"opsproof-{name}"
    state = folder / "state"
    state.mkdir(parents=True, exist_ok=True)
    for p in (folder, state):
        os.chmod(p, 0o755)
    if root is not None:  # PostgreSQL's own user must reach its data folder through every parent (mktemp -d: 0700)
        root.chmod(root.stat().st_mode | 0o711)
    toml = (ENV_DIR / "sandbox.toml").read_text()
    for port in DEFAULT_PORTS.values():
        toml = toml.replace(str(port), str(base + port - 15000))
    toml = re.sub(r'(?m)^state_dir = .*$', f'state_dir = "{state}"', toml)
    env_file = folder / "sandbox.toml"
    env_file.write_text(toml)
    return env_file, state


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m sandbox.private NAME PORT_BASE   (e.g. alice 56000)", file=sys.stderr)
        return 2
    env_file, state = private_env(argv[0], int(argv[1]))
    print(f"export OPSPROOF_ENV={env_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
