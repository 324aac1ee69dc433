"""RFC 8785 (JCS): the RFC's own examples plus a differential test against ECMAScript.

The differential test pipes JSON through a local ``node`` process (stdin/stdout only, no
sockets) running the RFC's reference algorithm for ES6: ``JSON.stringify`` for primitives and a
recursive walk with ``Object.keys(o).sort()`` (UTF-16 code unit order).
"""

from __future__ import annotations

import json
import math
import random
import shutil
import struct
import subprocess
from typing import Any

import pytest

from skillcred._internal.jcs import canonicalize_json, number_to_json
from skillcred.errors import MalformedDocument


def _double(bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(bits))[0]
    return value


# RFC 8785 Appendix B, every finite row (IEEE 754 bit pattern -> JCS text).
APPENDIX_B = [
    ("0000000000000000", "0"),  # zero
    ("8000000000000000", "0"),  # minus zero
    ("0000000000000001", "5e-324"),  # min pos number
    ("8000000000000001", "-5e-324"),  # min neg number
    ("7fefffffffffffff", "1.7976931348623157e+308"),  # max pos number
    ("ffefffffffffffff", "-1.7976931348623157e+308"),  # max neg number
    ("4340000000000000", "9007199254740992"),  # max pos int
    ("c340000000000000", "-9007199254740992"),  # max neg int
    ("4430000000000000", "295147905179352830000"),  # ~2**68
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),  # round to even
]


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B, ids=[row[0] for row in APPENDIX_B])
def test_appendix_b_numbers(bits: str, expected: str) -> None:
    assert canonicalize_json(_double(bits)) == expected.encode()
    assert number_to_json(_double(bits)) == expected


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_appendix_b_nan_and_infinity_are_refused(bits: str) -> None:
    with pytest.raises(MalformedDocument):
        canonicalize_json({"x": [_double(bits)]})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1e-7, "1e-7"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123e-20, "1.23e-18"),
        (0.1, "0.1"),
        (-1.5, "-1.5"),
        (100.0, "100"),
        (1e16, "10000000000000000"),
        (0.000001, "0.000001"),
        (5e-7, "5e-7"),
        (2**53, "9007199254740992"),
        (2**53 + 1, "9007199254740992"),  # as a double: ties to even
        (2**53 + 3, "9007199254740996"),
        (-(2**63), "-9223372036854776000"),
        (10**21, "1e+21"),
        (0, "0"),
        (-7, "-7"),
    ],
)
def test_number_forms(value: int | float, expected: str) -> None:
    assert canonicalize_json(value) == expected.encode()


def test_int_beyond_double_range_is_refused() -> None:
    with pytest.raises(MalformedDocument):
        canonicalize_json(10**400)


def test_rfc_3_2_4_example() -> None:
    # RFC 8785 §3.2.4 (also the "values" sample of the RFC's test data).
    text = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        r' "string": "\u20ac$\u000F\u000aA' + "'" + r'\u0042\u0022\u005c\\\"\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonicalize_json(json.loads(text)) == expected.encode()


def test_rfc_3_2_3_sorting_example() -> None:
    # RFC 8785 §3.2.3: keys compared as UTF-16 code units (the emoji's surrogates sort
    # between U+20AC and U+FB33, unlike code point order).
    value = json.loads(
        r"""{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"""
    )
    out = json.loads(canonicalize_json(value))
    assert list(out.values()) == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]
    assert sorted(value) != list(out)  # code point order would differ: that is the point


def test_french_sample() -> None:
    # The RFC's test data "french" sample: no locale collation.
    value = {
        "peach": "This sorting order",
        "péché": "is wrong according to French",
        "pêche": "but canonicalization MUST",
        "sin": "ignore locale",
    }
    assert (
        canonicalize_json(value)
        == (
            '{"peach":"This sorting order","péché":"is wrong according to French",'
            '"pêche":"but canonicalization MUST","sin":"ignore locale"}'
        ).encode()
    )


def test_unicode_and_weird_samples() -> None:
    # "unicode": no Unicode normalization.
    assert canonicalize_json({"Unnormalized Unicode": "A\u030a"}) == (
        '{"Unnormalized Unicode":"A\u030a"}'.encode()
    )
    # "weird": control characters in keys, U+0080 / U+007F written raw, "</script>" as is.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\n": "Newline",
        "1": "One",
        "\u0080": "Control\u007f",
        "\U0001f602": "Smiley",
        "\u00f6": "Latin Small Letter O With Diaeresis",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "</script>": "Browser Challenge",
    }
    assert (
        canonicalize_json(value)
        == (
            '{"\\n":"Newline","\\r":"Carriage Return","1":"One","</script>":"Browser Challenge",'
            '"\u0080":"Control\u007f","\u00f6":"Latin Small Letter O With Diaeresis",'
            '"\u20ac":"Euro Sign","\U0001f602":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
        ).encode()
    )


