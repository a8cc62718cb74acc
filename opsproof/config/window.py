from .base import Section


class Window(Section):
    """The maintenance schedule and window runner."""
