"""Watch a running node's quotes and fills over WebSocket with ``spreadwire.client``.

Start a node (``make demo`` prints its admin key), then in another shell:

    .venv/bin/python examples/watch_quotes.py --key "$KEY" --symbol AAA --count 20
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from spreadwire.client import Control, Fill, Quote, connect


async def watch(url: str, key: str, symbol: str, count: int) -> int:
    shown = 0
    async with await connect(
        url, key=key, channels=[f"quotes.{symbol}", "fills"], encoding="msgpack"
    ) as client:
        async for message in client:
            if isinstance(message, Control):
                continue
            if isinstance(message, Quote):
                print(
                    f"{message.symbol} {message.bid_size} @ {message.bid_price} / "
                    f"{message.ask_price} x {message.ask_size}",
                    flush=True,
                )
            elif isinstance(message, Fill):
                fill = message.event
                print(
                    f"fill {fill['instrument_id']} {fill['side']} {fill['last_qty']} @ "
                    f"{fill['last_px']} ({fill['strategy_id']})",
                    flush=True,
                )
            shown += 1
            if shown >= count:
                break
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8081/ws")
    parser.add_argument("--key", required=True, help="an API key (any role)")
    parser.add_argument("--symbol", default="AAA")
    parser.add_argument("--count", type=int, default=20, help="messages to show")
    args = parser.parse_args()
    return asyncio.run(watch(args.url, args.key, args.symbol, args.count))


if __name__ == "__main__":
    sys.exit(main())
