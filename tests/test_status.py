"""Bitstring Status List v1.0: the spec's own examples first, then bit order, errors, signing."""

from __future__ import annotations

import base64
import copy
import gzip
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import vectors_dir
from skillcred.did import key_did, key_did_url
from skillcred.errors import InvalidArgument, MalformedDocument, UnsupportedFeature
from skillcred.keys import KeyPair
from skillcred.proofs import add_proof, check_proofs
from skillcred.status import (
    MAX_LIST_BYTES,
    MIN_LIST_BITS,
    MIN_LIST_ENTRIES,
    BitstringStatusList,
    StatusListLengthError,
    StatusMalformed,
    StatusRangeError,
    StatusResult,
    StatusVerificationError,
    is_stale,
    read_status,
    stale_after,
    status_entry,
    status_list_credential,
)
from work_meter import InflatedBytes

LIST_URL = "https://status.roc-example.nl/lists/7"
ISSUER = "did:example:roc"


def _vectors() -> Path:
    return vectors_dir("bitstring-status-list")


def _load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((_vectors() / name).read_text(encoding="utf-8"))
    return doc


def _encoded(raw: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(gzip.compress(raw, mtime=0)).rstrip(b"=").decode()


SIGNED = {
    "01": "rec-signed-01-credential-ecdsa-rdfc-2019.json",
    "02": "rec-signed-02-credential-eddsa-rdfc-2022.json",
    "03": "rec-signed-03-statusListCredential-ecdsa-rdfc-2019.json",
    "04": "rec-signed-04-statusListCredential-eddsa-rdfc-2022.json",
}


# --------------------------------------------------------------------------------------------
# Official material


def test_spec_example_list_is_16kb_of_zeros_and_ours_decodes_the_same() -> None:
    doc = _load("example-status-list-credential.json")
    spec_list = BitstringStatusList.decode(doc["credentialSubject"]["encodedList"])
    assert spec_list.size == len(spec_list) == 131_072 == MIN_LIST_BITS
    assert spec_list.to_bytes() == bytes(16 * 1024)
    ours = BitstringStatusList(131_072)
    # compare bits, not gzip bytes (header flags differ between implementations)
    assert BitstringStatusList.decode(ours.encode()).to_bytes() == spec_list.to_bytes()
    assert BitstringStatusList.decode(ours.encode()) == spec_list


@pytest.mark.parametrize("key", sorted(SIGNED))
def test_rec_signed_examples_verify(key: str) -> None:
    doc = _load(SIGNED[key])
    report = check_proofs(doc)
    assert report.verified, report.to_dict()
    # bare did:key verification method (no fragment): controller is the DID itself
    assert report.controllers == (doc["proof"]["verificationMethod"],)


@pytest.mark.parametrize("key", ["03", "04"])
def test_rec_list_credentials_decode(key: str) -> None:
    doc = _load(SIGNED[key])
    bits = BitstringStatusList.decode(doc["credentialSubject"]["encodedList"])
    assert bits.size == 131_072
    assert not any(bits.to_bytes())


@pytest.mark.parametrize(("cred", "lst"), [("01", "03"), ("02", "04"), ("01", "04"), ("02", "03")])
def test_rec_credential_status_reads_unrevoked_from_rec_list(cred: str, lst: str) -> None:
    credential = _load(SIGNED[cred])
    list_cred = _load(SIGNED[lst])
    entry = credential["credentialStatus"]
    # the examples are linked: the entry names the list credential's id
    assert entry["statusListCredential"] == list_cred["id"]
    assert entry["statusListIndex"] == "94567"
    result = read_status(entry, list_cred)
    # the REC's list is all zeros, so credential 94567 is not revoked
    assert result == StatusResult(
        purpose="revocation",
        index=94567,
        value=0,
        status_size=1,
        message="unset",
        list_credential="https://example.com/credentials/status/3",
    )
    assert result.valid and not result.is_set
    assert result.to_dict()["status"] == 0 and result.to_dict()["valid"] is True


def test_rec_entry_against_a_list_with_that_bit_set() -> None:
    entry = _load(SIGNED["01"])["credentialStatus"]
    list_cred = _load("example-status-list-credential.json")
    bits = BitstringStatusList()
    bits.set(94567, 1)
    list_cred["credentialSubject"]["encodedList"] = bits.encode()
    result = read_status(entry, list_cred)
    assert result.value == 1 and result.is_set and not result.valid and result.message == "set"


# --------------------------------------------------------------------------------------------
# Bit order (spec §2.2 encodedList, §7.1): index 0 is the left-most bit


@pytest.mark.parametrize(
    ("index", "byte_no", "byte"),
    [(0, 0, 0x80), (1, 0, 0x40), (7, 0, 0x01), (8, 1, 0x80), (131_071, 16_383, 0x01)],
)
def test_bit_order_is_msb_first(index: int, byte_no: int, byte: int) -> None:
    bits = BitstringStatusList()
    bits.set(index, 1)
    raw = bits.to_bytes()
    assert raw[byte_no] == byte
    assert sum(raw) == byte
    # and it survives the encoding
    assert BitstringStatusList.decode(bits.encode()).to_bytes() == raw


def test_decoding_a_foreign_list_reads_msb_first() -> None:
    raw = bytearray(16 * 1024)
    raw[0], raw[1] = 0x80, 0x01  # indexes 0 and 15
    bits = BitstringStatusList.decode(_encoded(bytes(raw)))
    assert [i for i in range(24) if bits.get(i)] == [0, 15]


def test_random_round_trip_seeded() -> None:
    rng = random.Random(20250515)
    bits = BitstringStatusList()
    chosen = set(rng.sample(range(bits.size), 500))
    for i in chosen:
        bits.set(i, 1)
    back = BitstringStatusList.decode(bits.encode())
    assert {i for i in range(back.size) if back.get(i)} == chosen
    for i in list(chosen)[:100]:
        back.set(i, 0)
    assert sum(back.get(i) for i in chosen) == 400


def test_status_size_two() -> None:
    bits = BitstringStatusList(status_size=2)
    assert bits.size == MIN_LIST_ENTRIES and bits.size_bits == 2 * MIN_LIST_ENTRIES
    bits.set(0, 3)
    bits.set(1, 2)
    bits.set(3, 1)
    bits.set(4, 2)
    raw = bits.to_bytes()
    # entry i occupies bits 2i, 2i+1 (index * statusSize), big-endian within the entry
    assert raw[0] == 0b11_10_00_01
    assert raw[1] == 0b10_00_00_00
    assert [bits.get(i) for i in range(6)] == [3, 2, 0, 1, 2, 0]
    bits.set(0, 1)
    assert bits.get(0) == 1 and bits.get(1) == 2
    back = BitstringStatusList.decode(bits.encode(), status_size=2)
    assert [back.get(i) for i in range(6)] == [1, 2, 0, 1, 2, 0]


def test_status_size_three_crosses_bytes() -> None:
    rng = random.Random(3)
    bits = BitstringStatusList(status_size=3)
    values = {i: rng.randrange(8) for i in rng.sample(range(bits.size), 300)}
    for i, v in values.items():
        bits.set(i, v)
    back = BitstringStatusList.decode(bits.encode(), status_size=3)
    assert all(back.get(i) == v for i, v in values.items())
    # entry 2 is bits 6, 7, 8: it straddles the first two bytes
    small = BitstringStatusList(status_size=3)
    small.set(2, 0b101)
    assert small.to_bytes()[:2] == bytes([0b00000010, 0b10000000])
    assert [small.get(i) for i in range(4)] == [0, 0, 5, 0]


def test_minimum_size_is_enforced() -> None:
    with pytest.raises(InvalidArgument, match="at least 131072 entries"):
        BitstringStatusList(MIN_LIST_BITS - 8)
    with pytest.raises(InvalidArgument, match="multiple of 8"):
        BitstringStatusList(MIN_LIST_BITS + 1)
    # statusSize 2: 131,072 entries need 262,144 bits (§3.2 step 9 divides by statusSize)
    with pytest.raises(InvalidArgument, match="262144 bits"):
        BitstringStatusList(MIN_LIST_BITS, status_size=2)
    assert BitstringStatusList(MIN_LIST_BITS * 2).size == 262_144
    with pytest.raises(InvalidArgument):
        BitstringStatusList(status_size=0)


def test_set_and_get_refuse_misuse() -> None:
    bits = BitstringStatusList()
    with pytest.raises(InvalidArgument, match="outside"):
        bits.get(bits.size)
    with pytest.raises(InvalidArgument, match="outside"):
        bits.set(-1, 1)
    with pytest.raises(InvalidArgument, match="does not fit"):
        bits.set(0, 2)
    with pytest.raises(InvalidArgument, match="integer"):
        bits.get("3")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Decoding errors


def test_wrong_multibase_prefix() -> None:
    good = BitstringStatusList().encode()
    with pytest.raises(StatusMalformed, match="prefix 'u'") as info:
        BitstringStatusList.decode("z" + good[1:])
    assert isinstance(info.value, MalformedDocument)
    assert info.value.spec_error == "MALFORMED_VALUE_ERROR"
    with pytest.raises(StatusMalformed, match="prefix 'u'"):
        BitstringStatusList.decode("")


@pytest.mark.parametrize("body", ["H4sI+AAA", "H4sI/AAA", "H4sIAA==", "H4sIA", "H4 sI"])
def test_bad_base64url(body: str) -> None:
    with pytest.raises(StatusMalformed, match="base64url"):
        BitstringStatusList.decode("u" + body)


def test_not_gzip() -> None:
    raw = base64.urlsafe_b64encode(b"\0" * 16384).rstrip(b"=").decode()
    with pytest.raises(StatusMalformed, match="not GZIP"):
        BitstringStatusList.decode("u" + raw)
    zlib_only = base64.urlsafe_b64encode(__import__("zlib").compress(b"\0" * 16384)).rstrip(b"=")
    with pytest.raises(StatusMalformed, match="not GZIP"):
        BitstringStatusList.decode("u" + zlib_only.decode())


def test_truncated_and_corrupt_gzip() -> None:
    packed = gzip.compress(bytes(16384), mtime=0)
    cut = "u" + base64.urlsafe_b64encode(packed[:-6]).rstrip(b"=").decode()
    with pytest.raises(StatusMalformed, match="truncated"):
        BitstringStatusList.decode(cut)
    bad_crc = bytearray(packed)
    bad_crc[-8] ^= 0xFF
    with pytest.raises(StatusMalformed, match="not valid GZIP"):
        BitstringStatusList.decode(
            "u" + base64.urlsafe_b64encode(bytes(bad_crc)).rstrip(b"=").decode()
        )
    garbage = "u" + base64.urlsafe_b64encode(packed + b"junk").rstrip(b"=").decode()
    with pytest.raises(StatusMalformed):
        BitstringStatusList.decode(garbage)


def test_gzip_bomb_is_refused_after_inflating_at_most_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    # bounded in bytes inflated, not seconds: decompression stops one byte past MAX_LIST_BYTES
    compressor = gzip.compress(bytes(100 * 1024 * 1024), compresslevel=9, mtime=0)
    assert len(compressor) < 200_000
    bomb = "u" + base64.urlsafe_b64encode(compressor).rstrip(b"=").decode()
    inflated = InflatedBytes().install(monkeypatch)
    with pytest.raises(StatusMalformed, match=f"more than {MAX_LIST_BYTES} bytes"):
        BitstringStatusList.decode(bomb)
    assert inflated.decompressors == 1
    assert MAX_LIST_BYTES < inflated.bytes <= MAX_LIST_BYTES + 1  # the 100 MiB never unpacked
    # and a list just inside the cap is inflated whole, so the meter does see real work
    inflated.bytes = 0
    fits = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(MAX_LIST_BYTES), mtime=0)).rstrip(b"=").decode()
    assert BitstringStatusList.decode(fits).size == MAX_LIST_BYTES * 8
    assert inflated.bytes == MAX_LIST_BYTES


