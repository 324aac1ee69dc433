"""The C-encoder fast path of RFC 8785 (``jcs._fast``) against the reference serializer.

``canonicalize_json`` hands values made only of exact dicts/lists/str/bool/None and ints within
+-2**53 to ``json.dumps``'s C encoder and everything else to the reference walk
(``jcs._reference``, which ``tests/test_jcs.py`` pins to the RFC's vectors and to ECMAScript).
These tests prove the two agree byte for byte on many generated values, that the fast path is
really taken for the documents that matter (credentials), and that every refusal survives
(the C encoder would silently stringify int keys, print big ints exactly, repr floats).
"""

from __future__ import annotations

import json
import math
import random
from collections import OrderedDict
from typing import Any

import pytest

from skillcred._internal import jcs
from skillcred._internal.jcs import canonicalize_json
from skillcred.errors import MalformedDocument

# strings that exercise every escape, raw controls-adjacent characters, non-ASCII BMP,
# the U+E000..U+FFFF range whose order against astral characters differs, and astral ones
_ALPHABET = [
    *"abcxyzABC019 _-.:/@#",
    *['"', "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x01", "\x1f", "\x7f", "\x80", "\u00e9"],
    *["\u2028", "\u2029", "\u20ac", "\ud7ff", "\ue000", "\ufb33", "\uffee", "\ufeff", "\u0301"],
    *["\U0001f600", "\U0001f602", "\U00010000", "\U0010fffd"],
]
_BMP = [c for c in _ALPHABET if ord(c) <= 0xFFFF]


def _string(rng: random.Random, alphabet: list[str]) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))


def _int(rng: random.Random) -> int:
    return rng.choice([
        rng.randint(-1000, 1000), rng.randint(-(2**53), 2**53), 2**53, -(2**53), 2**53 - 1, 0,
    ])


def _plain_json(rng: random.Random, alphabet: list[str], depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 5 else 4)
    if kind == 0:
        return _string(rng, alphabet)
    if kind == 1:
        return _int(rng)
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return _string(rng, alphabet)
    if kind == 4:
        return [_plain_json(rng, alphabet, depth + 1) for _ in range(rng.randint(0, 5))]
    return {_string(rng, alphabet): _plain_json(rng, alphabet, depth + 1) for _ in range(rng.randint(0, 6))}


def _spike(rng: random.Random, value: Any) -> Any:
    """``value`` with one leaf somewhere replaced by something the fast path must not take."""
    odd = rng.choice([0.5, 1e21, 1e-7, -0.0, 2**53 + 1, -(2**53) - 1, 2**70, (1, "t"), 3.0])
    if isinstance(value, dict) and value:
        key = rng.choice(list(value))
        return {**value, key: _spike(rng, value[key])}
    if isinstance(value, list) and value:
        i = rng.randrange(len(value))
        return [*value[:i], _spike(rng, value[i]), *value[i + 1:]]
    return odd


def _both(value: Any) -> tuple[str | None, str]:
    return jcs._fast(value), jcs._reference(value)


def test_fast_path_equals_reference_on_generated_values() -> None:
    rng = random.Random(22)
    taken = 0
    for i in range(6000):
        value = _plain_json(rng, _BMP if i % 2 else _ALPHABET)
        fast, reference = _both(value)
        if fast is not None:
            taken += 1
            assert fast == reference, value
        assert canonicalize_json(value) == reference.encode("utf-8", "surrogatepass")
    assert taken > 3000  # the BMP half always, most of the rest: the fast path is exercised


def test_values_with_a_float_or_big_int_anywhere_take_the_reference_path() -> None:
    rng = random.Random(8785)
    for _ in range(2000):
        value = _spike(rng, _plain_json(rng, _BMP))
        assert jcs._fast(value) is None, value
        assert canonicalize_json(value) == jcs._reference(value).encode()


