from .base import Section


class Capacity(Section):
    """Capacity planning: metrics, forecast horizons, thresholds."""
