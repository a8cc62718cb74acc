"""The runbook's post-maintenance "Verify all services healthy", "Run smoke tests" and "Check monitoring dashboards
(30 minutes)" as rules over the ECS services (opsproof/probes/ecs.py), the target groups (elbv2.py), the CloudWatch
alarms (cloudwatch.py), the API's answers (http.py, smoke.py) and the [services] section."""

from ..config.services import Api, Ecs, LoadBalancing, Monitoring, Smoke
from ..config.window import format_duration
from ..findings import ERROR, Finding, alarm, ok
from ..probes import ecs, images
from ..probes.cloudwatch import Alarm, Transition
from ..probes.elbv2 import TargetHealth
from ..probes.http import Response
from ..probes.smoke import SmokeResult

FORCE_DEPLOY = "python -m actions force-deploy --services {service} --apply"


# ---- ECS --------------------------------------------------------------------------------------------------------------
def rollout(found: list[ecs.ServiceState], cfg: Ecs) -> list[Finding]:
    """Each service finished its rollout (ServiceState.rollout_finished), after waiting up to settle_s."""
    out = []
    for s in found:
        if s.rollout_finished:
            out.append(ok(s.name, s.rollout_summary, measured=s.rollout_state))
            continue
        why = f" ({s.primary.reason})" if s.primary and s.primary.reason else ""
        out.append(alarm(s.name, f"{s.status + ' ' if s.status != 'ACTIVE' else ''}{s.rollout_summary}{why}: "
                         f"rollout not finished after {cfg.settle_s:g}s", measured=s.rollout_state,
                         limit="COMPLETED", key="services.ecs.settle_s"))
    return out


def not_rolled_back(found: list[ecs.ServiceState], cfg: Ecs) -> list[Finding]:
    """No deployment FAILED and no circuit-breaker rollback event within rollback_lookback (the probe kept only
    those): each is its own alarm (two events at most per service)."""
    lookback = format_duration(cfg.rollback_lookback)
    out = []
    for s in found:
        wrong = [alarm(s.name, f"deployment {d.id} {d.rollout_state} ({d.reason})", measured=d.rollout_state,
                       fix=FORCE_DEPLOY.format(service=s.name) + " once the cause is fixed")
                 for d in s.failed_deployments]
        wrong += [alarm(s.name, f"{e.message} at {e.at}, within {lookback}", key="services.ecs.rollback_lookback")
                  for e in s.rollbacks[:2]]
        out += wrong or [ok(s.name, f"no failed deployment or rollback within {lookback}")]
    return out


def steady(s: ecs.ServiceState) -> bool:
    """ACTIVE, running its desired count, nothing pending: what desired_count judges (and a check waits for)."""
    return s.status == "ACTIVE" and s.running >= s.desired and s.pending == 0


def desired_count(found: list[ecs.ServiceState], cfg: Ecs) -> list[Finding]:
    """Each service is ACTIVE and runs its desired count with nothing pending (after settle_s)."""
    out = []
    for s in found:
        if steady(s):
            out.append(ok(s.name, f"runs {s.running} of {s.desired} desired", measured=s.running, limit=s.desired))
        elif s.status != "ACTIVE":
            out.append(alarm(s.name, f"is {s.status}", measured=s.status, limit="ACTIVE"))
        else:
            out.append(alarm(s.name, f"runs {s.running} of {s.desired} desired ({s.pending} pending) after "
                             f"{cfg.settle_s:g}s", measured=s.running, limit=s.desired, key="services.ecs.settle_s"))
    return out


def minimums(judged: list[ecs.Minimum]) -> list[Finding]:
    """Each service runs at least its minimum (configured, Auto Scaling's MinCapacity or 1): a service scaled to
    0 runs all it is asked to, and serves nothing."""
    return [ok(m.service, f"runs {m.running}, minimum {m.minimum} ({m.source})", measured=m.running,
               limit=m.minimum) if m.ok else
            alarm(m.service, f"runs {m.running} (desired {m.desired}), below its minimum {m.minimum} ({m.source})",
                  measured=m.running, limit=m.minimum, key="services.ecs.services.min_running",
                  fix=f"aws ecs update-service --service {m.service} --desired-count {m.minimum}")
            for m in judged]


def expected_images(found: list[ecs.ServiceState], cfg: Ecs) -> list[Finding]:
    """Each service whose expected image is known (its own image, else expected_tag) runs only that image."""
    own = {s.name: s.image for s in cfg.services}
    out = []
    for s in found:
        expected = own.get(s.name) or cfg.expected_tag
        refs = [images.parse_image(i) for i in s.images]
        running = ", ".join(r.short for r in refs) or "no image"
        if not expected:
            out.append(ok(s.name, f"runs {running} (no expected image)", measured=running))
        elif refs and all(images.image_matches(r, expected) for r in refs):
            out.append(ok(s.name, f"runs {running}", measured=running, limit=expected))
        else:
            out.append(alarm(s.name, f"runs {running}, expected {expected}", measured=running, limit=expected,
                             key="services.ecs.services.image" if own.get(s.name) else "services.ecs.expected_tag",
                             fix=FORCE_DEPLOY.format(service=s.name)))
    return out


