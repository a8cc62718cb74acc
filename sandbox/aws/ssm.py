"""SSM managed instances, patch states and patch compliance, which moto does not implement.

What moto 5.2.5 does: CreatePatchBaseline, DescribePatchBaselines, Register/GetPatchBaselineForPatchGroup and the
maintenance-window calls work (the overlay leaves them to moto). GetPatchBaseline, DescribeInstanceInformation,
DescribeInstancePatchStates(ForPatchGroup), DescribeInstancePatches, DescribePatchGroupState and the compliance
calls are not implemented: moto answers HTTP 500. Neither are UpdatePatchBaseline and UpdateMaintenanceWindow.

What this overlay adds: every EC2 instance in moto (not terminated) is an SSM managed instance, Online while
running. Its patch state is healthy by default: patched by the latest run of the maintenance window (the first
window in moto with a weekly or daily cron schedule, else Sundays 04:00 UTC), nothing missing or failed. The patch
group is the instance's ``Patch Group`` tag; the baseline is the one registered for that group and the instance's
operating system (AMAZON_LINUX_2 unless overridden). Per-patch answers (DescribeInstancePatches, ListComplianceItems)
are synthesised from the counts; NotApplicable patches are counted, not listed. UpdatePatchBaseline and
UpdateMaintenanceWindow change moto's baseline and window in place (how a person drifts them from the runbook).
DescribeInstanceInformation pages as AWS does: 10 a page by default, MaxResults 5-50 (more is refused).

Faults (admin API):

    POST /_sandbox/ssm/patch-state {"instance_id": I | "instance_ids": [...] | "patch_group": G, ...fields}
        installed, installedOther, installedPendingReboot, installedRejected, missing, failed, notApplicable (int);
        operation ("Scan"|"Install"); operationEndTime (ISO 8601) or operationAgeHours (number);
        lastInstallTime (ISO 8601): when the last Install ended, for an instance whose latest operation is a Scan
        (AWS keeps only the latest operation; installed patches keep their InstalledTime); default: the operation's
        end; rebootOption ("RebootIfNeeded"|"NoReboot": only NoReboot installs set LastNoRebootInstallOperationTime);
        pingStatus ("Online"|"ConnectionLost"|"Inactive"); managed (false hides the instance from SSM);
        operatingSystem; "clear": true drops the override.
"""

import datetime as dt
import hashlib
import re

from .overlay import (AdminError, Call, Overlay, Reply, admin, handles, json_error, json_reply, moto_backend, need,
                      now, parse_time)

COUNT_FIELDS = ("installed", "installedOther", "installedPendingReboot", "installedRejected", "missing", "failed",
                "notApplicable")
FIELDS = {**{f: int for f in COUNT_FIELDS}, "operation": str, "operationEndTime": str,
          "operationAgeHours": (int, float), "lastInstallTime": str, "rebootOption": str, "pingStatus": str, "managed": bool, "operatingSystem": str}
PATCH_GROUP_TAGS = ("Patch Group", "PatchGroup")
AGENT_VERSION = "3.3.1142.0"
INSTANCE_INFORMATION_PAGE = 10
"""DescribeInstanceInformation's default page (AWS's; moto 5.2.5 does not implement the call)."""
PACKAGES = ("kernel", "openssl-libs", "glibc", "curl", "systemd", "python3", "nvidia-driver", "sudo", "bind-libs",
            "libxml2", "krb5-libs", "expat", "nss", "vim-minimal", "git", "docker")
DAYS = {"SUN": 6, "MON": 0, "TUE": 1, "WED": 2, "THU": 3, "FRI": 4, "SAT": 5}


