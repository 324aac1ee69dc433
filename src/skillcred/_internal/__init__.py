"""Private helpers. Nothing here is part of the public API (see docs/stability.md)."""
