"""Environment variables derived from config structs, so a field added to a struct is a setting at once.

A `Section` nests one config struct (the domain's RankingWeights, Budgets, RetrievalConfig, an
adapter's DramatiqConfig...) in Settings: each of its fields is read from `prefix + FIELD_NAME`,
or from the name in `renames` where today's name is irregular. The struct owns its defaults and
its checks; an invalid value stops start-up with an error naming the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import msgspec

from jyntrix_domain.errors import DomainError


class SettingsError(ValueError):
    """A configuration problem found at start-up; the message names the variable."""


class Section(NamedTuple):
    """A config struct nested in Settings under `field`, read from variables named `prefix + FIELD`."""

    field: str
    prefix: str
    renames: Mapping[str, str] = {}


def section_variables(section: Section, struct_type: type[msgspec.Struct]) -> dict[str, str]:
    """Variable name -> struct field name, for every field of the struct."""
    return {
        section.renames.get(f.name, section.prefix + f.name.upper()): f.name
        for f in msgspec.structs.fields(struct_type)
    }


def read_section(
    section: Section, struct_type: type[msgspec.Struct], raw: Mapping[str, Any], defaults: msgspec.Struct
) -> msgspec.Struct:
    """The struct from the variables set in `raw` (decoded from strings), the other fields from `defaults`."""
    names = section_variables(section, struct_type)
    given = {variable: raw[variable] for variable in names if variable in raw}
    if not given:
        return defaults
    try:
        return _convert(struct_type, defaults, {names[v]: value for v, value in given.items()})
    except msgspec.ValidationError as exc:
        field = _failed_field(exc)
        variable = next((v for v, name in names.items() if name == field), None)
        if variable is not None:
            raise SettingsError(f"{variable}={given.get(variable)!r} is invalid: {_problem(exc)}") from None
        raise SettingsError(f"{', '.join(given)}: {_problem(exc)}") from None
    except (DomainError, ValueError, TypeError) as exc:
        raise SettingsError(_blame(struct_type, defaults, names, given, exc)) from None


def _convert(struct_type: type[msgspec.Struct], defaults: msgspec.Struct, values: Mapping[str, Any]) -> msgspec.Struct:
    base = msgspec.structs.asdict(defaults)
    converted: msgspec.Struct = msgspec.convert({**base, **values}, struct_type, strict=False)
    return converted


def _blame(
    struct_type: type[msgspec.Struct],
    defaults: msgspec.Struct,
    names: Mapping[str, str],
    given: Mapping[str, Any],
    error: Exception,
) -> str:
    """Name the variables that break the struct's checks: those that fail alone, else all that were set."""
    culprits = []
    for variable, value in given.items():
        try:
            _convert(struct_type, defaults, {names[variable]: value})
        except (DomainError, ValueError, TypeError):
            culprits.append(variable)
    shown = culprits or list(given)
    return ", ".join(f"{v}={given[v]!r}" for v in shown) + f" is invalid: {error}"


def _failed_field(exc: msgspec.ValidationError) -> str | None:
    message = str(exc)
    if " - at `$." not in message:
        return None
    where = message.partition(" - at `$.")[2]
    return where.rstrip("`").split("[")[0].split(".")[0]


def _problem(exc: msgspec.ValidationError) -> str:
    return str(exc).partition(" - at `$.")[0]
