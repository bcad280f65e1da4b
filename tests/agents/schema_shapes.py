"""Reduce two JSON schemas (the served OpenAPI one, msgspec's for a client type) to comparable shapes.

A shape keeps what a client depends on: property names, which are required, and each value's kind (string and
its format, number, integer, boolean, null, enum values, array of, object of, map of); titles, descriptions,
defaults, examples and length limits are dropped.
"""

from __future__ import annotations

from typing import Any

import msgspec

Shape = Any


def shape(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Shape:
    if depth > 12:
        return "..."
    if "$ref" in schema:
        return shape(components[schema["$ref"].rsplit("/", 1)[-1]], components, depth + 1)
    for union in ("anyOf", "oneOf"):
        if union in schema:
            return ("union", frozenset(shape(s, components, depth + 1) for s in schema[union]))
    if "enum" in schema:
        return ("enum", frozenset(schema["enum"]))
    kind = schema.get("type")
    if isinstance(kind, list):
        return ("union", frozenset(shape({**schema, "type": k}, components, depth + 1) for k in kind))
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties")
        if properties:
            required = set(schema.get("required", ()))
            return (
                "object",
                tuple(
                    sorted((name, shape(s, components, depth + 1), name in required) for name, s in properties.items())
                ),
            )
        extra = schema.get("additionalProperties")
        return ("map", shape(extra, components, depth + 1) if isinstance(extra, dict) and extra else "any")
    if kind == "array":
        items = schema.get("items")
        return ("array", shape(items, components, depth + 1) if isinstance(items, dict) and items else "any")
    if kind == "string":
        return ("string", schema.get("format"))
    if kind in ("number", "integer", "boolean", "null"):
        return kind
    return "any"


def differences(served: Shape, ours: Shape, path: str = "$") -> list[str]:
    """Where two shapes differ, as readable paths."""
    if served == ours:
        return []
    if isinstance(served, tuple) and isinstance(ours, tuple) and served[0] == ours[0] == "object":
        a = {name: (s, req) for name, s, req in served[1]}
        b = {name: (s, req) for name, s, req in ours[1]}
        found = [f"{path}.{n}: served by the API, missing from the client" for n in sorted(a.keys() - b.keys())]
        found += [f"{path}.{n}: in the client, not served by the API" for n in sorted(b.keys() - a.keys())]
        for name in sorted(a.keys() & b.keys()):
            if a[name][1] != b[name][1]:
                found.append(f"{path}.{name}: required {a[name][1]} by the API, {b[name][1]} in the client")
            found += differences(a[name][0], b[name][0], f"{path}.{name}")
        return found
    if isinstance(served, tuple) and isinstance(ours, tuple) and served[0] == ours[0] and served[0] in ("array", "map"):
        return differences(served[1], ours[1], f"{path}[]")
    return [f"{path}: the API serves {served!r}, the client has {ours!r}"]


def type_shape(kind: Any, depth: int = 0) -> Shape:
    """The shape of a Python type as msgspec sees it (its JSON schema drops formats such as date-time)."""
    return _info_shape(msgspec.inspect.type_info(kind), depth)


def _info_shape(info: Any, depth: int) -> Shape:
    mi = msgspec.inspect
    if depth > 12:
        return "..."
    if isinstance(info, mi.Metadata):
        # An Annotated type (a description, a bound): its shape is the annotated type's.
        return _info_shape(info.type, depth)
    if isinstance(info, mi.StructType):
        return (
            "object",
            tuple(sorted((f.encode_name, _info_shape(f.type, depth + 1), f.required) for f in info.fields)),
        )
    if isinstance(info, mi.UnionType):
        return ("union", frozenset(_info_shape(t, depth + 1) for t in info.types))
    if isinstance(info, mi.EnumType):
        return ("enum", frozenset(member.value for member in info.cls))
    if isinstance(info, mi.LiteralType):
        return ("enum", frozenset(info.values))
    if isinstance(info, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        return ("array", _info_shape(info.item_type, depth + 1))
    if isinstance(info, mi.DictType):
        value = _info_shape(info.value_type, depth + 1)
        return ("map", value)
    if isinstance(info, mi.DateTimeType):
        return ("string", "date-time")
    if isinstance(info, mi.StrType):
        return ("string", None)
    simple = {mi.IntType: "integer", mi.FloatType: "number", mi.BoolType: "boolean", mi.NoneType: "null"}
    for cls, name in simple.items():
        if isinstance(info, cls):
            return name
    return "any"
