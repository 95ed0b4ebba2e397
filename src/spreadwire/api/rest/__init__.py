"""REST admin and config API (Litestar behind the gateway, served by uvicorn)."""
