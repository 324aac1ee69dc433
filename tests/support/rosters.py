"""Class rosters for batch-issuing tests: a CSV of ``n`` students, each with a fresh did:key."""

from __future__ import annotations

import csv
from pathlib import Path

from skillcred.did import key_did
from skillcred.keys import KeyPair


def write_roster(path: Path, n: int, achievement: Path | str, *, key_prefix: str = "r",
                 name: str = "Student", level: str = "2") -> Path:
    """Write a roster of ``n`` rows (key, subject, name, achievement, level) to ``path``."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "subject", "name", "achievement", "level"])
        for i in range(n):
            w.writerow([f"{key_prefix}{i}", key_did(KeyPair.generate("ed25519").public_key), f"{name} {i}",
                        str(achievement), level])
    return path


__all__ = ["write_roster"]
