"""AWS Systems Manager patching: the patch baseline, the maintenance window and every instance's patch state.
Read-only (Describe*/Get*).

    >>> b = baseline(ssm, "AI-Film-Studio-Baseline")
    >>> b.rules[0].classifications, b.rules[0].severities, b.rules[0].approve_after_days
    (['Security'], ['Critical', 'Important'], 7)
    >>> last_start("cron(0 4 ? * SUN *)", utc(2026, 1, 14))
    datetime.datetime(2026, 1, 11, 4, 0, tzinfo=datetime.timezone.utc)
"""

import datetime as dt
import re
from dataclasses import dataclass, field

from ..connect import aws_call
from . import ec2 as ec2_probe

UTC = dt.timezone.utc
DAYS = {"MON": 0, "TUE": 1, "WED": 2, "THU": 3, "FRI": 4, "SAT": 5, "SUN": 6}


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# ---- baseline --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    classifications: list[str]
    severities: list[str]
    approve_after_days: int | None
    compliance_level: str = ""


@dataclass
class Baseline:
    id: str
    name: str
    operating_system: str
    rules: list[Rule]
    patch_groups: list[str] = field(default_factory=list)


def baseline(ssm, name: str) -> Baseline | None:
    """The custom patch baseline of that name (None when there is none)."""
    found = []
    token = None
    while True:
        resp = aws_call(f"ssm describe-patch-baselines {name}", ssm.describe_patch_baselines,
                        Filters=[{"Key": "NAME_PREFIX", "Values": [name]}], MaxResults=100,
                        **({"NextToken": token} if token else {}))
        found += [b for b in resp.get("BaselineIdentities", []) if b.get("BaselineName") == name]
        token = resp.get("NextToken")
        if not token:
            break
    if not found:
        return None
    b = aws_call(f"ssm get-patch-baseline {name}", ssm.get_patch_baseline, BaselineId=found[0]["BaselineId"])
    rules = []
    for r in (b.get("ApprovalRules") or {}).get("PatchRules", []):
        filters = {f["Key"]: list(f.get("Values", [])) for f in r.get("PatchFilterGroup", {}).get("PatchFilters", [])}
        rules.append(Rule(filters.get("CLASSIFICATION", []), filters.get("SEVERITY", []), r.get("ApproveAfterDays"),
                          r.get("ComplianceLevel", "")))
    return Baseline(b["BaselineId"], b.get("Name", name), b.get("OperatingSystem", ""), rules,
                    list(b.get("PatchGroups", [])))


def baseline_for_group(ssm, group: str, operating_system: str) -> str:
    resp = aws_call(f"ssm get-patch-baseline-for-patch-group {group}", ssm.get_patch_baseline_for_patch_group,
                    PatchGroup=group, OperatingSystem=operating_system)
    return resp.get("BaselineId", "")


# ---- maintenance window ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    id: str
    name: str
    schedule: str
    duration_h: int
    cutoff_h: int
    enabled: bool
    timezone: str = ""


def window(ssm, name: str) -> Window | None:
    token = None
    while True:
        resp = aws_call(f"ssm describe-maintenance-windows {name}", ssm.describe_maintenance_windows,
                        Filters=[{"Key": "Name", "Values": [name]}], MaxResults=50,
                        **({"NextToken": token} if token else {}))
        for w in resp.get("WindowIdentities", []):
            if w.get("Name") == name:
                return Window(w["WindowId"], name, w.get("Schedule", ""), w.get("Duration", 0), w.get("Cutoff", 0),
                              w.get("Enabled", False), w.get("ScheduleTimezone", ""))
        token = resp.get("NextToken")
        if not token:
            return None


def last_start(schedule: str, now: dt.datetime) -> dt.datetime:
    """The latest start of an SSM cron schedule at or before now (UTC): cron(MIN HOUR DOM MONTH DOW YEAR) with fixed
    minute and hour, '?'/'*' for day of month, '*' month and year, and '*', '?', a day name (SUN) or a list
    (SAT,SUN) for day of week. Other forms raise ValueError naming the schedule."""
    m = re.fullmatch(r"cron\(\s*(\d{1,2})\s+(\d{1,2})\s+([?*])\s+\*\s+([A-Za-z,?*]+|[1-7](?:,[1-7])*)\s+\*\s*\)",
                     schedule.strip())
    if not m:
        raise ValueError(f"schedule {schedule!r}: only weekly or daily cron(M H ? * DOW *) schedules are understood")
    minute, hour, dow = int(m.group(1)), int(m.group(2)), m.group(4).upper()
    if dow in ("*", "?"):
        days = set(range(7))
    elif dow[0].isdigit():  # AWS: 1 = SUN ... 7 = SAT
        days = {(int(d) + 5) % 7 for d in dow.split(",")}
    else:
        try:
            days = {DAYS[d] for d in dow.split(",")}
        except KeyError:
            raise ValueError(f"schedule {schedule!r}: unknown day in {dow!r}") from None
    now = now.astimezone(UTC)
    t = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    for back in range(8):
        c = t - dt.timedelta(days=back)
        if c <= now and c.weekday() in days:
            return c
    raise ValueError(f"schedule {schedule!r}: no start in the last week")


