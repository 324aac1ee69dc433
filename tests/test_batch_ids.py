"""A batch's credential ids are time-ordered UUIDv7s (RFC 9562) whose time is the validFrom.

Why they are (the registry's id indexes append instead of taking a random page per row) and why
that discloses nothing the credential does not state already: ``skillcred.issuer._time_ordered_id``.
These tests pin what the privacy argument rests on: the time field is ``validFrom`` to the second
and no finer, the sub-second part and the rest are random, and the ids of one second do not
give away the order of issue.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from skillcred._internal import batch
from skillcred.did import key_did
from skillcred.issuer import Issuer, _time_ordered_id, init_issuer, load_achievement
from skillcred.keys import KeyPair
from support.rosters import write_roster

REPO = Path(__file__).resolve().parents[1]
CNC = REPO / "examples" / "achievements" / "cnc-programmeren.yaml"


def _uuid(credential_id: str) -> uuid.UUID:
    assert credential_id.startswith("urn:uuid:")
    return uuid.UUID(credential_id.removeprefix("urn:uuid:"))


def _millis(u: uuid.UUID) -> int:
    return int(u.hex[:12], 16)  # RFC 9562 5.7: the first 48 bits, big-endian Unix milliseconds


# (moment, its Unix seconds as published elsewhere: 2000-01-01 is the well-known 946684800)
@pytest.mark.parametrize(("moment", "seconds"), [
    (datetime(2000, 1, 1, tzinfo=UTC), 946_684_800),
    (datetime(1970, 1, 1, tzinfo=UTC), 0),
    (datetime(2026, 3, 1, 9, 30, tzinfo=UTC), 1_772_357_400),  # 2026-01-01 is 1767225600, + 59 days + 9.5 h
    (datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC), 2**31),  # past the 32-bit rollover
])
def test_the_id_is_a_uuid7_whose_time_is_valid_from_to_the_second(moment: datetime, seconds: int) -> None:
    for _ in range(50):
        u = _uuid(_time_ordered_id(moment))
        assert u.version == 7 and u.variant == uuid.RFC_4122
        assert _millis(u) // 1000 == seconds


def test_the_time_is_the_whole_second_even_when_valid_from_has_microseconds() -> None:
    moment = datetime(2026, 3, 1, 9, 30, 0, 999_999, tzinfo=UTC)
    later = datetime(2026, 3, 1, 9, 30, 1, tzinfo=UTC)
    assert {_millis(_uuid(_time_ordered_id(moment))) // 1000 for _ in range(100)} == {int(moment.timestamp())}
    assert {_millis(_uuid(_time_ordered_id(later))) // 1000 for _ in range(100)} == {int(later.timestamp())}


@pytest.mark.parametrize("moment", [datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
                                    datetime(1900, 1, 1, tzinfo=UTC)])
def test_a_valid_from_before_1970_gets_a_random_v4_id(moment: datetime) -> None:
    ids = {_time_ordered_id(moment) for _ in range(20)}
    assert len(ids) == 20 and {_uuid(i).version for i in ids} == {4}


def test_the_milliseconds_and_the_random_bits_are_random_not_the_clock() -> None:
    moment = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    ids = [_uuid(_time_ordered_id(moment)) for _ in range(5000)]
    assert len(set(ids)) == 5000
    # the milliseconds are spread over the second (each tenth of it holds 10 % +- a wide margin)
    tenths = Counter((_millis(u) % 1000) // 100 for u in ids)
    assert sorted(tenths) == list(range(10)) and all(350 <= c <= 650 for c in tenths.values()), tenths
    # ids made one after another are not in ascending order (the order of issue does not show)
    ascending = sum(a.int < b.int for a, b in itertools.pairwise(ids))
    assert 2000 <= ascending <= 3000, ascending
    # every bit of the 74 random ones varies (rand_a: bits 64-75, rand_b: bits 0-61)
    for bit in [*range(62), *range(64, 76)]:
        ones = sum((u.int >> bit) & 1 for u in ids)
        assert 2000 <= ones <= 3000, (bit, ones)


def test_later_seconds_sort_after_earlier_ones() -> None:
    moments = [datetime(2026, 3, 1, 9, 30, s, tzinfo=UTC) for s in range(0, 60, 7)]
    ids = [_time_ordered_id(m) for m in moments for _ in range(5)]
    by_second = [ids[i:i + 5] for i in range(0, len(ids), 5)]
    for earlier, later in itertools.pairwise(by_second):
        assert max(_uuid(i).int for i in earlier) < min(_uuid(i).int for i in later)


def test_a_parallel_batch_issues_uuid7_ids_dated_by_each_credentials_valid_from(tmp_path: Path) -> None:
    folder = tmp_path / "issuer"
    init_issuer(folder, name="ROC Techniek", url="https://roc.example")
    roster = write_roster(tmp_path / "roster.csv", 10, CNC)
    out = tmp_path / "out"
    with Issuer.open(folder) as iss:
        # a registry that already holds a v4 id (single issuing) takes the batch beside it
        single, _new = iss.issue(load_achievement(CNC), key_did(KeyPair.generate("ed25519").public_key), level="1")
        assert _uuid(single.id).version == 4
        result = iss.issue_batch(roster, out, workers=2, archive=True, keep_records=False)
        assert result.issued_count == 10 and not result.errors
        again = iss.issue_batch(roster, out, workers=2, archive=True, keep_records=False)  # nothing twice
        assert again.issued_count == 0 and again.skipped_count == 10
        assert iss.registry.count() == 11
        assert iss.registry.get(single.id).subject == single.subject
    lines = [json.loads(x) for x in (out / batch.ARCHIVE_NAME).read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 10
    for doc in lines:
        u = _uuid(doc["id"])
        assert u.version == 7
        stated = datetime.fromisoformat(doc["validFrom"].replace("Z", "+00:00"))
        assert _millis(u) // 1000 == int(stated.timestamp())
