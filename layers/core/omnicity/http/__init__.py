"""The HTTP edge: body parsing, error replies, security headers (no use case here)."""