def test_multi_member_bomb_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    member = gzip.compress(bytes(4 * 1024 * 1024), mtime=0)
    bomb = "u" + base64.urlsafe_b64encode(member * 5).rstrip(b"=").decode()
    inflated = InflatedBytes().install(monkeypatch)
    with pytest.raises(StatusMalformed, match="more than"):
        BitstringStatusList.decode(bomb)
    # the cap counts across members: the fifth member is never inflated past it
    assert inflated.bytes <= MAX_LIST_BYTES + 1


def test_too_short_list_is_a_length_error() -> None:
    with pytest.raises(StatusListLengthError, match="at least 131072") as info:
        BitstringStatusList.decode(_encoded(bytes(1024)))
    assert info.value.spec_error == "STATUS_LIST_LENGTH_ERROR"
    assert info.value.problem_type.endswith("/status-list#STATUS_LIST_LENGTH_ERROR")
    # 16 KB is enough for 1-bit entries but not for 2-bit entries
    with pytest.raises(StatusListLengthError):
        BitstringStatusList.decode(_encoded(bytes(16384)), status_size=2)
    # an ecosystem specification may set a lower bound
    assert BitstringStatusList.decode(_encoded(bytes(1024)), min_entries=8192).size == 8192


# --------------------------------------------------------------------------------------------
# Entries and list credentials