def test_string_escapes() -> None:
    text = "".join(chr(c) for c in range(0x20)) + '"\\/\u2028\x7f'
    assert (
        canonicalize_json(text)
        == (
            '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r'
            "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019"
            '\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\"\\\\/\u2028\x7f"'
        ).encode()
    )


@pytest.mark.parametrize(
    "value",
    [
        {1: "int key"},
        {"x": {1, 2}},
        {"x": b"bytes"},
        {"x": object()},
        "lone \ud800 surrogate",
        {"x": math.nan},
        [math.inf],
    ],
    ids=["int-key", "set", "bytes", "object", "lone-surrogate", "nan", "inf"],
)
def test_non_json_is_refused(value: Any) -> None:
    with pytest.raises(MalformedDocument):
        canonicalize_json(value)


def test_circular_reference_is_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(MalformedDocument):
        canonicalize_json(loop)


def test_shared_non_circular_reference_is_fine() -> None:
    shared = {"b": 1, "a": 2}
    assert canonicalize_json([shared, shared, (True, None)]) == (
        b'[{"a":2,"b":1},{"a":2,"b":1},[true,null]]'
    )


# --------------------------------------------------------------------------------------------
# Differential test against ECMAScript (node)
# --------------------------------------------------------------------------------------------

_NODE_REFERENCE = r"""
const canon = (v) => {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return "[" + v.map(canon).join(",") + "]";
  const members = Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canon(v[k]));
  return "{" + members.join(",") + "}";
};
const values = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(values.map(canon)));
"""

_ALPHABET = [
    *"abcxyzABC019 _-.:/",
    *['"', "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f", "\x80", "\u00e9", "\u00f6"],
    *["\u2028", "\u20ac", "\ue000", "\ufb33", "\uffee", "\ufffd", "\u0301"],
    *["\U0001f600", "\U0001f602", "\U0001d11e", "\U00010000", "\U0010fffd"],
]


def _random_string(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 8)))


def _random_number(rng: random.Random) -> int | float:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.randint(-1000, 1000)
    if kind == 1:
        return rng.randint(-(2**70), 2**70)  # beyond 2**53: rounded like a double
    if kind == 2:
        while True:  # any finite double, uniformly over bit patterns
            value: float = struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))[0]
            if math.isfinite(value):
                return value
    if kind == 3:
        return rng.uniform(-1, 1) * 10.0 ** rng.randint(-30, 30)
    if kind == 4:
        return float(rng.choice([1e21, 1e-7, 1e-6, 1e20, 0.1, 5e-324, -0.0, 2.0**53]))
    return round(rng.uniform(-1e6, 1e6), rng.randint(0, 6))


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return _random_string(rng)
    if kind in (1, 2):
        return _random_number(rng)
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return _random_string(rng)
    if kind == 5:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return {_random_string(rng): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 6))}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
def test_differential_against_ecmascript() -> None:
    rng = random.Random(8785)
    values = [_random_json(rng) for _ in range(400)]
    # json.dumps writes floats with repr (round-trips exactly) and escapes non-ASCII, so node
    # parses the very same doubles and strings; big ints are rounded by JSON.parse exactly as
    # canonicalize_json rounds them.
    result = subprocess.run(
        ["node", "-e", _NODE_REFERENCE],
        input=json.dumps(values).encode(),
        capture_output=True,
        timeout=120,
        check=True,
    )
    expected = json.loads(result.stdout)
    assert len(expected) == len(values)
    mismatches = [
        (value, want, got)
        for value, want in zip(values, expected, strict=True)
        if (got := canonicalize_json(value).decode()) != want
    ]
    assert mismatches == []


def test_string_escaping_skips_translate_only_when_nothing_needs_escaping() -> None:
    """_string takes a shortcut for strings without a character to escape; for every string,
    escaped or not, the output must be what translate() with the RFC 8785 table gives."""
    import random

    from skillcred._internal import jcs

    rng = random.Random(5)
    alphabet = [chr(c) for c in range(0x00, 0x80)] + ["é", "€", "\u2028", "\U0001f600", "\ufeff"]
    for _ in range(5000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert jcs._string(s) == f'"{s.translate(jcs._STRING_ESCAPES)}"'
