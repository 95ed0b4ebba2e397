"""Sample instances of any storable message, built from its type information.

New message types appended to the domain modules get samples with no change here, so
the round-trip tests cover them automatically.
"""

from __future__ import annotations

import enum
from typing import Any

import msgspec
from msgspec import inspect

from spreadwire.domain.values import Money, Price, Quantity

_VALUES: dict[type, Any] = {
    Price: Price.parse("101.25"),
    Quantity: Quantity.parse("3"),
    Money: Money.parse("12.50", "USD"),
}


def _value(info: inspect.Type) -> Any:
    match info:
        case inspect.StructType(cls=cls) if cls in _VALUES:
            return _VALUES[cls]
        case inspect.StructType(cls=cls):
            return sample(cls)
        case inspect.UnionType(types=types):
            return _value(next(t for t in types if not isinstance(t, inspect.NoneType)))
        case inspect.LiteralType(values=values):
            return values[0]
        case inspect.EnumType(cls=cls):
            return next(iter(cls)) if issubclass(cls, enum.Enum) else None
    return _scalar(info)


def _scalar(info: inspect.Type) -> Any:
    match info:
        case inspect.StrType():
            return "x1"
        case inspect.BoolType():
            return True
        case inspect.IntType():
            return 7
        case inspect.FloatType():
            return 1.5
        case inspect.TupleType() | inspect.VarTupleType() | inspect.ListType():
            return ()
        case inspect.DictType():
            return {}
    raise TypeError(f"no sample value for {info}")


def sample(cls: type[msgspec.Struct]) -> Any:
    """An instance of ``cls`` with every field set (optional ones included)."""
    info = inspect.type_info(cls)
    assert isinstance(info, inspect.StructType)
    return cls(**{field.name: _value(field.type) for field in info.fields})
