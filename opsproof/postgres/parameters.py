"""The runbook's reviewed parameters (shared_buffers, effective_cache_size, work_mem, maintenance_work_mem,
max_connections, random_page_cost) as the RDS parameter group sets them and as the server runs them, in comparable
numbers.

RDS writes memory parameters in their base unit without one (shared_buffers = 1048576 means 1048576 × 8kB = 8GB)
or as formulas over the instance class's memory in bytes, whose result is in that base unit too
({DBInstanceClassMemory/32768} pages of 8kB = a quarter of the memory; LEAST({DBInstanceClassMemory/9531392},5000);
GREATEST({DBInstanceClassMemory*1024/63963136},65536) kB; SUM(...)); the runbook writes "8GB". Everything here is
turned into bytes (memory) or plain numbers before it is compared. A real RDS group lists every parameter of its
family (~350 for postgres15): most at the engine default (no value), RDS's own formulas (Source "system") and the
team's changes (Source "user").

    >>> to_number("shared_buffers", "1048576") == to_number("shared_buffers", "8GB") == 8 * 1024 ** 3
    True
    >>> to_number("shared_buffers", "{DBInstanceClassMemory/32768}", memory_bytes=32 * 1024 ** 3)
    8589934592.0
"""

import ast
import operator
import re
from dataclasses import dataclass

import psycopg

from ..config.database import Parameters, parse_size
from ..connect import aws_call
from ..errors import ProbeFailed
from ..probes.rds import Instance
from ..probes.rds import instance as rds_instance

# Base unit of each memory parameter when a value carries none (pg_settings.unit; RDS writes values in it).
BASE_UNIT = {"shared_buffers": 8192, "effective_cache_size": 8192, "temp_buffers": 8192, "wal_buffers": 8192,
             "work_mem": 1024, "maintenance_work_mem": 1024, "autovacuum_work_mem": 1024,
             "logical_decoding_work_mem": 1024, "hash_mem_multiplier": 1, "max_stack_depth": 1024,
             "temp_file_limit": 1024, "gin_pending_list_limit": 1024, "max_wal_size": 1024 ** 2,
             "min_wal_size": 1024 ** 2, "wal_keep_size": 1024 ** 2, "max_slot_wal_keep_size": 1024 ** 2,
             "track_activity_query_size": 1}
BASE_UNIT.pop("hash_mem_multiplier")  # a multiplier, not a size


def to_number(name: str, value: str | int | float, memory_bytes: float | None = None) -> float:
    """A parameter value in bytes (memory parameters) or as a plain number; RDS formulas need memory_bytes."""
    s = str(value).strip()
    if is_formula(s):
        if memory_bytes is None:
            raise ValueError(f"{name} = {s}: a formula, and the instance class's memory is not configured "
                             "(database.parameters.instance_memory_gib)")
        n = int(formula_value(s, memory_bytes))  # RDS formulas set integer parameters: the fraction is dropped
        return float(n * BASE_UNIT.get(name, 1))
    if name in BASE_UNIT:
        if re.fullmatch(r"\d+", s):
            return float(int(s) * BASE_UNIT[name])
        return float(parse_size(s))
    return float(s)


def show(name: str, n: float) -> str:
    """A number from to_number() as a person reads it: '8GB', '50MB', '1.1', '200'."""
    if name in BASE_UNIT:
        for unit, size in (("TB", 1024 ** 4), ("GB", 1024 ** 3), ("MB", 1024 ** 2), ("kB", 1024)):
            if n >= size and n % size == 0:
                return f"{int(n // size)}{unit}"
        return f"{int(n)}B"
    return f"{n:g}"


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def is_formula(value: str) -> bool:
    """RDS's {expression}, LEAST(...), GREATEST(...) or SUM(...) instead of a plain value."""
    return "{" in value or bool(re.match(r"\s*(LEAST|GREATEST|SUM)\s*\(", value, re.I))


def formula_value(s: str, memory_bytes: float) -> float:
    """An RDS parameter formula's value (in the parameter's base unit) for an instance class of memory_bytes
    (DBInstanceClassMemory: RDS subtracts what its own processes use, so the class's nominal memory reads a few
    percent high; tolerance_percent absorbs it). Other variables (DBInstanceVCPU, AllocatedStorage...) and
    functions (log) raise ValueError naming the formula.

    >>> round(formula_value("GREATEST({DBInstanceClassMemory*1024/63963136},65536)", 32 * 1024 ** 3))
    550073
    >>> formula_value("SUM({DBInstanceClassMemory/12038},-50003)", 16 * 1024 ** 3) > 0
    True
    """
    return _formula(s, memory_bytes)


