"""Text that people type or upload: what is refused, what is cleaned, in one place.

* Single-line text (names of organisations, officers and parties; sender names; titles) may not
  contain line breaks or invisible control characters: forms and API schemas refuse it with a
  message in the user's language (`line_problem`, `SingleLine`).
* Email addresses are one plain address each (`valid_email`): no lists, no display names, no
  comments, so one address is always one recipient.
* File names are cleaned, not refused (`clean_filename`): path parts, control characters and
  bidirectional overrides (U+202E makes "invoice\u202efdp.exe" read as "invoiceexe.pdf") go.
* Mail headers get `header_text` as a last guard for text stored before these checks.
"""

from __future__ import annotations

import re
import unicodedata

from core.i18n import _

# Zero-width (non-)joiners are format characters that some scripts and emoji need; every other
# format character (bidirectional embeddings, overrides and isolates, zero-width space, BOM ...),
# control character and line or paragraph separator is unsafe in a single line of text.
_KEPT_FORMAT = {"\u200c", "\u200d"}
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES and char not in _KEPT_FORMAT


def line_problem(text: str | None) -> str | None:
    """A translated message when `text` is not one line of visible characters, else None."""
    if not text:
        return None
    if "\n" in text or "\r" in text or "\u2028" in text or "\u2029" in text or "\x85" in text:
        return _("Write it on one line, without line breaks.")
    if any(_unsafe(char) for char in text):
        return _("Remove the invisible control characters (for example text direction marks).")
    return None


def header_text(text: str | None) -> str:
    """Text safe for a mail header or a one-line label: one line of visible characters."""
    cleaned = "".join(_visible(char) for char in unicodedata.normalize("NFC", text or ""))
    return " ".join(cleaned.split())


def _visible(char: str) -> str:
    """Invisible format characters (bidi marks, zero-width space) go; breaks and controls become spaces."""
    if not _unsafe(char):
        return char
    return "" if unicodedata.category(char) == "Cf" else " "


# One address: a dot-atom local part (RFC 5322, letters of any script allowed as in RFC 6531) and
# a host name of at least two labels. No quoted local parts, comments, spaces, commas or brackets.
_LOCAL = r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_EMAIL = re.compile(rf"({_LOCAL})@((?:{_LABEL}\.)+{_LABEL})")


def valid_email(email: str | None) -> bool:
    """One plain address, name@example.com: never a list of addresses or a display name."""
    if not email or len(email) > 254:
        return False
    match = _EMAIL.fullmatch(email)
    if match is None or len(match.group(1)) > 64:
        return False
    domain = match.group(2)
    return "_" not in domain and not domain.rsplit(".", 1)[-1].isdigit() and not any(_unsafe(c) for c in email)


def clean_filename(filename: str | None, default: str = "document.pdf", limit: int = 255) -> str:
    """A file name as it may be shown and stored: its last path part, NFC, without control or
    bidirectional characters, whitespace collapsed, at most `limit` characters (keeping the
    extension), or `default` when nothing is left. The one file-name cleaner of the codebase."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = header_text(name).strip(" .")
    if not name:
        return default
    if len(name) > limit:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[:limit - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:limit]
    return name


def one_line(value: str | None) -> None:
    """A marshmallow validator: `line_problem` as a ValidationError."""
    from marshmallow import ValidationError

    problem = line_problem(value)
    if problem:
        raise ValidationError(problem)


class SingleLine:
    """A WTForms validator: `line_problem` as the field's error."""

    def __call__(self, _form, field) -> None:
        from wtforms.validators import StopValidation

        problem = line_problem(field.data)
        if problem:
            raise StopValidation(problem)
