"""The runbook's quarterly "Database Parameter Tuning" as rules over the reviewed parameters
(opsproof/postgres/parameters.py: the recommendation, the RDS parameter group's value and the live one, each also
as a comparable number) and [database.parameters]."""

from ..config.database import Parameters
from ..findings import Finding, alarm, ok
from ..postgres.parameters import Parameter
from ..probes.rds import Instance

FIX = "python -m actions db-parameters"


def within(number: float | None, want: float, tolerance_percent: float) -> bool:
    """A value (None: engine default, or a formula that cannot be worked out) within tolerance of the wanted one.

    >>> within(51200 * 1024, 50 * 1024 ** 2, 5), within(None, 1.1, 5)
    (True, False)
    """
    return number is not None and abs(number - want) <= abs(want) * tolerance_percent / 100


def parameters(inst: Instance, params: list[Parameter], p: Parameters) -> list[Finding]:
    """The instance's class has recommended values; each reviewed parameter matches its recommendation in the
    parameter group (and on the running server with check_live); no change waits for a reboot."""
    if inst.instance_class not in p.recommended:
        return [alarm(inst.id, f"no recommended values for instance class {inst.instance_class}: add "
                      f"[database.parameters.recommended.\"{inst.instance_class}\"] (known: "
                      f"{', '.join(p.recommended)})", measured=inst.instance_class,
                      key="database.parameters.recommended")]
    found = parameter_values(params, p.tolerance_percent, p.check_live)
    group = f"parameter group {inst.parameter_group}"
    if inst.parameter_apply_status == "in-sync":
        found.append(ok(group, "in-sync", measured=inst.parameter_apply_status, limit="in-sync"))
    else:
        found.append(alarm(group, f"is {inst.parameter_apply_status} (reboot in a window)", measured=inst.parameter_apply_status,
                           limit="in-sync", fix=FIX + " --apply --reboot (inside the window)"))
    return found


def parameter_values(params: list[Parameter], tolerance_percent: float, check_live: bool) -> list[Finding]:
    """Each parameter whose group value (or live value, with check_live) is off its recommendation by more than the
    tolerance: named with both values as a person reads them."""
    found = []
    for r in params:
        where = []
        if not within(r.group_number, r.want, tolerance_percent):
            g = r.parameter_group
            if g is not None and r.group_value and r.group_value != g:
                g = f"{g} ({r.group_value})"  # RDS's base unit or formula, as a person reads it
            where.append(f"parameter group has {g or '(engine default)'}")
        if check_live and not within(r.live_number, r.want, tolerance_percent):
            where.append(f"server runs {r.live or '(not reported)'}")
        shown = r.group_value or r.parameter_group or "(engine default)"
        if where:
            found.append(alarm(r.name, f"{' and '.join(where)}, recommended {r.recommended}", measured=shown,
                               limit=r.recommended, key="database.parameters.recommended", fix=FIX))
        else:
            found.append(ok(r.name, f"{shown}, recommended {r.recommended}", measured=shown, limit=r.recommended))
    return found
