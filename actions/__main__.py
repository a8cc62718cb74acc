"""python -m actions NAME [--env ENV] [--apply] [action options]; python -m actions --help lists them.
python -m actions coverage prints the runbook's steps against the actions and checks that do and verify them."""

import argparse
import sys

from opsproof import config
from opsproof.errors import OpsproofError

from . import StepFailed, all_actions, run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m actions", description="The runbook's procedures. Without --apply "
                                "an action only prints its plan.")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("coverage", help="the runbook's steps against the actions and checks (not an action: changes "
                                    "nothing)")
    for a in sorted(all_actions().values(), key=lambda a: a.name):
        sp = sub.add_parser(a.name, help=a.help, description=a.help)
        sp.add_argument("--env", default=None, help="environments/NAME.toml (default: $OPSPROOF_ENV, else sandbox)")
        sp.add_argument("--apply", action="store_true", help="do it (default: print the plan)")
        for prm in a.params:
            sp.add_argument(*prm.flags, **prm.kwargs)
    args = vars(p.parse_args(argv))
    if args["action"] == "coverage":
        from opsproof import runbook

        cov = runbook.coverage()
        print(cov.as_text())
        return 1 if cov.unnamed_checks() or cov.unnamed_actions() or cov.unknown() else 0
    name, env_name, apply = args.pop("action"), args.pop("env"), args.pop("apply")
    try:
        env = config.load(env_name)
    except config.ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 4
    try:
        report = run(name, env, apply=apply, **args)
    except StepFailed as e:
        print(f"{name}: FAILED: {e}", file=sys.stderr)
        return 1
    except OpsproofError as e:
        print(f"{name}: {e}", file=sys.stderr)
        return 1
    print(report.as_text())
    ev = report.evidence.as_text()
    if ev:
        print(ev)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
