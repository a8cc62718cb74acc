"""Probes measure; they never change a target. Each module holds one family of targets and returns typed values."""
