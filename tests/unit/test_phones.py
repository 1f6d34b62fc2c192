"""rules/phones.py says what phonenumbers says, for every country code, or leaves it to phonenumbers."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from logfilter.rules import detect, phones


def _libphonenumber(text: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text, None))
    except phonenumbers.NumberParseException:
        return False


def _numbers(seed: int, per_code: int) -> list[str]:
    """Numbers for each country code: example numbers of each region and type, their prefixes
    and neighbours (one digit changed, one more, one less), and random digits of every length."""
    rng = random.Random(seed)
    found: set[str] = set()
    for code, regions in COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE,
                         phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.VOIP):
                example = phonenumbers.example_number_for_type(region, kind) if region != "001" else None
                if example is None:
                    continue
                nsn = phonenumbers.national_significant_number(example)
                found.add(f"+{code}{nsn}")
                for cut in range(1, len(nsn)):
                    found.add(f"+{code}{nsn[:cut]}")
                at = rng.randrange(len(nsn))
                found.add(f"+{code}{nsn[:at]}{rng.randrange(10)}{nsn[at + 1:]}")
                found.add(f"+{code}{nsn}{rng.randrange(10)}")
        for _ in range(per_code):
            digits = "".join(rng.choice("0123456789") for _ in range(rng.randrange(1, 16)))
            found.add(f"+{code}{digits}")
    for _ in range(per_code * 20):  # codes that are none, and text that is no number
        found.add("+" + "".join(rng.choice("0123456789") for _ in range(rng.randrange(1, 18))))
    return sorted(found)


NUMBERS = _numbers(seed=19, per_code=40)


def test_valid_is_libphonenumbers_answer_for_every_number() -> None:
    wrong = [text for text in NUMBERS if phones.valid(text.encode()) != _libphonenumber(text)]
    assert wrong == []
    assert 0 < sum(map(_libphonenumber, NUMBERS)) < len(NUMBERS)  # valid and invalid ones both


def test_parse_reads_one_of_the_readings() -> None:
    """What parse reads is among the readings of `+` and digits; most have one reading (valid
    then asks no parse: it would be no quicker otherwise)."""
    decided = 0
    for text in NUMBERS:
        found = phones.split(text.encode())
        if found is None:
            continue
        read = found[0].readings(found[1]) or []
        parsed = phones.parse_reading(text.encode())
        if parsed is None:
            assert not _libphonenumber(text)
        else:
            assert parsed[0] == found[0].number and parsed[1] in read, text
        decided += len(read) <= 1
    assert decided > 0.8 * len(NUMBERS)


def test_spaced_and_punctuated_numbers_are_libphonenumbers_answer_too() -> None:
    for text in ["+1 202-555-0143", "+44 20 7946 0018", "+44 (0)20 7946 0018", "+49 30 901820", "+1.268.555.1234"]:
        assert phones.valid(text.encode()) == _libphonenumber(text), text


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (b"+1 202 555 0143", "not digits only"),
        (b"+44020 7946 0018", "not digits only"),
        (b"+440207946001", "a national number starting with 0"),
        (b"+1", "no national number"),
        (b"+12025550143x12", "an extension"),
        (b"+999123456", "no such country code"),
    ],
)
def test_other_shapes(text: bytes, why: str) -> None:
    assert phones.valid(text) == _libphonenumber(text.decode()), why


def test_known_numbers() -> None:
    assert phones.valid(b"+12025550143") is _libphonenumber("+12025550143")
    assert phones.valid(b"+442079460018") is True  # a London number
    assert phones.valid(b"+12685551234") is _libphonenumber("+12685551234")  # Antigua: a region by leading digits
    assert phones.valid(b"+10000000000") is False


def test_the_longest_valid_prefix_is_the_one_valid_finds_trying_each() -> None:
    """longest_valid reads the country code once; trying each prefix with `valid` finds the same end."""

    def each(text: bytes, least: int) -> int | None:
        for end in range(len(text), least - 1, -1):
            if text[end - 1 : end].isalnum() and phones.valid(text[:end]):
                return end
        return None

    rng = random.Random(7)
    texts = [text.encode() for text in NUMBERS[::3]]
    texts += [text + str(rng.randrange(1000)).encode() for text in texts[::5]]  # digits run on after a number
    texts += [b"+1 202 555 0143 12", b"+44 20 7946 0018", b"+1", b"+12"]
    found = 0
    for text in texts:
        end = phones.longest_valid(text, 8)
        assert end == each(text, 8), text
        found += end is not None
    assert 0 < found < len(texts)


def test_the_phone_detector_finds_a_number_in_a_longer_run() -> None:
    assert _libphonenumber("+12025550143") and not _libphonenumber("+1202555014312")
    hits = detect.detectors(("phone",)).hits(b"call +1202555014312 now")
    assert [(hit.detector, hit.start, hit.end) for hit in hits] == [("phone", 5, 17)]
