"""Durations as people read them, for progress lines in both faces."""

from __future__ import annotations


def format_duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    seconds = max(0, round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def format_eta(seconds: float | None) -> str:
    """``3 min 05 s left``; "" when the time left is not known yet."""
    return "" if seconds is None else f"{format_duration(seconds)} left"
