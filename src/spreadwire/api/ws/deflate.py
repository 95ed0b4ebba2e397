"""permessage-deflate (RFC 7692) for JSON clients, on top of the picows core.

picows' core API has no compression, but it exposes the frame's RSV1 bit both ways, so the
extension is done here with zlib: the server answers the client's offer in the upgrade
response, compresses each outgoing frame with a per-client raw-deflate stream (sync flush,
the trailing ``00 00 ff ff`` stripped) and inflates incoming frames that carry RSV1.
It is opt-in (``compression=deflate`` in the URL, JSON only): on small binary frames it
costs more than it saves.
"""

from __future__ import annotations

import zlib
from typing import Final, final

_TAIL: Final = b"\x00\x00\xff\xff"


@final
class DeflateParams:
    """What was agreed: the server's window bits and whether it resets per message."""

    __slots__ = ("header", "reset", "wbits")

    def __init__(self, header: str, wbits: int, reset: bool) -> None:
        self.header = header
        self.wbits = wbits
        self.reset = reset


def _accept(offer: str) -> DeflateParams | None:
    parts = [part.strip() for part in offer.split(";")]
    if parts[0] != "permessage-deflate":
        return None
    answer = ["permessage-deflate"]
    wbits = 15
    reset = False
    for param in parts[1:]:
        name, _, value = param.partition("=")
        name = name.strip()
        value = value.strip().strip('"')
        if name == "server_no_context_takeover" and not value:
            reset = True
            answer.append(name)
        elif name == "client_no_context_takeover" and not value:
            answer.append(name)
        elif name == "server_max_window_bits" and value.isdigit() and 9 <= int(value) <= 15:
            wbits = int(value)
            answer.append(f"{name}={wbits}")
        elif name == "client_max_window_bits" and (not value or value.isdigit()):
            continue  # we inflate with a full window, whatever the client uses
        else:
            return None
    return DeflateParams("; ".join(answer), wbits, reset)


def negotiate(offers: str | None) -> DeflateParams | None:
    """Accept the first permessage-deflate offer we can honour, else None."""
    if not offers:
        return None
    for offer in offers.split(","):
        params = _accept(offer)
        if params is not None:
            return params
    return None


@final
class Deflater:
    """Compress outgoing frames and inflate incoming ones for one connection."""

    __slots__ = ("_compressor", "_decompressor", "_params")

    def __init__(self, params: DeflateParams) -> None:
        self._params = params
        self._compressor = zlib.compressobj(wbits=-params.wbits)
        self._decompressor = zlib.decompressobj(wbits=-15)

    def compress(self, payload: bytes | bytearray | memoryview) -> bytes:
        if self._params.reset:
            self._compressor = zlib.compressobj(wbits=-self._params.wbits)
        data = self._compressor.compress(payload) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        return data[:-4] if data.endswith(_TAIL) else data

    def decompress(self, payload: bytes, max_length: int) -> bytes:
        """Inflate one message; :class:`ValueError` past ``max_length`` bytes or if corrupt."""
        try:
            data = self._decompressor.decompress(payload + _TAIL, max_length)
        except zlib.error as error:
            raise ValueError(f"corrupt deflate data: {error}") from None
        if self._decompressor.unconsumed_tail:
            raise ValueError(f"inflated message larger than {max_length} bytes")
        return data
