from .base import Section


class Secrets(Section):
    """Secrets Manager secrets and their maximum ages."""
