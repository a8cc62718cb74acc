"""Faults of the window area: the receivers a window notifies, the announcement, the credentials the T-24 h phase
verifies, and a regression against the baseline."""

from . import fault


@fault("webhook-down", area="window", part="web")
class WebhookDown:
    """The Slack-compatible webhook answers 503 to every post (a window must go on, recording the failure)."""

    def apply(self, sb):
        sb.set_web_state(webhook_status=503)

    def heal(self, sb):
        sb.set_web_state(webhook_status=None)


@fault("status-page-down", area="window", part="web")
class StatusPageDown:
    """The status page API answers 503: nothing can be read from it or posted to it."""

    def apply(self, sb):
        sb.set_web_state(statuspage_status=503)

    def heal(self, sb):
        sb.set_web_state(statuspage_status=None)


@fault("window-not-announced", area="window", part="web")
class WindowNotAnnounced:
    """The status page lists no upcoming maintenance: the next window was never announced (T-7 days)."""

    def apply(self, sb):
        sb.set_web_state(statuspage_hide_scheduled=True)

    def heal(self, sb):
        sb.set_web_state(statuspage_hide_scheduled=None)


@fault("api-latency-regression", area="window", part="web")
class ApiLatencyRegression:
    """Every API route answers 250 ms slower than before (within the health budget, but a p95 regression)."""

    def apply(self, sb):
        sb.set_web_state(api_delay_s=0.25)

    def heal(self, sb):
        sb.set_web_state(api_delay_s=None)


@fault("action-login-revoked", area="window", part="postgres")
class ActionLoginRevoked:
    """The maintenance role (opsproof_action) can no longer log in: the window's credentials do not work (T-24 h)."""

    def apply(self, sb):
        with sb.admin() as c:
            c.execute(f"ALTER ROLE {sb.env.database.action_user} NOLOGIN")

    def heal(self, sb):
        with sb.admin() as c:
            c.execute(f"ALTER ROLE {sb.env.database.action_user} LOGIN")
