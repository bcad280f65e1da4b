"""The attributes of the user, as slot families: what a question asks about, matched against what a memory holds.

Which relations and attributes a question names is read by the Language port (`kin_of`, `attributes_of`); here:
- `slot_family`: the attribute a fact's slot holds a value of. A job title and an employer are one attribute
  (`work`): "my previous job" is both the role and where it was; each relation is one family whatever the name.
- `family_slots`: its inverse, for the attributes of fixed slots.
"""

from __future__ import annotations

_FAMILIES = {"job": "work", "employer": "work", "birthplace": "hometown", "studies": "school"}


def family_slots(family: str) -> frozenset[str]:
    """The slots holding values of an attribute (`slot_family`'s inverse, for the attributes of fixed slots)."""
    return frozenset({family, *(slot for slot, of in _FAMILIES.items() if of == family)})


def slot_family(slot: str | None) -> str | None:
    """The attribute `slot` holds a value of: "job" and "employer" -> "work", "relation:cat:miso" ->
    "relation:cat"; any other slot is its own."""
    if slot is None:
        return None
    head, _, rest = slot.partition(":")
    if head == "relation":
        return f"relation:{rest.partition(':')[0]}"
    return _FAMILIES.get(slot, slot)
