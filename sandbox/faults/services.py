"""Faults of the services area."""

from . import fault


@fault("smoke-endpoint-error", area="services", part="web")
class SmokeEndpointError:
    """The API's health endpoint answers 503."""

    def apply(self, sb):
        sb.set_web_state(health_status=503)

    def heal(self, sb):
        sb.set_web_state(health_status=None)


@fault("smoke-endpoint-slow", area="services", part="web")
class SmokeEndpointSlow:
    """The API's health endpoint answers, but only after 1.6 s (its budget is 1 s)."""

    def apply(self, sb):
        sb.set_web_state(health_delay_s=1.6)

    def heal(self, sb):
        sb.set_web_state(health_delay_s=None)
