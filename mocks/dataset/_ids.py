"""Deterministic identifiers: Salesforce-style record ids and prefixed serial numbers.

The mock CRM builds its runtime ids from the same pieces (``base62``, ``case_safe_suffix``).
"""

from __future__ import annotations

import random

from ._draw import randint

__all__ = ["base62", "case_safe_suffix", "salesforce_ids", "serials"]

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# Uppercase letters -> "1", everything else -> "0": turns a chunk into a bit string.
_UPPER_BITS = str.maketrans({c: "1" if "A" <= c <= "Z" else "0" for c in _BASE62})
# Pod/instance characters of a 15-char id; a real org keeps the same ones on every record.
_POD = "8d"


def case_safe_suffix(id15: str) -> str:
    """The 3 characters Salesforce appends to make a 15-char id case-insensitive-safe.

    For each 5-char chunk, bit i is set when character i is an uppercase letter; the
    5-bit value indexes A-Z0-5.
    """
    bits = id15.translate(_UPPER_BITS)
    return "".join(_SUFFIX_ALPHABET[int(bits[i : i + 5][::-1], 2)] for i in (0, 5, 10))


def base62(value: int, width: int) -> str:
    """The low ``width`` base62 digits of ``value``, zero-padded, most significant first."""
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        chars.append(_BASE62[digit])
    return "".join(reversed(chars))


def _upper_bits(text: str) -> int:
    return sum(1 << i for i, ch in enumerate(text) if "A" <= ch <= "Z")


# All two-character base62 strings and their uppercase bits, indexed by value: the last
# two id characters change on every id, the rest only every ~1000 ids (see below).
_PAIRS = tuple(a + b for a in _BASE62 for b in _BASE62)
_PAIR_BITS = tuple(_upper_bits(pair) for pair in _PAIRS)


def salesforce_ids(rng: random.Random, key_prefix: str, count: int) -> list[str]:
    """`count` ascending 18-char ids: key prefix + pod + "0" + 9 base62 digits + suffix.

    Real ids grow roughly monotonically with small gaps (other records were created in
    between); a random start per seed and random gaps imitate that. Only the low two
    digits change from one id to the next, so the high part and its share of the
    checksum are recomputed only when it rolls over (about once per thousand ids).
    """
    head = f"{key_prefix}{_POD}0"
    counter = rng.randrange(62**6, 62**7)
    ids: list[str] = []
    current_high, stem, first_two, high_bits = -1, "", "", 0
    for _ in range(count):
        counter += randint(rng, 1, 7)
        high, low = divmod(counter, len(_PAIRS))
        if high != current_high:
            current_high = high
            stem = head + base62(high, 7)  # the first 13 of 15 characters
            first_two = case_safe_suffix(stem + "00")[:2]
            high_bits = _upper_bits(stem[10:13])
        third = _SUFFIX_ALPHABET[high_bits | _PAIR_BITS[low] << 3]
        ids.append(f"{stem}{_PAIRS[low]}{first_two}{third}")
    return ids


def serials(rng: random.Random, prefix: str, digits: int, count: int) -> list[str]:
    """Ascending unique ids like "LN00412345": random start per seed, small random gaps."""
    limit = 10**digits
    counter = rng.randrange(limit // 10, limit // 4)
    if counter + count * 5 >= limit:
        raise ValueError(f"{count} ids do not fit in {digits} digits")
    out: list[str] = []
    for _ in range(count):
        counter += randint(rng, 1, 4)
        out.append(f"{prefix}{counter:0{digits}d}")
    return out