# ---- load balancer targets --------------------------------------------------------------------------------------------
def targets(found: list[TargetHealth], cfg: LoadBalancing, waited_s: float) -> list[Finding]:
    """Every registered target healthy once settling ones (draining, initial) were waited for (``waited_s``, up
    to settle_s), and each target group has at least min_targets targets that are not draining away."""
    out = []
    for t in found:
        subject = f"{t.target_group} target {t.target}"
        why = f" ({t.reason}: {t.description})" if t.reason else ""
        if t.healthy:
            out.append(ok(subject, "healthy", measured=t.state))
        elif t.settling:
            out.append(alarm(subject, f"still {t.state} after {waited_s:.0f} s{why}", measured=waited_s,
                             limit=cfg.settle_s, key="services.load_balancing.settle_s"))
        else:
            out.append(alarm(subject, f"{t.state}{why}", measured=t.state, limit="healthy"))
    for name in cfg.target_groups:
        n = sum(1 for t in found if (t.target_group == name or name.endswith(f"/{t.target_group}"))
                and t.state != "draining")
        if n < cfg.min_targets:
            out.append(alarm(name, f"{n} registered target(s) not draining, fewer than {cfg.min_targets}",
                             measured=n, limit=cfg.min_targets, key="services.load_balancing.min_targets"))
        else:
            out.append(ok(name, f"{n} registered target(s)", measured=n, limit=cfg.min_targets))
    return out


# ---- CloudWatch alarms ------------------------------------------------------------------------------------------------
def _firing(a: Alarm, cfg: Monitoring) -> bool:
    insufficient = cfg.insufficient_data_fails
    return a.state == "ALARM" or (a.state == "INSUFFICIENT_DATA" and ("*" in insufficient or a.name in insufficient))


def alarms(found: list[Alarm], missing: list[str], cfg: Monitoring) -> list[Finding]:
    """Every configured alarm exists and is not in ALARM (nor INSUFFICIENT_DATA where insufficient_data_fails
    says so)."""
    out = [alarm(n, "alarm not found", key="services.monitoring.alarms") for n in missing]
    for a in found:
        if _firing(a, cfg):
            out.append(alarm(a.name, f"is {a.state} since {a.updated_at}: {a.reason}", measured=a.state,
                             limit="OK", key="services.monitoring.insufficient_data_fails"
                             if a.state == "INSUFFICIENT_DATA" else "services.monitoring.alarms"))
        else:
            out.append(ok(a.name, f"is {a.state}", measured=a.state))
    return out


def watched(found: list[Alarm], history: list[Transition], cfg: Monitoring) -> list[Finding]:
    """While watching: no alarm went into ALARM (even one back to OK by now), and none is firing at the end."""
    into = [t for t in history if t.new == "ALARM"]
    out = [alarm(t.alarm, f"went from {t.old} to {t.new} at {t.at} while watching", measured=t.new, limit="OK",
                 key="services.monitoring.watch") for t in into]
    went = {t.alarm for t in into}
    for a in found:
        if a.name in went:
            continue
        out.append(alarm(a.name, f"is {a.state} while watching", measured=a.state, limit="OK") if _firing(a, cfg)
                   else ok(a.name, f"stayed out of ALARM while watching (now {a.state})", measured=a.state))
    return out


# ---- the API ----------------------------------------------------------------------------------------------------------
def health(r: Response, api: Api) -> list[Finding]:
    """The health endpoint answers 200 within health_budget_s."""
    if r.status != 200:
        return [alarm(r.url, f"answered {r.status}: {r.body[:120]}", measured=r.status, limit=200)]
    if r.elapsed_s > api.health_budget_s:
        return [alarm(r.url, f"took {r.elapsed_s:.2f}s, over its budget of {api.health_budget_s:g}s",
                      measured=r.elapsed_s, limit=api.health_budget_s, key="services.api.health_budget_s")]
    return [ok(r.url, f"answered 200 in {r.elapsed_s:.2f}s", measured=r.elapsed_s, limit=api.health_budget_s)]


def _request(r: SmokeResult) -> str:
    return f"{r.name} ({r.method} {r.url})"


def smoke_answers(results: list[SmokeResult], smoke: Smoke) -> list[Finding]:
    """Every smoke request answered its expected status and fragment within eventually_s of retries."""
    return [ok(_request(r), f"answered {r.status}", measured=r.status, limit=r.expected_status) if r.ok else
            alarm(_request(r), f"{r.problem} after {r.attempts} attempt(s) over {smoke.eventually_s:g}s",
                  measured=r.status, limit=r.expected_status, key="services.smoke.eventually_s")
            for r in results]


def smoke_latency(results: list[SmokeResult], smoke: Smoke) -> list[Finding]:
    """Each smoke request's p95 over `samples` requests is within its budget; one that could not be measured
    (it answered wrong) fails too."""
    out = []
    for r in results:
        if r.p95_ms is None:
            out.append(Finding(ERROR, _request(r), f"not measured: {r.problem}"))
        elif r.within_budget:
            out.append(ok(_request(r), f"p95 {r.p95_ms:g} ms", measured=r.p95_ms, limit=r.budget_ms))
        else:
            out.append(alarm(_request(r), f"p95 {'at least ' if r.stopped_early else ''}{r.p95_ms:g} ms over its "
                             f"budget of {r.budget_ms:g} ms ({smoke.samples} samples)", measured=r.p95_ms,
                             limit=r.budget_ms, key="services.smoke.requests.budget_s"))
    return out
