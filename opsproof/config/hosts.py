from .base import Section


class Hosts(Section):
    """The fleet, as pytest-testinfra host specs (local://, ssh://user@host, ansible://group?...)."""

    specs: list[str] = ["local://"]
    ansible_inventory: str | None = None
