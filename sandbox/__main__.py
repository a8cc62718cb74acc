"""python -m sandbox up | down [--purge] | status | break FAULT | heal [FAULT] | faults"""

import argparse
import sys

from opsproof import config
from opsproof.errors import ConfigError

from . import faults, lifecycle
from .procs import PortTaken
from .state import Sandbox


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    p.add_argument("--env", default=None,
                   help="a sandbox environment: name or .toml path (default: $OPSPROOF_ENV, else sandbox)")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("up", help="start every part (seeding on first start); a no-op when already up")
    d = sub.add_parser("down", help="heal faults and stop every part")
    d.add_argument("--purge", action="store_true", help="also delete the state (data, certificates, secrets)")
    sub.add_parser("status", help="print how to reach each part as shell export lines (exit 3 when down)")
    b = sub.add_parser("break", help="apply a named fault")
    b.add_argument("fault")
    h = sub.add_parser("heal", help="undo one fault, or every applied fault")
    h.add_argument("fault", nargs="?")
    sub.add_parser("faults", help="list the named faults")
    a = p.parse_args(argv)
    try:
        sb = Sandbox.load(config.env_name(a.env))
        if a.cmd == "faults":
            for f in sorted(faults.all_faults().values(), key=lambda f: (f.area, f.name)):
                print(f"{f.name:34} {f.area:15} {f.summary}")
            return 0
        if a.cmd == "up":
            if not lifecycle.up(sb):
                print("sandbox already up")
            return 0
        if a.cmd == "down":
            lifecycle.down(sb, purge=a.purge)
            return 0
        if a.cmd == "status":
            up = lifecycle.is_up(sb)
            print(f"# opsproof sandbox: {'up' if up else 'down'}")
            for part in lifecycle.PARTS:
                print(f"#   {part.name}: {'running' if lifecycle.part_running(sb, part.name) else 'stopped'}")
            if up:
                print("\n".join(lifecycle.exports(sb)))
                applied = sb.applied_faults()
                print(f"# faults applied: {', '.join(applied) if applied else 'none'}")
            return 0 if up else 3
        if not lifecycle.is_up(sb):
            print("sandbox: not running; start it with: python -m sandbox up", file=sys.stderr)
            return 3
        if a.cmd == "break":
            with lifecycle.lock(sb):
                faults.apply(sb, a.fault)
            print(f"broken: {a.fault}")
        elif a.cmd == "heal":
            with lifecycle.lock(sb):
                healed = faults.heal(sb, a.fault)
            print(f"healed: {', '.join(healed) if healed else 'nothing was broken'}")
        return 0
    except (ConfigError, PortTaken, faults.UnknownFault) as e:
        print(f"sandbox: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:
        print(f"sandbox: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
