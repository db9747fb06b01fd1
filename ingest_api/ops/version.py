"""The API's version, reported by GET /is_alive."""

__version__ = "0.1.0"