def _formula(s: str, memory_bytes: float) -> float:
    expr = s.replace("${", "{").replace("{", "(").replace("}", ")")
    expr = expr.replace("DBInstanceClassMemory", repr(float(memory_bytes)))
    expr = re.sub(r"\bLEAST\b", "min", expr, flags=re.I)
    expr = re.sub(r"\bGREATEST\b", "max", expr, flags=re.I)
    expr = re.sub(r"\bSUM\b", "sum_", expr, flags=re.I)

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("min", "max", "sum_"):
            args = [ev(a) for a in node.args]
            return {"min": min, "max": max, "sum_": sum}[node.func.id](args)
        raise ValueError(f"unsupported RDS formula {s!r}")

    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise ValueError(f"unsupported RDS formula {s!r}") from None
    return ev(tree)


# ---- reading ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Live:
    name: str
    value: str
    number: float
    pending_restart: bool
    source: str


def live(conn: psycopg.Connection, names: list[str]) -> dict[str, Live]:
    """What the server runs (pg_settings), with the value in bytes for memory parameters."""
    out = {}
    for name, setting, unit, pending, source in conn.execute(
            "SELECT name, setting, unit, pending_restart, source FROM pg_settings WHERE name = ANY(%s)",
            (names,)).fetchall():
        n = float(setting) * (parse_size(unit if unit[0].isdigit() else "1" + unit) if unit and unit[-1] == "B" else 1)
        out[name] = Live(name, show(name, n) if name in BASE_UNIT else setting, n, pending, source)
    return out


def instance(rds, instance_id: str) -> Instance:
    """The RDS instance whose parameter group is reviewed (described by opsproof/probes/rds.py, the one place that
    reads DB instances)."""
    found = rds_instance(rds, instance_id)
    if found is None:
        raise ProbeFailed(f"rds: no DB instance {instance_id!r} (rds.instance_id)")
    return found


def group_values(rds, group: str, names: list[str]) -> dict[str, str]:
    """The parameter group's values for names (paginated describe-db-parameters); absent = engine default."""
    out: dict[str, str] = {}
    marker = None
    while True:
        kwargs = {"DBParameterGroupName": group, **({"Marker": marker} if marker else {})}
        page = aws_call(f"rds describe-db-parameters {group}", rds.describe_db_parameters, **kwargs)
        for p in page.get("Parameters", []):
            if p.get("ParameterName") in names and p.get("ParameterValue") is not None:
                out[p["ParameterName"]] = p["ParameterValue"]
        marker = page.get("Marker")
        if not marker:
            return out


# ---- the review's facts -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    """One reviewed parameter: the recommendation, the group's value and the live one, each also as a number
    (bytes for memory parameters) so the rule (opsproof/rules/database_parameters.py) compares like with like."""
    name: str
    recommended: str
    want: float
    parameter_group: str | None
    """The group's value as RDS holds it (base unit, or a formula); None: the engine default."""
    group_number: float | None
    """None: the engine default, or a formula that cannot be worked out (group_value says why)."""
    group_value: str
    """The group's value as a person reads it ('8GB'), a formula worked out for the class, or why it cannot be."""
    live: str | None
    """What the server runs (None: not compared, or not reported)."""
    live_number: float | None


def reviewed(recommended: dict, group: dict[str, str], running: dict[str, Live] | None,
             memory_bytes: float | None) -> list[Parameter]:
    """Each recommended parameter with the group's value (and the live one when given), in comparable numbers."""
    out = []
    for name, rec in recommended.items():
        g = group.get(name)
        number, readable = _read(name, g, memory_bytes) if g is not None else (None, "")
        lv = (running or {}).get(name)
        out.append(Parameter(name, str(rec), to_number(name, rec), g, number, readable, lv.value if lv else None,
                             lv.number if lv else None))
    return out


def review(rds, conn: psycopg.Connection, inst: Instance, p: Parameters) -> tuple[list[Parameter], dict[str, Live]]:
    """The parameters recommended for the instance's class (none when the class has no recommendation) as its
    parameter group sets them and, with check_live, as the server runs them; and every live value read."""
    recommended = p.recommended.get(inst.instance_class, {})
    group = group_values(rds, inst.parameter_group, list(recommended)) if recommended else {}
    running = live(conn, list(recommended))
    memory = p.instance_memory_gib.get(inst.instance_class)
    return reviewed(recommended, group, running if p.check_live else None, memory * 1024 ** 3 if memory else None), \
        running


def _read(name: str, value: str, memory_bytes: float | None) -> tuple[float | None, str]:
    try:
        n = to_number(name, value, memory_bytes)
    except ValueError as e:
        return None, str(e)
    return n, show(name, n) + (" for the class" if is_formula(value) else "")