def test_status_entry_shape() -> None:
    entry = status_entry(LIST_URL, 94567, "revocation")
    assert entry == {
        "id": f"{LIST_URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }
    with pytest.raises(InvalidArgument):
        status_entry(LIST_URL, -1, "revocation")
    with pytest.raises(InvalidArgument):
        status_entry(LIST_URL, 1, "revoked")
    with pytest.raises(InvalidArgument):
        status_entry("not a url", 1, "revocation")
    with pytest.raises(InvalidArgument, match="status_messages"):
        status_entry(LIST_URL, 1, "message", status_size=2)
    with pytest.raises(InvalidArgument, match="4 elements"):
        status_entry(LIST_URL, 1, "message", status_size=2, status_messages=["a", "b"])


def test_status_entry_with_messages() -> None:
    entry = status_entry(
        LIST_URL, 12, "message", status_size=2,
        status_messages=["pending_review", "accepted", "rejected", "undefined"],
    )
    assert entry["statusSize"] == 2
    assert entry["statusMessage"][2] == {"status": "0x2", "message": "rejected"}


def _list_cred(
    bits: BitstringStatusList | None = None, purpose: str = "revocation", **kw: Any
) -> dict[str, Any]:
    return status_list_credential(
        url=LIST_URL,
        issuer=ISSUER,
        purpose=purpose,
        status_list=bits or BitstringStatusList(),
        valid_from=datetime(2025, 6, 30, tzinfo=UTC),
        **kw,
    )


def test_status_list_credential_shape() -> None:
    doc = _list_cred(ttl_ms=86_400_000, valid_until=datetime(2025, 7, 30, tzinfo=UTC))
    assert doc["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert doc["id"] == LIST_URL
    assert doc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert doc["validFrom"] == "2025-06-30T00:00:00Z"
    assert doc["validUntil"] == "2025-07-30T00:00:00Z"
    subject = doc["credentialSubject"]
    assert subject["id"] == f"{LIST_URL}#list"
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    assert subject["ttl"] == 86_400_000
    assert subject["encodedList"].startswith("u")
    with pytest.raises(UnsupportedFeature):
        _list_cred(purpose="message")
    with pytest.raises(InvalidArgument):
        status_list_credential(
            url=LIST_URL, issuer=ISSUER, purpose="revocation",
            status_list=BitstringStatusList(), context=["https://www.w3.org/2018/credentials/v1"],
        )


@pytest.mark.parametrize("purpose", ["revocation", "suspension"])
def test_issue_sign_and_read_back(purpose: str) -> None:
    bits = BitstringStatusList()
    bits.set(4242, 1)
    key = KeyPair.generate("ed25519")
    signed = add_proof(
        status_list_credential(
            url=LIST_URL,
            issuer=key_did(key.public_key),
            purpose=purpose,
            status_list=bits,
            ttl_ms=3_600_000,
        ),
        key,
        verification_method=key_did_url(key.public_key),
    )
    # safe-mode JSON-LD would refuse an undefined term: every term we write is defined by VC v2
    report = check_proofs(signed, expected_purpose="assertionMethod")
    assert report.verified, report.to_dict()
    assert read_status(status_entry(LIST_URL, 4242, purpose), signed).is_set
    assert not read_status(status_entry(LIST_URL, 4243, purpose), signed).is_set
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["encodedList"] = BitstringStatusList().encode()
    assert not check_proofs(tampered).verified


def test_entry_with_status_size_signs_and_reads() -> None:
    bits = BitstringStatusList(status_size=2)
    bits.set(77, 2)
    entry = status_entry(
        LIST_URL, 77, "suspension", status_size=2,
        status_messages=["active", "on_hold", "suspended", "undefined"],
    )
    key = KeyPair.generate("ed25519")
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": key_did(key.public_key),
        "validFrom": "2025-06-30T00:00:00Z",
        "credentialStatus": entry,
        "credentialSubject": {"id": "did:example:jan"},
    }
    signed = add_proof(credential, key, verification_method=key_did_url(key.public_key))
    assert check_proofs(signed).verified
    result = read_status(signed["credentialStatus"], _list_cred(bits, purpose="suspension"))
    assert (result.value, result.message, result.status_size) == (2, "suspended", 2)


# --------------------------------------------------------------------------------------------
# read_status errors


def test_index_out_of_range() -> None:
    entry = status_entry(LIST_URL, MIN_LIST_ENTRIES, "revocation")
    with pytest.raises(StatusRangeError, match="outside") as info:
        read_status(entry, _list_cred())
    assert info.value.spec_error == "RANGE_ERROR"
    last = status_entry(LIST_URL, MIN_LIST_ENTRIES - 1, "revocation")
    assert read_status(last, _list_cred()).valid


def test_purpose_mismatch() -> None:
    with pytest.raises(StatusVerificationError, match=r"'suspension'.*'revocation'") as info:
        read_status(status_entry(LIST_URL, 1, "suspension"), _list_cred())
    assert info.value.problem_type.endswith("#STATUS_VERIFICATION_ERROR")


def test_list_with_several_purposes() -> None:
    doc = _list_cred()
    doc["credentialSubject"]["statusPurpose"] = ["revocation", "suspension"]
    assert read_status(status_entry(LIST_URL, 1, "suspension"), doc).purpose == "suspension"


def test_wrong_list_credential() -> None:
    entry = status_entry(LIST_URL, 1, "revocation")
    other = _list_cred()
    other["id"] = "https://status.roc-example.nl/lists/8"
    with pytest.raises(StatusVerificationError, match="lists/8"):
        read_status(entry, other)
    no_id = _list_cred()
    del no_id["id"]
    with pytest.raises(StatusVerificationError, match="no id"):
        read_status(entry, no_id)


def test_list_credential_of_the_wrong_type() -> None:
    entry = status_entry(LIST_URL, 1, "revocation")
    doc = _list_cred()
    doc["type"] = ["VerifiableCredential"]
    with pytest.raises(StatusMalformed, match="not a BitstringStatusListCredential"):
        read_status(entry, doc)
    doc = _list_cred()
    doc["credentialSubject"]["type"] = "StatusList2021"
    with pytest.raises(StatusMalformed, match="credentialSubject type"):
        read_status(entry, doc)
    doc = _list_cred()
    del doc["credentialSubject"]["encodedList"]
    with pytest.raises(StatusMalformed, match="encodedList"):
        read_status(entry, doc)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"statusListIndex": 5}, "base-10 string"),
        ({"statusListIndex": "-5"}, "base-10 string"),
        ({"statusListIndex": "0x10"}, "base-10 string"),
        ({"statusListIndex": " 5"}, "base-10 string"),
        ({"statusListIndex": "\u0665"}, "base-10 string"),  # Arabic-Indic five: int() would take it
        ({"statusPurpose": 1}, "statusPurpose"),
        ({"statusListCredential": "no url"}, "not a URL"),
        ({"statusSize": 0}, "statusSize"),
        ({"statusSize": 2}, "no statusMessage"),
        ({"statusMessage": [{"status": "0x0", "message": "ok"}]}, "2\\*\\*statusSize"),
        (
            {"statusMessage": [{"status": "0", "message": "a"}, {"status": "0x1", "message": "b"}]},
            "hexadecimal",
        ),
    ],
)
def test_malformed_entries(change: dict[str, Any], match: str) -> None:
    entry = {**status_entry(LIST_URL, 5, "revocation"), **change}
    with pytest.raises(StatusMalformed, match=match):
        read_status(entry, _list_cred())