# ---- instances -------------------------------------------------------------------------------------------------------
@dataclass
class PatchState:
    instance_id: str
    name: str
    """The instance's Name tag (or its id)."""
    ping: str
    missing: int
    failed: int
    pending_reboot: int
    installed: int
    security_noncompliant: int
    critical_noncompliant: int
    operation: str
    operation_end: str
    baseline_id: str
    last_install: str = ""
    """When the last Install operation ended (ISO, UTC), or "" when unknown. AWS keeps only the LATEST operation:
    after a Scan (a daily scan association, an on-demand scan) Operation is Scan and OperationEndTime the scan's, so
    the install is found in LastNoRebootInstallOperationTime (NoReboot installs only) or, else, in the newest
    InstalledTime of the instance's installed patches (DescribeInstancePatches)."""

    def patched_since(self, started: dt.datetime) -> bool:
        """The last Install ended at or after ``started`` (a later Scan does not count, nor hide it).

        >>> s = PatchState("i-1", "w1", "Online", 0, 0, 0, 400, 0, 0, "Scan", "2026-01-11T09:00:00+00:00", "pb-1",
        ...                last_install="2026-01-11T04:35:00+00:00")
        >>> s.patched_since(utc(2026, 1, 11, 4)), s.patched_since(utc(2026, 1, 11, 5))
        (True, False)
        """
        return bool(self.last_install) and dt.datetime.fromisoformat(self.last_install) >= started


def instance_information(ssm, ids: list[str]) -> list[dict]:
    """DescribeInstanceInformation for these instance ids, every page."""
    pages = ssm.get_paginator("describe_instance_information").paginate(
        Filters=[{"Key": "InstanceIds", "Values": ids}], PaginationConfig={"PageSize": 50})
    return aws_call("ssm describe-instance-information",
                    lambda: [x for p in pages for x in p.get("InstanceInformationList", [])])


def patch_group_states(ssm, ec2, group: str) -> list[PatchState]:
    """Patch state of every managed instance in the patch group (tag 'Patch Group'), with its ping status and Name."""
    states = []
    token = None
    while True:
        resp = aws_call(f"ssm describe-instance-patch-states-for-patch-group {group}",
                        ssm.describe_instance_patch_states_for_patch_group, PatchGroup=group, MaxResults=50,
                        **({"NextToken": token} if token else {}))
        states += resp.get("InstancePatchStates", [])
        token = resp.get("NextToken")
        if not token:
            break
    ids = [s["InstanceId"] for s in states]
    ping = {}
    for i in range(0, len(ids), 50):
        # AWS answers 10 per page by default (MaxResults 5-50) whatever the filter holds: follow every page, or the
        # 11th instance reads "not reporting"
        ping.update({x["InstanceId"]: x.get("PingStatus", "?") for x in instance_information(ssm, ids[i:i + 50])})
    names = ec2_probe.instance_names(ec2, ids)
    out = []
    for s in states:
        end = s.get("OperationEndTime")
        install = end if s.get("Operation") == "Install" else _last_install(ssm, s)
        out.append(PatchState(
            s["InstanceId"], names.get(s["InstanceId"], s["InstanceId"]), ping.get(s["InstanceId"], "not reporting"),
            s.get("MissingCount", 0), s.get("FailedCount", 0), s.get("InstalledPendingRebootCount", 0),
            s.get("InstalledCount", 0), s.get("SecurityNonCompliantCount", 0), s.get("CriticalNonCompliantCount", 0),
            s.get("Operation", ""), end.astimezone(UTC).isoformat(timespec="seconds") if isinstance(end, dt.datetime)
            else str(end or ""), s.get("BaselineId", ""), _iso(install)))
    return sorted(out, key=lambda p: p.name)


INSTALLED_STATES = ("Installed", "InstalledOther", "InstalledPendingReboot")
"""DescribeInstancePatches State filter values of a patch that is on the instance (AWS's own spelling)."""


def _last_install(ssm, state: dict) -> dt.datetime | None:
    """The end of an instance's last Install when its latest operation is a Scan: LastNoRebootInstallOperationTime,
    else the newest InstalledTime among its installed patches (every page)."""
    found = [state["LastNoRebootInstallOperationTime"]] if state.get("LastNoRebootInstallOperationTime") else []
    token = None
    while True:
        resp = aws_call(f"ssm describe-instance-patches {state['InstanceId']}", ssm.describe_instance_patches,
                        InstanceId=state["InstanceId"], MaxResults=100,
                        Filters=[{"Key": "State", "Values": list(INSTALLED_STATES)}],
                        **({"NextToken": token} if token else {}))
        found += [p["InstalledTime"] for p in resp.get("Patches", []) if isinstance(p.get("InstalledTime"), dt.datetime)]
        token = resp.get("NextToken")
        if not token:
            break
    return max(found, default=None)


def _iso(v) -> str:
    return v.astimezone(UTC).isoformat(timespec="seconds") if isinstance(v, dt.datetime) else str(v or "")
