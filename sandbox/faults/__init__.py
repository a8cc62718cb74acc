"""Named faults: each breaks the sandbox in exactly one way a check guards against, and heals it.

Faults live in one module per area (database.py, backups.py, ...). A fault is a class registered with ``@fault``;
its docstring says what breaks and which check must catch it. ``python -m sandbox faults`` lists them all.

    @fault("expired-cert", area="certificates", part="web")
    class ExpiredCert:
        '''The TLS endpoint serves a certificate that expired yesterday.'''
        def apply(self, sb): ...
        def heal(self, sb): ...
"""

import importlib
from dataclasses import dataclass
from typing import Protocol

from ..state import Sandbox

from opsproof.vocabulary import AREAS


class FaultImpl(Protocol):
    def apply(self, sb: Sandbox) -> None: ...
    def heal(self, sb: Sandbox) -> None: ...


@dataclass(frozen=True)
class Fault:
    name: str
    area: str
    part: str
    """Which part of the sandbox holds the fault: postgres, aws or web. A restarted part forgets its faults."""
    summary: str
    impl: FaultImpl


REGISTRY: dict[str, Fault] = {}


PARTS = ("postgres", "aws", "web")


def fault(name: str, area: str, part: str = "aws"):
    """Register a fault class under its name; the first docstring line is its summary."""
    if part not in PARTS:
        raise ValueError(f"fault {name!r}: part must be one of {PARTS}")

    def register(cls):
        old = REGISTRY.get(name)
        if old and (type(old.impl).__module__, type(old.impl).__qualname__) != (cls.__module__, cls.__qualname__):
            raise ValueError(f"fault {name!r} registered twice: {type(old.impl).__module__} and {cls.__module__}")
        doc = (cls.__doc__ or "").strip().splitlines()
        REGISTRY[name] = Fault(name, area, part, doc[0] if doc else "", cls())
        return cls

    return register


def all_faults() -> dict[str, Fault]:
    for area in AREAS:
        importlib.import_module(f"{__name__}.{area}")
    return REGISTRY


class UnknownFault(KeyError):
    def __str__(self):
        return f"unknown fault {self.args[0]!r} (python -m sandbox faults lists them)"


def get(name: str) -> Fault:
    try:
        return all_faults()[name]
    except KeyError:
        raise UnknownFault(name) from None


def apply(sb: Sandbox, name: str) -> None:
    f = get(name)
    applied = sb.applied_faults()
    if name in applied:
        return
    f.impl.apply(sb)
    sb.record_faults(applied + [name])


def heal(sb: Sandbox, name: str | None = None) -> list[str]:
    """Heal one fault, or every applied fault (newest first). Returns what was healed."""
    applied = sb.applied_faults()
    targets = [name] if name else list(reversed(applied))
    if name:
        get(name)
    healed = []
    for n in targets:
        get(n).impl.heal(sb)
        healed.append(n)
        applied = [a for a in applied if a != n]
        sb.record_faults(applied)
    return healed