def test_other_status_types_are_unsupported() -> None:
    entry = {**status_entry(LIST_URL, 5, "revocation"), "type": "StatusList2021Entry"}
    with pytest.raises(UnsupportedFeature, match="StatusList2021Entry"):
        read_status(entry, _list_cred())


def test_huge_index_is_a_range_error() -> None:
    entry = {**status_entry(LIST_URL, 5, "revocation"), "statusListIndex": "9" * 40}
    with pytest.raises(StatusRangeError):
        read_status(entry, _list_cred())


def test_entry_fragment_on_list_url_still_matches() -> None:
    entry = {**status_entry(LIST_URL, 5, "revocation"), "statusListCredential": LIST_URL + "#x"}
    assert read_status(entry, _list_cred()).value == 0


# --------------------------------------------------------------------------------------------
# Freshness


def test_is_stale() -> None:
    t0 = datetime(2025, 6, 30, tzinfo=UTC)
    doc = _list_cred(ttl_ms=3_600_000, valid_until=t0 + timedelta(days=30))
    assert not is_stale(doc, at=t0 + timedelta(minutes=59))
    assert is_stale(doc, at=t0 + timedelta(minutes=61))  # ttl counted from validFrom
    # from the time it was fetched, when known
    fetched = t0 + timedelta(days=2)
    assert not is_stale(doc, at=fetched + timedelta(minutes=5), fetched_at=fetched)
    no_ttl = _list_cred(valid_until=t0 + timedelta(days=30))
    assert not is_stale(no_ttl, at=t0 + timedelta(days=29))
    assert is_stale(no_ttl, at=t0 + timedelta(days=31))
    assert is_stale(doc, at=t0 + timedelta(days=31), fetched_at=t0 + timedelta(days=31))
    forever = _list_cred()
    assert not is_stale(forever, at=t0 + timedelta(days=3650))
    forever["credentialSubject"]["ttl"] = "soon"
    with pytest.raises(StatusMalformed, match="ttl"):
        is_stale(forever, at=t0)


