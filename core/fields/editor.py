"""The field editor page, shared by templates and draft cases (see static/field-editor.js).

The page gets the documents' pages as images with their sizes, who can be assigned fields, the
fields as JSON and where to save them; saving posts JSON back, and the caller's view checks the
fields with `definitions.load_specs` and answers with errors by field.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template

from core.fields.definitions import FIELD_TYPES, type_labels
from core.i18n import _


@dataclass(frozen=True)
class EditorPage:
    number: int
    image_url: str
    width: float  # points, as viewed
    height: float


@dataclass(frozen=True)
class EditorDocument:
    key: int  # index in a template, id in a case
    filename: str
    pages: list[EditorPage]


def _texts() -> dict[str, str]:
    """Messages the script shows, with %(name)s placeholders it fills in itself."""
    return {
        "saved": _("The fields have been saved."),
        "saving": _("Saving…"),
        "unsaved": _("Unsaved changes"),
        "failed": _("The fields could not be saved. Check your connection and try again; nothing has been lost."),
        "added": _("Field added on page %(page)s."),
        "deleted": _("Field deleted."),
        "moved": _("Position %(x)s %%, %(y)s %% of the page, size %(w)s × %(h)s %%."),
        "nobody": _("Nobody yet"),
        "field": _("%(label)s (%(type)s), %(who)s, page %(page)s"),
        "leave": _("The fields have unsaved changes."),
        "yes": _("Yes"),
        "no": _("No"),
    }


def render(documents: list[EditorDocument], assignees: list[tuple[str, str]], fields: list[dict], save_url: str,
           back_url: str, title: str, version: int | None = None) -> str:
    labels = type_labels()
    return render_template("fields/editor.html", documents=documents, assignees=assignees, fields=fields,
                           save_url=save_url, back_url=back_url, title=title, version=version,
                           types=[(kind, str(labels[kind])) for kind in FIELD_TYPES], texts=_texts())
