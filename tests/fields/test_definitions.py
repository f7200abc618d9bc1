"""Field definitions from the editor, the API or a template: what is accepted and what is said."""

import pytest

from core.fields.definitions import FieldSpec, load_specs, pattern_problem
from core.i18n import force_locale

PAGES = {0: 2}


def spec(**changes) -> dict:
    return {"name": "tenant", "type": "text", "document": 0, "page": 1, "x": 0.1, "y": 0.1, "w": 0.3, "h": 0.03,
            "assignee": "customer", **changes}


def errors_of(raw: list[dict], assignees=("customer",)) -> dict:
    with force_locale("en"):
        _specs, problems = load_specs(raw, PAGES, set(assignees))
    return problems.as_dict()


def test_it_accepts_a_field_and_makes_its_default_canonical(app):
    specs, problems = load_specs([spec(type="number", default="12 500,50", min="0")], PAGES, {"customer"})
    assert not problems
    assert specs == [FieldSpec(name="tenant", type="number", document=0, page=1, x=0.1, y=0.1, w=0.3, h=0.03,
                               assignee="customer", default="12500.50", min="0")]


def test_a_field_outside_the_page_is_refused_with_its_page_named(app):
    assert errors_of([spec(x=0.8)]) == {"0": {"x": ["The field lies partly outside page 1. Move it onto the page."]}}
    assert "x" in errors_of([spec(y=-0.2)])["0"]
    with force_locale("sv"):
        _specs, problems = load_specs([spec(x=0.9)], PAGES, {"customer"})
    assert problems.by_field[0]["x"] == ["Fältet ligger delvis utanför sida 1. Flytta in det på sidan."]


@pytest.mark.parametrize(("changes", "where", "message"), [
    ({"page": 3}, "page", "The document has no page 3."),
    ({"document": 4}, "document", "There is no such document."),
    ({"assignee": "landlord"}, "assignee", "Choose who fills in this field."),
    ({"type": "radio"}, "options", "Give at least one option to choose from."),
    ({"type": "select", "options": ["a", "a"]}, "options", "Each option must be different."),
    ({"w": 0.001}, "w", "The field is too small to see. Make it larger."),
    ({"type": "number", "default": "many"}, "default", "Give a number, like 1250 or 12,5."),
    ({"type": "number", "min": "10", "max": "9,5"}, "min", "The smallest value is larger than the largest."),
    ({"type": "date", "min": "2026-12-31", "max": "2026-01-01"}, "min", "The smallest value is larger than the "
                                                                        "largest."),
    ({"type": "date", "min": "soon"}, "min", "Give a number for a number field and a date (YYYY-MM-DD) for a date "
                                            "field."),
])
def test_bad_definitions_say_what_is_wrong(app, changes, where, message):
    assert errors_of([spec(**changes)]) == {"0": {where: [message]}}


def test_a_default_must_fit_its_box_like_a_typed_value(app):
    """A read-only default nobody can shorten would otherwise print past its box on the sealed page."""
    long_default = spec(read_only=True, w=0.1, h=0.02, default="Storgatan 1, 903 26 Umeå, Västerbottens län")
    with force_locale("en"):
        _specs, problems = load_specs([long_default], PAGES, {"customer"}, {0: [(595.0, 842.0)] * 2})
        assert problems.as_dict() == {"0": {"default": ["The text is too long for its place in the document. "
                                                        "Shorten it."]}}
        specs, problems = load_specs([dict(long_default, w=0.6)], PAGES, {"customer"}, {0: [(595.0, 842.0)] * 2})
    assert not problems and specs[0].default.startswith("Storgatan")


def test_two_fields_cannot_share_a_name(app):
    assert errors_of([spec(), spec(y=0.5)]) == {"1": {"name": ["Another field already has the name tenant."]}}


def test_the_list_itself_is_checked(app):
    assert errors_of("not a list") == {"_schema": ["Send the fields as a list."]}  # type: ignore[arg-type]
    assert "_schema" in errors_of([spec(name=f"f{i}") for i in range(501)])


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(\w+\s?)*$", r"(a|aa)+", r"(x)\1", r"(?=(a+))+"])
def test_patterns_that_could_hang_the_server_are_refused(app, pattern):
    with force_locale("en"):
        assert "slow" in pattern_problem(pattern)


@pytest.mark.parametrize("pattern", [r"\d{6}", r"[A-Z]{2}\d{2} ?\d{4}", r"(SE|NO)\d{6}", r"(?:ab){2,3}c+"])
def test_ordinary_patterns_are_fine(app, pattern):
    assert pattern_problem(pattern) is None


def test_an_invalid_pattern_is_refused(app):
    with force_locale("en"):
        assert pattern_problem("[a-") == "The pattern is not a valid regular expression."
