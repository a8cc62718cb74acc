"""The run history: every run's results in a store (SQLite by default, PostgreSQL for a team), and what they say
over time (pass rates, flaky checks, checks never red, red-to-green times, trends of key measured values)."""

from .migrations import LATEST
from .store import Row, Run, Store, StoreError, is_url, open_store
from .summary import Summary, fragment, lines, summarize

__all__ = ["LATEST", "Row", "Run", "Store", "StoreError", "Summary", "fragment", "is_url", "lines", "open_store", "summarize"]
