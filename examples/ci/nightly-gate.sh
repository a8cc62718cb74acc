#!/usr/bin/env bash
# The nightly health gate for cron, Jenkins or any scheduler: run every `nightly` check, keep the reports in a dated
# folder, and tell a failed check (exit 1) from a broken run (exit 2, after paging the suite's owners).
#
#   OPSPROOF_ENV=prod PAGE_COMMAND='/usr/local/bin/page-owners' ./examples/ci/nightly-gate.sh
#
# PAGE_COMMAND is run with the message as its only argument when the run broke (pytest exit 2..5: interrupted,
# internal error, bad configuration or unknown marker, nothing selected). KEEP_DIR (default reports/nightly) gets one
# folder per night. Extra arguments go to pytest (e.g. -n 4).
set -uo pipefail
cd "$(dirname "$0")/../.."

PYTEST="${PYTEST:-python3 -m pytest}"
KEEP_DIR="${KEEP_DIR:-reports/nightly}"
night="$(date -u +%Y-%m-%dT%H%MZ)"
out="$KEEP_DIR/$night"
mkdir -p "$out"

$PYTEST -m nightly --html="$out/report.html" --junitxml="$out/junit.xml" "$@"
code=$?

case "$code" in
  0) echo "opsproof nightly gate: healthy ($out)"; exit 0 ;;
  1) echo "opsproof nightly gate: a check FAILED: see $out/report.html" >&2; exit 1 ;;
  *) msg="opsproof nightly gate BROKE (pytest exit $code): nothing was verified tonight; see $out"
     echo "$msg" >&2
     if [ -n "${PAGE_COMMAND:-}" ]; then $PAGE_COMMAND "$msg" || echo "paging failed too" >&2; fi
     exit 2 ;;
esac