def test_stale_after_is_where_is_stale_begins() -> None:
    """The bound a verifier compares with instead of reading a list's dates for every
    credential: the earlier of validUntil and the ttl's end, and ``is_stale`` agrees at it."""
    t0 = datetime(2025, 6, 30, tzinfo=UTC)  # the validFrom of _list_cred
    both = _list_cred(ttl_ms=3_600_000, valid_until=t0 + timedelta(days=30))
    assert stale_after(both) == datetime(2025, 6, 30, 1, 0, tzinfo=UTC)  # the ttl ends first
    assert stale_after(both, fetched_at=t0 + timedelta(days=40)) == datetime(2025, 7, 30, tzinfo=UTC)
    until = _list_cred(valid_until=t0 + timedelta(days=30))
    assert stale_after(until) == datetime(2025, 7, 30, tzinfo=UTC)
    ttl_only = _list_cred(ttl_ms=86_400_000)
    assert stale_after(ttl_only) == datetime(2025, 7, 1, tzinfo=UTC)
    assert stale_after(_list_cred()) is None  # neither: never stale
    for doc in (both, until, ttl_only):
        bound = stale_after(doc)
        assert bound is not None
        assert not is_stale(doc, at=bound)
        assert is_stale(doc, at=bound + timedelta(milliseconds=1))
    unreadable = _list_cred(ttl_ms=1000)
    unreadable["credentialSubject"]["ttl"] = -1
    with pytest.raises(StatusMalformed, match="ttl"):
        stale_after(unreadable)
    unreadable = _list_cred(valid_until=t0 + timedelta(days=1))
    unreadable["validUntil"] = "next week"
    with pytest.raises(MalformedDocument):
        stale_after(unreadable)
