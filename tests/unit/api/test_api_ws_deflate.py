"""permessage-deflate negotiation and framing."""

from __future__ import annotations

import zlib

import pytest

from spreadwire.api.ws.deflate import Deflater, negotiate


@pytest.mark.parametrize(
    ("offer", "answer"),
    [
        ("permessage-deflate", "permessage-deflate"),
        ("permessage-deflate; client_max_window_bits", "permessage-deflate"),
        (
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
        (
            "permessage-deflate; server_max_window_bits=10",
            "permessage-deflate; server_max_window_bits=10",
        ),
        ("x-webkit-deflate-frame, permessage-deflate", "permessage-deflate"),
    ],
)
def test_negotiate_accepts_offers_it_can_honour(offer: str, answer: str) -> None:
    params = negotiate(offer)

    assert params is not None
    assert params.header == answer


@pytest.mark.parametrize(
    "offer",
    [None, "", "x-webkit-deflate-frame", "permessage-deflate; server_max_window_bits=8",
     "permessage-deflate; mystery=1"],
)  # fmt: skip
def test_negotiate_declines_what_it_cannot_honour(offer: str | None) -> None:
    assert negotiate(offer) is None


def test_deflater_frames_inflate_in_order_with_shared_context() -> None:
    params = negotiate("permessage-deflate")
    assert params is not None
    deflater = Deflater(params)
    inflater = zlib.decompressobj(wbits=-15)
    messages = [b'[{"type":"quote","bid":"100.01"}]' * 3, b'[{"type":"quote","bid":"100.02"}]']

    frames = [deflater.compress(m) for m in messages]

    assert [inflater.decompress(f + b"\x00\x00\xff\xff") for f in frames] == messages
    assert len(frames[1]) < len(messages[1])  # the shared window pays off


def test_deflater_decompress_past_limit_is_refused() -> None:
    params = negotiate("permessage-deflate")
    assert params is not None
    sender, receiver = Deflater(params), Deflater(params)
    payload = sender.compress(b"x" * 10_000)

    with pytest.raises(ValueError, match="larger than"):
        receiver.decompress(payload, 1_000)
