"""WebSocket market-data API (picows server, per-client queues, broadcaster)."""
