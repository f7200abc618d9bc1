import re

import pytest

from core.sealing.fingerprint import CHECK_SYMBOLS, SYMBOLS, check, make_fingerprint, normalise

CODE = make_fingerprint("9f" * 32, "e1" * 32)


def test_it_is_grouped_crockford_base32_with_a_check_symbol():
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}-[0-9A-HJKMNP-TV-Z*~$=U]",
                        CODE)
    assert check(CODE) == "ok"


def test_it_depends_on_the_document_and_the_evidence():
    assert make_fingerprint("9f" * 32, "e1" * 32) == CODE
    assert make_fingerprint("9e" * 32, "e1" * 32) != CODE
    assert make_fingerprint("9f" * 32, "e2" * 32) != CODE


def test_case_spaces_dashes_and_lookalike_letters_are_ignored():
    typed = CODE.lower().replace("-", " ").replace("1", "l").replace("0", "o")
    assert normalise(typed) == CODE
    assert check(typed) == "ok"


@pytest.mark.parametrize("position", range(16))
def test_one_mistyped_symbol_is_a_typo(position):
    symbols = list(CODE.replace("-", ""))
    for replacement in SYMBOLS:
        if replacement != symbols[position]:
            typo = symbols.copy()
            typo[position] = replacement
            assert check("".join(typo)) == "typo", "".join(typo)


def test_two_swapped_neighbours_are_a_typo():
    symbols = CODE.replace("-", "")
    for i in range(15):
        if symbols[i] != symbols[i + 1]:
            swapped = symbols[:i] + symbols[i + 1] + symbols[i] + symbols[i + 2 :]
            assert check(swapped) == "typo"


def test_a_wrong_check_symbol_is_a_typo():
    body = CODE.replace("-", "")[:-1]
    wrong = next(s for s in CHECK_SYMBOLS if s != CODE[-1])
    assert check(body + wrong) == "typo"


@pytest.mark.parametrize("text", ["", "hello", CODE[:-2], CODE + "7", "UUUU-UUUU-UUUU-UUUU-U"])
def test_what_is_no_fingerprint_is_malformed(text):
    assert check(text) == "malformed"
