"""Faults of the certificates area."""

import datetime as dt

from .. import tls
from . import fault


@fault("expired-certificate", area="certificates", part="web")
class ExpiredCertificate:
    """The TLS endpoint serves a certificate for its name that expired yesterday."""

    def apply(self, sb):
        now = dt.datetime.now(dt.timezone.utc)
        ca = tls.ensure(sb.tls_dir)
        tls.issue(ca, sb.tls_dir, "expired", tls.LEAVES["api"], not_before=now - dt.timedelta(days=366),
                  not_after=now - dt.timedelta(days=1))
        sb.set_web_state(tls_leaf="expired")

    def heal(self, sb):
        sb.set_web_state(tls_leaf=None)
