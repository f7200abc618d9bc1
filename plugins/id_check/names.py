"""Does the name on an ID document belong to the party? Robust to how names are written in an MRZ.

An MRZ holds only A-Z and the filler: national characters are transliterated (9303 part 3,
section 6: Å -> AA, Ä -> AE, Ö -> OE, Ü -> UE, Ø -> OE, Æ -> AE, ß -> SS), though many documents
simply drop the diacritic (Å -> A, Ö -> O); hyphens and spaces become fillers, apostrophes vanish;
a name too long for the field is cut short. So each word of the party's name (as the officer
typed it, in any order: "Anna-Karin Öberg") is spelled every way a document may spell it, and:

1. every word of the party's name is on the document (a hyphenated word as its parts or run
   together), except words a truncated name field had no room for (then every word on the
   document must be one of the party's);
2. every surname word of the document is one of the party's words (a different surname fails
   even when the given names agree);
3. at least one given name of the document is one of the party's words (documents list every
   given name; officers often type only the one the person uses).

A word cut short by truncation matches when it is the beginning of a spelling of the party's word.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence

# Each national letter and its spellings in an MRZ: the ICAO transliteration first.
_VARIANTS = {
    "Å": ("AA", "A"), "Ä": ("AE", "A"), "Ö": ("OE", "O"), "Ü": ("UE", "U"), "Ø": ("OE", "O"),
    "Æ": ("AE",), "ß": ("SS",), "Þ": ("TH",), "Ð": ("D",), "Œ": ("OE",), "Ł": ("L",), "Đ": ("D",),
}
_MAX_SPELLINGS = 64
_SEPARATORS = re.compile(r"[\s,]+")
_JOINERS = re.compile(r"[-‐‑–<]+")


def _letter_spellings(char: str) -> tuple[str, ...]:
    upper = char.upper() if char != "ß" else char
    if upper in _VARIANTS:
        return _VARIANTS[upper]
    base = "".join(c for c in unicodedata.normalize("NFKD", upper) if not unicodedata.combining(c))
    return (base,) if re.fullmatch(r"[A-Z]+", base) else ("",)  # apostrophes, dots: left out


def spellings(word: str) -> set[str]:
    """Every MRZ spelling of one word without separators: Åsa -> {AASA, ASA}."""
    options = [_letter_spellings(c) for c in word]
    found: set[str] = set()
    for combination in itertools.product(*options):
        found.add("".join(combination))
        if len(found) >= _MAX_SPELLINGS:
            break
    return found


def party_words(name: str) -> list[list[set[str]]]:
    """The party's name as words, each a list of parts (a hyphenated word has several), each
    part the set of its spellings."""
    words = []
    for word in _SEPARATORS.split(name.strip()):
        parts = [spellings(part) for part in _JOINERS.split(word) if part]
        parts = [p for p in parts if p != {""}]
        if parts:
            words.append(parts)
    return words


def document_spellings(name: str) -> list[tuple[str, ...]]:
    """A name typed from a document without an MRZ (a driving licence) as MRZ words, spelled the
    ICAO way (Öberg -> OEBERG) and the plain way (OBERG): the document's own spelling may be either."""
    parts = [part for word in _SEPARATORS.split(name.strip()) for part in _JOINERS.split(word) if part]
    return [tuple(w for w in (_spell(part, plain) for part in parts) if w) for plain in (False, True)]


def _spell(part: str, plain: bool) -> str:
    """ICAO's spelling is listed first, the plain one last."""
    return "".join(_letter_spellings(c)[-1 if plain else 0] for c in part)


def names_match(surname: Sequence[str], given_names: Sequence[str], party_name: str, truncated: bool = False) -> bool:
    """The rules in the module docstring. `surname` and `given_names` are the document's words in
    MRZ letters; `truncated` says the last given-name (or surname) word may be cut short."""
    document = [*surname, *given_names]
    if not document or not party_name.strip():
        return False
    covered: set[int] = set()
    missing = 0
    for word in party_words(party_name):
        found = _find(word, document, truncated)
        missing += found is None
        covered.update(found or ())
    if missing and not (truncated and len(covered) == len(document)):
        return False  # a word may be missing only where the field ran out of room after the last one
    surname_indexes = set(range(len(surname)))
    given_indexes = set(range(len(surname), len(document)))
    return surname_indexes <= covered and (not given_indexes or bool(given_indexes & covered))


def _find(word: list[set[str]], document: list[str], truncated: bool) -> set[int] | None:
    """Indexes of the document words one party word stands for: its parts as consecutive
    document words, or all run together in one."""
    joined = {"".join(c) for c in itertools.islice(itertools.product(*word), _MAX_SPELLINGS)}
    last = len(document) - 1
    for index, candidate in enumerate(document):
        if candidate in joined or (truncated and index == last and any(s.startswith(candidate) for s in joined)):
            return {index}
    for start in range(len(document) - len(word) + 1):
        run = document[start:start + len(word)]
        if all(_part_matches(part, text, truncated and start + i == last) for i, (part, text) in
               enumerate(zip(word, run, strict=True))):
            return set(range(start, start + len(word)))
    return None


def _part_matches(part: set[str], text: str, may_be_cut: bool) -> bool:
    return text in part or (may_be_cut and any(s.startswith(text) for s in part))