class Ssm(Overlay):
    name = "ssm"

    def initial_state(self) -> dict:
        return {"instances": {}}  # instance id -> override fields

    # ---- managed instances ---------------------------------------------------------------------------------------
    @handles("ssm", "DescribeInstanceInformation")
    def describe_instance_information(self, call: Call) -> Reply:
        body = call.json
        wanted_ids, wanted_ping, tag_filters = set(), set(), {}
        for f in body.get("InstanceInformationFilterList") or []:
            key, values = f.get("key"), set(f.get("valueSet") or [])
            if key == "InstanceIds":
                wanted_ids |= values
            elif key == "PingStatus":
                wanted_ping |= values
        for f in body.get("Filters") or []:
            key, values = f.get("Key", ""), set(f.get("Values") or [])
            if key == "InstanceIds":
                wanted_ids |= values
            elif key == "PingStatus":
                wanted_ping |= values
            elif key.startswith("tag:"):
                tag_filters[key[4:]] = values
        items = []
        for inst in self.instances(call.region):
            info = self.info(inst, call.region)
            if wanted_ids and info["InstanceId"] not in wanted_ids:
                continue
            if wanted_ping and info["PingStatus"] not in wanted_ping:
                continue
            if any(tags_of(inst).get(k) not in v for k, v in tag_filters.items()):
                continue
            items.append(info)
        if body.get("InstanceInformationFilterList") and body.get("Filters"):
            return json_error("ValidationException",
                              "InstanceInformationFilterList and Filters cannot be used together.")
        # AWS's page: 10 by default, MaxResults 5-50 (botocore's model, which checks only the minimum client-side);
        # a caller reading one page misses the rest
        size = int(body.get("MaxResults") or INSTANCE_INFORMATION_PAGE)
        if not 5 <= size <= 50:
            bound = "less than or equal to 50" if size > 50 else "greater than or equal to 5"
            return json_error("ValidationException", f"1 validation error detected: Value '{size}' at 'maxResults' "
                              f"failed to satisfy constraint: Member must have value {bound}")
        return json_reply(page(items, body, "InstanceInformationList", default=INSTANCE_INFORMATION_PAGE))

    # ---- patch states ----------------------------------------------------------------------------------------------
    @handles("ssm", "DescribeInstancePatchStates")
    def describe_instance_patch_states(self, call: Call) -> Reply:
        ids = call.json.get("InstanceIds") or []
        by_id = {i.id: i for i in self.instances(call.region)}
        states = [self.patch_state(by_id[i], call.region) for i in ids if i in by_id]
        return json_reply(page(states, call.json, "InstancePatchStates", default=50))

    @handles("ssm", "DescribeInstancePatchStatesForPatchGroup")
    def describe_instance_patch_states_for_patch_group(self, call: Call) -> Reply:
        group = call.json.get("PatchGroup")
        states = [self.patch_state(i, call.region) for i in self.instances(call.region) if patch_group(i) == group]
        for f in call.json.get("Filters") or []:
            states = [s for s in states if _count_filter(s, f)]
        return json_reply(page(states, call.json, "InstancePatchStates", default=50))

    @handles("ssm", "DescribeInstancePatches")
    def describe_instance_patches(self, call: Call) -> Reply:
        inst = {i.id: i for i in self.instances(call.region)}.get(call.json.get("InstanceId"))
        if inst is None:
            return json_error("InvalidInstanceId", f"Instance {call.json.get('InstanceId')} is not managed by SSM")
        patches = self.patches(inst, call.region)
        for f in call.json.get("Filters") or []:
            field_name = {"State": "State", "Classification": "Classification", "Severity": "Severity",
                          "KBId": "KBId"}.get(f.get("Key"))
            if field_name:
                patches = [p for p in patches if p[field_name] in (f.get("Values") or [])]
        # The State filter takes "InstalledOther"; the answer says "INSTALLED_OTHER" (botocore's PatchComplianceDataState)
        patches = [{**p, "State": re.sub(r"(?<!^)(?=[A-Z])", "_", p["State"]).upper()} for p in patches]
        return json_reply(page(patches, call.json, "Patches", default=50))

    @handles("ssm", "DescribePatchGroupState")
    def describe_patch_group_state(self, call: Call) -> Reply:
        group = call.json.get("PatchGroup")
        states = [self.patch_state(i, call.region) for i in self.instances(call.region) if patch_group(i) == group]

        def having(field):
            return sum(1 for s in states if s.get(field, 0) > 0)

        return json_reply({
            "Instances": len(states),
            "InstancesWithInstalledPatches": having("InstalledCount"),
            "InstancesWithInstalledOtherPatches": having("InstalledOtherCount"),
            "InstancesWithInstalledPendingRebootPatches": having("InstalledPendingRebootCount"),
            "InstancesWithInstalledRejectedPatches": having("InstalledRejectedCount"),
            "InstancesWithMissingPatches": having("MissingCount"),
            "InstancesWithFailedPatches": having("FailedCount"),
            "InstancesWithNotApplicablePatches": having("NotApplicableCount"),
            "InstancesWithUnreportedNotApplicablePatches": having("UnreportedNotApplicableCount"),
            "InstancesWithCriticalNonCompliantPatches": having("CriticalNonCompliantCount"),
            "InstancesWithSecurityNonCompliantPatches": having("SecurityNonCompliantCount"),
            "InstancesWithOtherNonCompliantPatches": having("OtherNonCompliantCount"),
            "InstancesWithAvailableSecurityUpdates": having("AvailableSecurityUpdateCount"),
        })

    # ---- compliance -------------------------------------------------------------------------------------------------
    @handles("ssm", "ListComplianceItems")
    def list_compliance_items(self, call: Call) -> Reply:
        body = call.json
        ids = set(body.get("ResourceIds") or [])
        items = []
        for inst in self.instances(call.region):
            if ids and inst.id not in ids:
                continue
            items += self.compliance_items(inst, call.region)
        items = [i for i in items if all(_item_filter(i, f) for f in body.get("Filters") or [])]
        return json_reply(page(items, body, "ComplianceItems", default=10))

    @handles("ssm", "ListResourceComplianceSummaries")
    def list_resource_compliance_summaries(self, call: Call) -> Reply:
        summaries = [self.resource_summary(i, call.region) for i in self.instances(call.region)]
        summaries = [s for s in summaries if all(_item_filter(s, f) for f in call.json.get("Filters") or [])]
        return json_reply(page(summaries, call.json, "ResourceComplianceSummaryItems", default=10))

    @handles("ssm", "ListComplianceSummaries")
    def list_compliance_summaries(self, call: Call) -> Reply:
        summaries = [self.resource_summary(i, call.region) for i in self.instances(call.region)]
        compliant = [s for s in summaries if s["Status"] == "COMPLIANT"]
        non = [s for s in summaries if s["Status"] != "COMPLIANT"]

        def by_severity(rows):
            counts = {k: 0 for k in ("CriticalCount", "HighCount", "MediumCount", "LowCount", "InformationalCount",
                                     "UnspecifiedCount")}
            for r in rows:
                counts[SEVERITY_COUNT.get(r["OverallSeverity"], "UnspecifiedCount")] += 1
            return counts

        item = {"ComplianceType": "Patch",
                "CompliantSummary": {"CompliantCount": len(compliant), "SeveritySummary": by_severity(compliant)},
                "NonCompliantSummary": {"NonCompliantCount": len(non), "SeveritySummary": by_severity(non)}}
        return json_reply({"ComplianceSummaryItems": [item] if summaries else []})

    # ---- baselines (moto keeps them; it only lacks GetPatchBaseline) -------------------------------------------------
    @handles("ssm", "GetPatchBaseline")
    def get_patch_baseline(self, call: Call) -> Reply:
        backend = moto_backend("ssm", call.region)
        baseline_id = call.json.get("BaselineId", "")
        baseline = backend.baselines.get(baseline_id.rsplit("/", 1)[-1])
        if baseline is None:
            return json_error("DoesNotExistException", f"Patch Baseline {baseline_id} does not exist.")
        data = {k: v for k, v in baseline.to_json().items() if v is not None}
        data.pop("DefaultBaseline", None)
        data["Name"] = data.pop("BaselineName")
        if "BaselineDescription" in data:
            data["Description"] = data.pop("BaselineDescription")
        data["PatchGroups"] = sorted(g for g, grp in backend.patch_groups.items()
                                     if baseline.id in grp.associations.values())
        if isinstance(data.get("GlobalFilters"), dict):  # PatchFilters is required (botocore's PatchFilterGroup)
            data["GlobalFilters"].setdefault("PatchFilters", [])
        data.setdefault("ApprovedPatches", [])
        data.setdefault("RejectedPatches", [])
        data.setdefault("ApprovedPatchesComplianceLevel", "UNSPECIFIED")
        data.setdefault("RejectedPatchesAction", "ALLOW_AS_DEPENDENCY")
        created = getattr(baseline, "opsproof_created", None) or now()
        baseline.opsproof_created = created
        data["CreatedDate"] = data["ModifiedDate"] = created
        return json_reply(data)

    # ---- updates moto lacks (the API a person uses to change a baseline or a window) ----------------------------------
    @handles("ssm", "UpdatePatchBaseline")
    def update_patch_baseline(self, call: Call) -> Reply:
        backend = moto_backend("ssm", call.region)
        body = call.json
        baseline = backend.baselines.get(str(body.get("BaselineId", "")).rsplit("/", 1)[-1])
        if baseline is None:
            return json_error("DoesNotExistException", f"Patch Baseline {body.get('BaselineId')} does not exist.")
        for key, attr in (("Name", "name"), ("GlobalFilters", "global_filters"), ("ApprovalRules", "approval_rules"),
                          ("ApprovedPatches", "approved_patches"), ("RejectedPatches", "rejected_patches"),
                          ("ApprovedPatchesComplianceLevel", "approved_patches_compliance_level"),
                          ("RejectedPatchesAction", "rejected_patches_action"), ("Description", "description"),
                          ("Sources", "sources")):
            if key in body:
                setattr(baseline, attr, body[key])
        baseline.opsproof_created = getattr(baseline, "opsproof_created", None) or now()
        data = {k: v for k, v in baseline.to_json().items() if v is not None}
        data.pop("DefaultBaseline", None)
        data["Name"] = data.pop("BaselineName")
        data["CreatedDate"], data["ModifiedDate"] = baseline.opsproof_created, now()
        return json_reply(data)

    @handles("ssm", "UpdateMaintenanceWindow")
    def update_maintenance_window(self, call: Call) -> Reply:
        backend = moto_backend("ssm", call.region)
        body = call.json
        window = backend.windows.get(body.get("WindowId", ""))
        if window is None:
            return json_error("DoesNotExistException", f"Maintenance window {body.get('WindowId')} does not exist.")
        for key, attr in (("Name", "name"), ("Description", "description"), ("Schedule", "schedule"),
                          ("ScheduleTimezone", "schedule_timezone"), ("ScheduleOffset", "schedule_offset"),
                          ("Duration", "duration"), ("Cutoff", "cutoff"), ("StartDate", "start_date"),
                          ("EndDate", "end_date")):
            if key in body:
                setattr(window, attr, body[key])
        data = {k: v for k, v in window.to_json().items() if v is not None}
        return json_reply(data)

    # ---- the model ---------------------------------------------------------------------------------------------------
    def instances(self, region: str) -> list:
        ec2 = moto_backend("ec2", region)
        found = []
        for inst in ec2.all_instances():
            if inst.state in ("terminated", "shutting-down"):
                continue
            if self.override(inst.id).get("managed", True):
                found.append(inst)
        return sorted(found, key=lambda i: i.id)

    def override(self, instance_id: str) -> dict:
        with self.lock:
            return dict(self.state["instances"].get(instance_id, {}))

    def info(self, inst, region: str) -> dict:
        o = self.override(inst.id)
        ping = o.get("pingStatus") or ("Online" if inst.state == "running" else "ConnectionLost")
        last_ping = now() - dt.timedelta(minutes=1) if ping == "Online" else now() - dt.timedelta(hours=6)
        end = self.operation_end(inst, region)
        return {
            "InstanceId": inst.id, "PingStatus": ping, "LastPingDateTime": last_ping, "AgentVersion": AGENT_VERSION,
            "IsLatestVersion": True, "PlatformType": "Linux", "PlatformName": "Amazon Linux", "PlatformVersion": "2",
            "ResourceType": "EC2Instance", "IPAddress": inst.private_ip,
            "ComputerName": f"ip-{inst.private_ip.replace('.', '-')}.ec2.internal" if inst.private_ip else inst.id,
            "AssociationStatus": "Success", "LastAssociationExecutionDate": end,
            "LastSuccessfulAssociationExecutionDate": end,
        }

    def counts(self, inst) -> dict:
        o = self.override(inst.id)
        seed = int(hashlib.sha1(inst.id.encode()).hexdigest()[:6], 16)
        base = {"installed": 380 + seed % 40, "installedOther": 12 + seed % 9, "installedPendingReboot": 0,
                "installedRejected": 0, "missing": 0, "failed": 0, "notApplicable": 1250 + seed % 90}
        return {k: o.get(k, v) for k, v in base.items()}

    def operation_end(self, inst, region: str) -> dt.datetime:
        o = self.override(inst.id)
        if "operationEndTime" in o:
            return parse_time(o["operationEndTime"])
        if "operationAgeHours" in o:
            return now() - dt.timedelta(hours=o["operationAgeHours"])
        return last_window_run(region) + dt.timedelta(minutes=35)

    def install_end(self, inst, region: str) -> dt.datetime:
        """When the last Install operation ended: the latest operation's end unless a Scan came after it."""
        o = self.override(inst.id)
        if "lastInstallTime" in o:
            return parse_time(o["lastInstallTime"])
        return self.operation_end(inst, region)

    def patch_state(self, inst, region: str) -> dict:
        o = self.override(inst.id)
        c = self.counts(inst)
        end = self.operation_end(inst, region)
        patches = self.patches(inst, region)
        non_compliant = [p for p in patches if p["State"] in ("Missing", "Failed", "InstalledPendingReboot")]
        group = patch_group(inst)
        state = {
            "InstanceId": inst.id,
            "PatchGroup": group or "",
            "BaselineId": self.baseline_id(group, o.get("operatingSystem", "AMAZON_LINUX_2"), region),
            "OwnerInformation": "",
            "InstalledCount": c["installed"],
            "InstalledOtherCount": c["installedOther"],
            "InstalledPendingRebootCount": c["installedPendingReboot"],
            "InstalledRejectedCount": c["installedRejected"],
            "MissingCount": c["missing"],
            "FailedCount": c["failed"],
            "UnreportedNotApplicableCount": 0,
            "NotApplicableCount": c["notApplicable"],
            "AvailableSecurityUpdateCount": 0,
            "OperationStartTime": end - dt.timedelta(minutes=20),
            "OperationEndTime": end,
            "Operation": o.get("operation", "Install"),
            "RebootOption": o.get("rebootOption", "RebootIfNeeded"),
            "CriticalNonCompliantCount": sum(1 for p in non_compliant if p["Severity"] == "Critical"),
            "SecurityNonCompliantCount": sum(1 for p in non_compliant if p["Classification"] == "Security"),
            "OtherNonCompliantCount": sum(1 for p in non_compliant if p["Classification"] != "Security"),
        }
        if state["RebootOption"] == "NoReboot":
            state["LastNoRebootInstallOperationTime"] = self.install_end(inst, region)
        if group is None:
            state.pop("PatchGroup")
        return state

    def baseline_id(self, group: str | None, operating_system: str, region: str) -> str:
        backend = moto_backend("ssm", region)
        grp = backend.patch_groups.get(group) if group else None
        if grp is not None and operating_system in grp.associations:
            return grp.associations[operating_system]
        from moto.ssm.models import FakePatchGroup

        return FakePatchGroup("default", region).associations.get(operating_system, "")

    def patches(self, inst, region: str) -> list[dict]:
        """Synthesised patches matching the counts (NotApplicable ones are only counted)."""
        c = self.counts(inst)
        end = self.install_end(inst, region)  # a patch was installed by an Install, never by a later Scan
        rows = []
        n = 0
        kinds = (("Installed", c["installed"], True), ("InstalledOther", c["installedOther"], True),
                 ("InstalledPendingReboot", c["installedPendingReboot"], True),
                 ("InstalledRejected", c["installedRejected"], True),
                 ("Missing", c["missing"], False), ("Failed", c["failed"], False))
        never = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        for state, count, installed in kinds:
            for _ in range(count):
                n += 1
                pkg = PACKAGES[n % len(PACKAGES)]
                other = state == "InstalledOther"
                rows.append({
                    "Title": f"{pkg}-{1 + n % 7}.{n % 30}.{n}-1.amzn2.x86_64",
                    "KBId": f"ALAS2-{end.year}-{2000 + n}",
                    "Classification": "Bugfix" if other else "Security",
                    "Severity": "Medium" if other else ("Critical" if n % 3 == 0 else "Important"),
                    "State": state,
                    "InstalledTime": end - dt.timedelta(days=n % 60) if installed else never,
                    "CVEIds": f"CVE-{end.year}-{10000 + n}" if not other else "",
                })
        return rows

    def compliance_items(self, inst, region: str) -> list[dict]:
        end = self.operation_end(inst, region)
        summary = {"ExecutionTime": end, "ExecutionId": f"{inst.id}-patch", "ExecutionType": "Command"}
        items = []
        for p in self.patches(inst, region):
            bad = p["State"] in ("Missing", "Failed", "InstalledPendingReboot")
            items.append({
                "ComplianceType": "Patch", "ResourceType": "ManagedInstance", "ResourceId": inst.id,
                "Id": p["KBId"], "Title": p["Title"], "Status": "NON_COMPLIANT" if bad else "COMPLIANT",
                "Severity": COMPLIANCE_SEVERITY.get(p["Severity"], "UNSPECIFIED") if bad else "UNSPECIFIED",
                "ExecutionSummary": summary,
                "Details": {"Classification": p["Classification"], "PatchSeverity": p["Severity"],
                            "PatchState": p["State"], "InstalledTime": str(p["InstalledTime"])},
            })
        return items

    def resource_summary(self, inst, region: str) -> dict:
        items = self.compliance_items(inst, region)
        bad = [i for i in items if i["Status"] == "NON_COMPLIANT"]
        good = len(items) - len(bad)
        worst = next((s for s in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")
                      if any(i["Severity"] == s for i in bad)), "UNSPECIFIED")
        sev = {k: 0 for k in ("CriticalCount", "HighCount", "MediumCount", "LowCount", "InformationalCount",
                              "UnspecifiedCount")}
        for i in bad:
            sev[SEVERITY_COUNT.get(i["Severity"], "UnspecifiedCount")] += 1
        return {
            "ComplianceType": "Patch", "ResourceType": "ManagedInstance", "ResourceId": inst.id,
            "Status": "NON_COMPLIANT" if bad else "COMPLIANT", "OverallSeverity": worst,
            "ExecutionSummary": items[0]["ExecutionSummary"] if items else
            {"ExecutionTime": self.operation_end(inst, region)},
            "CompliantSummary": {"CompliantCount": good, "SeveritySummary": {**{k: 0 for k in sev},
                                                                              "UnspecifiedCount": good}},
            "NonCompliantSummary": {"NonCompliantCount": len(bad), "SeveritySummary": sev},
        }

    # ---- admin -------------------------------------------------------------------------------------------------------
    @admin("ssm/patch-state")
    def set_patch_state(self, payload: dict) -> dict:
        region = payload.get("region", "us-east-1")
        if "instance_id" in payload:
            ids = [need(payload, "instance_id")]
        elif "instance_ids" in payload:
            ids = need(payload, "instance_ids", list)
        elif "patch_group" in payload:
            group = need(payload, "patch_group")
            ids = [i.id for i in moto_backend("ec2", region).all_instances() if patch_group(i) == group]
            if not ids:
                raise AdminError(f"no instance is tagged Patch Group={group}", 404)
        else:
            raise AdminError("give instance_id, instance_ids or patch_group")
        fields = {}
        for key, value in payload.items():
            if key in ("instance_id", "instance_ids", "patch_group", "region", "clear"):
                continue
            if key not in FIELDS:
                raise AdminError(f"unknown field {key!r} (known: {', '.join(FIELDS)})")
            need(payload, key, FIELDS[key])
            fields[key] = value
        for key in ("operationEndTime", "lastInstallTime"):
            if key in fields:
                parse_time(fields[key])
        if fields.get("rebootOption", "NoReboot") not in ("RebootIfNeeded", "NoReboot"):
            raise AdminError("rebootOption must be RebootIfNeeded or NoReboot")
        with self.lock:
            for i in ids:
                if payload.get("clear"):
                    self.state["instances"].pop(i, None)
                else:
                    merged = {**self.state["instances"].get(i, {}), **fields}
                    if "operationEndTime" in fields:
                        merged.pop("operationAgeHours", None)
                    if "operationAgeHours" in fields:
                        merged.pop("operationEndTime", None)
                    self.state["instances"][i] = merged
            return {"instances": {i: self.state["instances"].get(i) for i in ids}}


