"""Rows to domain structs: the tables name their columns after the structs' fields, so one conversion serves."""

from __future__ import annotations

from typing import Any, TypeVar

import asyncpg
import msgspec

S = TypeVar("S", bound=msgspec.Struct)


def from_row(kind: type[S], row: asyncpg.Record | dict[str, Any]) -> S:
    """The `kind` whose fields the row's columns of the same names hold (other columns are ignored).

    msgspec turns the values into the fields' types (text into enums, arrays into tuples, jsonb into
    nested structs), and a row that cannot be one raises msgspec.ValidationError naming the column.
    """
    return msgspec.convert(dict(row), kind)
