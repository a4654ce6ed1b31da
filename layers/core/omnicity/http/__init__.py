"""The HTTP edge: body size and parsing, errors as replies, security headers, the caller's channel, Open311's wire
format (no use case here)."""
