"""How much a producer may tell one person (configurable through settings; see notifications/worker.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    invitations_per_week: int = 3
    # Matched opportunities: at most this many per person in any 7 days, none scored below the threshold,
    # and at most ``matches_per_fact`` pushes (all people together) for one new or changed record.
    matches_per_week: int = 5
    match_min_score: float = 0.3
    matches_per_fact: int = 10
