"""Who may call: device tokens, their store, the per-device rate limits and CORS."""