SEVERITY_COUNT = {"CRITICAL": "CriticalCount", "HIGH": "HighCount", "MEDIUM": "MediumCount", "LOW": "LowCount",
                  "INFORMATIONAL": "InformationalCount"}
COMPLIANCE_SEVERITY = {"Critical": "CRITICAL", "Important": "HIGH", "Medium": "MEDIUM", "Low": "LOW"}
"""A patch's vendor severity as a compliance severity."""


def tags_of(inst) -> dict[str, str]:
    return {t["key"]: t["value"] for t in inst.get_tags()} if hasattr(inst, "get_tags") else {}


def patch_group(inst) -> str | None:
    tags = tags_of(inst)
    return next((tags[k] for k in PATCH_GROUP_TAGS if k in tags), None)


def last_window_run(region: str) -> dt.datetime:
    """The latest start of the maintenance window (weekly/daily cron), else the latest Sunday 04:00 UTC."""
    minute, hour, weekday = 0, 4, DAYS["SUN"]
    for window in moto_backend("ssm", region).windows.values():
        m = re.fullmatch(r"cron\((\d+) (\d+) [?*] \* ([A-Z]{3}|[?*]) \*\)", (window.schedule or "").strip())
        if m:
            minute, hour = int(m.group(1)), int(m.group(2))
            weekday = DAYS.get(m.group(3))
            break
    t = now().replace(hour=hour, minute=minute, second=0, microsecond=0)
    if weekday is None:  # daily
        return t if t <= now() else t - dt.timedelta(days=1)
    t -= dt.timedelta(days=(t.weekday() - weekday) % 7)
    return t if t <= now() else t - dt.timedelta(days=7)


