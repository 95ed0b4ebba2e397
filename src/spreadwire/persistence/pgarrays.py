"""PostgreSQL array parameters as text literals, built with one ``join`` per array.

psycopg adapts a Python list element by element in Python (it scans the list for the
element type, then calls a dumper per element): about 35 µs per appended row for the
nine ``unnest`` arrays of an append on the machine in ``docs/performance.md``, more than
the server spends inserting the row. These helpers build the array's text form
(``{1,2,3}``, ``{"a","b"}``, ``{"\\\\x0a0b"}``) in a few C-level string operations; the
statement casts the parameter (``%s::bigint[]``) and the server parses it with
``array_in``. Every element is double-quoted and ``\\``/``"`` are escaped, so any text
value round-trips (PostgreSQL text cannot hold NUL, which the server would reject).
"""

from __future__ import annotations

from collections.abc import Iterable


def int_array(values: Iterable[int]) -> str:
    """``{1,2,3}``: an ``int``/``bigint`` array literal."""
    return "{" + ",".join(map(str, values)) + "}"


def _quoted(value: str) -> str:
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + value + '"'


def text_array(values: Iterable[str]) -> str:
    """``{"a","b"}``: a ``text`` array literal; any characters but NUL."""
    return "{" + ",".join(map(_quoted, values)) + "}"


def bytea_array(values: Iterable[bytes | bytearray]) -> str:
    """``{"\\\\x0a0b"}``: a ``bytea`` array literal (hex format, escaped for the array)."""
    return "{" + ",".join('"\\\\x' + value.hex() + '"' for value in values) + "}"
