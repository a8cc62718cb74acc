"""opsproof: the library behind the suite. Probes measure, config describes targets; nothing here imports pytest."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The project folder: environments/, reports/ and the sandbox's state live under it."""