def page(items: list, body: dict, key: str, default: int) -> dict:
    """AWS-style pagination: MaxResults and an opaque NextToken (here, an offset)."""
    try:
        start = int(body.get("NextToken") or 0)
    except ValueError:
        start = 0
    size = int(body.get("MaxResults") or default)
    out = {key: items[start:start + size]}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return out


def _count_filter(state: dict, f: dict) -> bool:
    key, values, kind = f.get("Key"), f.get("Values") or [], f.get("Type", "Equal")
    if key not in state or not values:
        return True
    actual, wanted = state[key], values[0]
    if isinstance(actual, int):
        wanted = int(wanted)
    return {"Equal": actual == wanted, "NotEqual": actual != wanted, "LessThan": actual < wanted,
            "GreaterThan": actual > wanted}.get(kind, True)


def _item_filter(item: dict, f: dict) -> bool:
    key, values, kind = f.get("Key"), f.get("Values") or [], f.get("Type", "EQUAL")
    actual = {"ComplianceType": item.get("ComplianceType"), "Status": item.get("Status"),
              "Severity": item.get("Severity") or item.get("OverallSeverity"), "ResourceId": item.get("ResourceId"),
              "ResourceType": item.get("ResourceType"), "OverallSeverity": item.get("OverallSeverity")}.get(key)
    if actual is None or not values:
        return True
    return (actual in values) if kind != "NOT_EQUAL" else (actual not in values)
