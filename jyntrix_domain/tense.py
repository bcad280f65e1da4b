"""Which way a message points in time, whatever its language: back (what happened) or forward (a plan)."""

from __future__ import annotations

import enum


class Tense(enum.StrEnum):
    """The direction a statement or question points in (`Language.tense_of`), and so a bare time phrase in it."""

    PAST = "past"
    FUTURE = "future"
