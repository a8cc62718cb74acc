"""opsproof's command line (the library's, beside pytest's suite and `python -m actions`).

    python -m opsproof verify PATH [--public-key PEM] [--history URL|FILE]   exit 1 on any edited/added/removed file,
                                                                            a bad signature or a broken chain
    python -m opsproof history [--days N]                 pass rates, flaky, never red, red to green, trends
    python -m opsproof keygen PRIVATE.pem PUBLIC.pem      a new Ed25519 signing key
    python -m opsproof alarm [--gate nightly]             the CloudWatch alarm "the gate has not passed for a day"
"""

import argparse
import json
import sys
import time
from pathlib import Path

from . import config, history, integrity, metrics
from .errors import ConfigError


def _verify(args, env) -> int:
    v = integrity.verify(Path(args.path), env, args.public_key, args.history)
    for line in v.problems:
        print(f"FAIL {line}")
    for line in v.notes:
        print(f"     {line}")
    print("verified" if v.ok else f"NOT verified: {len(v.problems)} problem(s)")
    return 0 if v.ok else 1


def _history(args, env) -> int:
    cfg = env.integrity
    loc = args.history or integrity.history_location(env)
    days = args.days or max(cfg.pass_rate_days + [cfg.never_red_days])
    now = time.time()
    with history.open_store(loc, cfg.lock_timeout_s) as store:
        rows = store.rows(env.name, now - days * 86400)
    s = history.summarize(rows, now, cfg.pass_rate_days, cfg.never_red_days, cfg.trends)
    if args.json:
        print(json.dumps(s.as_dict(), indent=1))
    else:
        print("\n".join(history.lines(s)))
    return 0


def _keygen(args, env) -> int:
    from .manifest import generate_pem

    private, public = generate_pem()
    Path(args.private).touch(mode=0o600)
    Path(args.private).write_bytes(private)
    Path(args.public).write_bytes(public)
    print(f"{args.private}: the signing key ([integrity] signing_key, or ${env.integrity.signing_key_env})\n"
          f"{args.public}: the public key for verify ([integrity] public_key)")
    return 0


def _alarm(args, env) -> int:
    print(json.dumps(metrics.gate_alarm(env, args.gate, args.action), indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m opsproof", description=__doc__.splitlines()[0])
    p.add_argument("--env", default=None, help="environments/NAME.toml (default: $OPSPROOF_ENV, else sandbox)")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="verify an evidence folder (or a copy of one): files, signature, chain")
    v.add_argument("path")
    v.add_argument("--public-key", default=None, help="Ed25519 public key (PEM) the signature must verify with")
    v.add_argument("--history", default=None, help="the history store to follow the chain in")
    h = sub.add_parser("history", help="what the run history says about each check")
    h.add_argument("--days", type=int, default=None)
    h.add_argument("--history", default=None)
    h.add_argument("--json", action="store_true")
    k = sub.add_parser("keygen", help="a new Ed25519 signing key pair")
    k.add_argument("private")
    k.add_argument("public")
    a = sub.add_parser("alarm", help="PutMetricAlarm arguments: the gate has not passed for a day")
    a.add_argument("--gate", default="nightly")
    a.add_argument("--action", action="append", default=[], help="an alarm action ARN (SNS topic)")
    args = p.parse_args(argv)
    try:
        env = config.load(args.env)
        return {"verify": _verify, "history": _history, "keygen": _keygen, "alarm": _alarm}[args.command](args, env)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
