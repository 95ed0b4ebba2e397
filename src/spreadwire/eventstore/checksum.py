"""Per-entry checksums: CRC-32 over every field of a stored entry.

The same function is used by every backend on write and by ``events verify`` and the
torn-tail check on read, so a checksum computed by one backend verifies on another.
"""

from __future__ import annotations

import zlib


def entry_checksum(
    position: int,
    stream: str,
    version: int,
    *,
    type_name: str,
    schema: int,
    ts: int,
    payload: bytes,
) -> int:
    """CRC-32 of the entry's header fields followed by its payload."""
    header = f"{position}\x1f{stream}\x1f{version}\x1f{type_name}\x1f{schema}\x1f{ts}\x1e"
    return zlib.crc32(payload, zlib.crc32(header.encode()))