@pytest.mark.parametrize("value", [
    {"\U0001f600": 1, "\ufb33": 2}, {"a": {"\ue000": 1, "\U00010000": 2}}, ["\U0001f602"],
], ids=["astral-vs-private-use", "nested", "astral-value"])
def test_astral_characters_take_the_reference_path_and_sort_by_utf16(value: Any) -> None:
    assert jcs._fast(value) is None
    assert canonicalize_json(value) == jcs._reference(value).encode()


def test_astral_key_order_is_utf16_not_code_point() -> None:
    # code point order would put U+FB33 first; UTF-16 puts the surrogate pair (D83D) first
    assert canonicalize_json({"\ufb33": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\ufb33":1}'.encode()


def test_a_signed_credential_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from skillcred.keys import KeyPair
    from skillcred.proofs import add_proof, check_proofs

    doc = json.loads((Path(__file__).parent.parent / "examples/credentials/unsigned-mig-mag-welding.json")
                     .read_text(encoding="utf-8"))
    key = KeyPair.generate("ed25519")
    signed = add_proof(doc, key, verification_method=_key_url(key), cryptosuite="eddsa-jcs-2022")
    assert jcs._fast(signed) is not None

    def no_reference(value: Any) -> str:
        raise AssertionError("the reference serializer ran")

    monkeypatch.setattr(jcs, "_reference", no_reference)
    assert check_proofs(signed).verified  # signed and verified without the slow walk


def _key_url(key: Any) -> str:
    from skillcred.did import key_did_url

    return key_did_url(key.public_key)


@pytest.mark.parametrize("value", [
    {1: "int key"}, {True: "bool key"}, {None: "null key"}, {1.5: "float key"}, {"a": {2: "nested"}},
    [{"x": 1, 3: "mixed"}],
], ids=["int", "bool", "none", "float", "nested", "mixed"])
def test_non_string_keys_are_still_refused(value: Any) -> None:
    # json.dumps would write {"1":"int key"}; JCS has no form for it
    with pytest.raises(MalformedDocument, match="keys must be strings"):
        canonicalize_json(value)


@pytest.mark.parametrize("value", [
    {"x": math.nan}, [math.inf], {"a": [-math.inf]}, {"x": 2**1100}, {"x": b"b"}, {"x": {1, 2}},
    {"x": object()}, "lone \ud800", {"k\udfff": 1}, ["\ud83d"],
], ids=["nan", "inf", "-inf", "huge-int", "bytes", "set", "object", "lone-high", "lone-in-key",
        "half-pair"])
def test_non_json_values_are_still_refused(value: Any) -> None:
    with pytest.raises(MalformedDocument):
        canonicalize_json(value)


def test_circular_values_are_refused_not_recursed() -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    listed: list[Any] = [1]
    listed.append([listed])
    for value in (loop, listed):
        with pytest.raises(MalformedDocument, match="circular"):
            canonicalize_json(value)


def test_too_deep_values_are_refused() -> None:
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(MalformedDocument, match="nested too deeply"):
        canonicalize_json(deep)


def test_big_ints_round_like_a_double_not_printed_exactly() -> None:
    # the C encoder would print 9007199254740993; a JSON parser reads it as 2**53
    assert canonicalize_json({"n": 2**53 + 1}) == b'{"n":9007199254740992}'
    assert canonicalize_json([-(2**53) - 1]) == b"[-9007199254740992]"
    assert canonicalize_json([2**53]) == b"[9007199254740992]"


def test_subclasses_and_tuples_keep_the_reference_behaviour() -> None:
    class Text(str):
        pass

    class Number(int):
        pass

    value = OrderedDict([(Text("b"), Number(2)), ("a", (True, None))])
    assert jcs._fast(value) is None
    assert canonicalize_json(value) == b'{"a":[true,null],"b":2}'


def test_every_escape_matches_the_reference() -> None:
    text = "".join(chr(c) for c in range(0x80)) + "\u2028\u2029\ufeff"
    fast, reference = _both({text: [text]})
    assert fast == reference
    assert json.loads(fast) == {text: [text]}
