"""Terraform: drift (`terraform plan -detailed-exitcode`) and versions (`terraform version -json`). Read-only: the
plan runs with -lock=false (it never holds the state lock an apply needs) and -input=false, bounded by a timeout.

    >>> p = plan(Path("infrastructure/terraform/environments/prod"), "terraform", timeout_s=600)
    >>> p.exit_code, p.drift, p.summary
X
    >>> satisfies("5.31.0", "~> 5.0"), satisfies("1.11.4", ">= 1.6.0, < 2.0.0")
    (True, True)
"""

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ProbeFailed, TargetUnreachable

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class TerraformMissing(ProbeFailed):
    pass


def find(binary: str) -> str:
    """The terraform executable, or TerraformMissing naming what was looked for."""
    path = binary if os.path.sep in binary else shutil.which(binary)
    if not path or not os.access(path, os.X_OK):
        raise TerraformMissing(f"terraform is not installed ({binary!r} not found on PATH; "
                               "infrastructure.terraform.binary)")
    return path


def _env() -> dict:
    return {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}


def _run(cmd: list[str], cwd: Path, timeout_s: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout_s, env=_env(),
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise TargetUnreachable(f"terraform in {cwd}: `{' '.join(cmd[1:3])}` did not finish within {timeout_s:g}s "
                                "(infrastructure.terraform.timeout_s)") from None


# ---- plan ------------------------------------------------------------------------------------------------------------
@dataclass
class Plan:
    directory: str
    exit_code: int
    """0 no changes, 2 changes (drift), 1 error (-detailed-exitcode)."""
    summary: str
    changes: list[str] = field(default_factory=list)
    """'terraform_data.backend_service will be updated in-place', one per resource."""
    error: str = ""
    output: str = ""
    duration_s: float = 0.0

    @property
    def drift(self) -> bool:
        return self.exit_code == 2


def plan(directory: Path, binary: str, timeout_s: float, refresh: bool = True) -> Plan:
    if not directory.is_dir():
        return Plan(str(directory), 1, "", error=f"no such directory {directory}")
    exe = find(binary)
    cmd = [exe, "plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false"]
    if not refresh:
        cmd.append("-refresh=false")
    t0 = time.monotonic()
    p = _run(cmd, directory, timeout_s)
    out = ANSI.sub("", p.stdout)
    err = ANSI.sub("", p.stderr)
    changes = [m.group(1) for m in re.finditer(r"^\s*# (\S+ (?:will|must) be .+)$", out, re.M)]
    m = re.search(r"^(Plan: .+|No changes\..*)$", out, re.M)
    summary = m.group(1).strip() if m else ""
    error = ""
    if p.returncode == 1:
        error = _error(err) or _error(out) or "terraform plan failed"
    return Plan(str(directory), p.returncode, summary, changes, error, out[-6000:],
                round(time.monotonic() - t0, 2))


def _error(text: str) -> str:
    """The first 'Error: ...' block of terraform's output, on one line."""
    m = re.search(r"Error: (.+?)(?:\n\s*\n|\Z)", text, re.S)
    if not m:
        return ""
    return " ".join(line.strip(" │╷╵") for line in m.group(1).splitlines() if line.strip(" │╷╵"))[:300]


# ---- versions --------------------------------------------------------------------------------------------------------
@dataclass
class Versions:
    directory: str
    terraform: str
    providers: dict[str, str]
    """Provider source address -> selected version (from the dependency lock file)."""


def versions(directory: Path, binary: str, timeout_s: float) -> Versions:
    exe = find(binary)
    p = _run([exe, "version", "-json"], directory, timeout_s)
    try:
        data = json.loads(p.stdout)
    except ValueError:
        raise RuntimeError(f"terraform version -json in {directory}: not JSON (exit {p.returncode}): "
                           f"{ANSI.sub('', p.stderr).strip()[:200]}") from None
    return Versions(str(directory), data.get("terraform_version", "?"), data.get("provider_selections", {}) or {})


_OPS = ("~>", ">=", "<=", "!=", ">", "<", "=")


def parse_constraint(text: str) -> list[tuple[str, tuple[int, ...], int]]:
    """Terraform's version constraint syntax: comma-separated 'OP VERSION' (=, !=, >, >=, <, <=, ~>).

    >>> parse_constraint("~> 5.0, != 5.1.0")
    [('~>', (5, 0), 2), ('!=', (5, 1, 0), 3)]
    """
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    if not parts:
        raise ValueError(f"empty version constraint {text!r}")
    out = []
    for part in parts:
        op = next((o for o in _OPS if part.startswith(o)), "=")
        ver = part[len(op):].strip() if part.startswith(op) else part
        if not re.fullmatch(r"\d+(\.\d+){0,2}", ver):
            raise ValueError(f"not a version constraint: {part!r} (write e.g. '~> 5.0' or '>= 1.6.0, < 2.0.0')")
        nums = tuple(int(n) for n in ver.split("."))
        out.append((op, nums, len(nums)))
    return out


def _version(v: str) -> tuple[int, int, int]:
    m = re.match(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", v.strip())
    if not m:
        raise ValueError(f"not a version: {v!r}")
    return tuple(int(x or 0) for x in m.groups())  # type: ignore[return-value]


def satisfies(version: str, constraint: str) -> bool:
    v = _version(version)
    for op, nums, n in parse_constraint(constraint):
        want = tuple(list(nums) + [0] * (3 - len(nums)))
        if op == "~>":
            # ~> 5.0 allows 5.x (>= 5.0); ~> 5.0.3 allows 5.0.x (>= 5.0.3): the rightmost part may grow
            if v < want or v[:max(n - 1, 1)] != want[:max(n - 1, 1)]:
                return False
        elif not {"=": v == want, "!=": v != want, ">": v > want, ">=": v >= want, "<": v < want,
                  "<=": v <= want}[op]:
            return False
    return True


def short_source(source: str) -> str:
    """registry.terraform.io/hashicorp/aws -> hashicorp/aws."""
    return source.removeprefix("registry.terraform.io/")
