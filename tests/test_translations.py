"""Every message the code shows has a Swedish translation, with the same placeholders.

The messages are extracted from the code exactly as `pybabel extract -F babel.cfg` does (Python,
Jinja templates, plugins), so a string added without its Swedish fails here, naming the file it
is used in, instead of reaching a Swedish user in English."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdfr]|\{(\w*)\}")
# Areas whose every message the issue that built them names; each must extract something, so a
# moved folder cannot make this test pass by finding nothing there.
AREAS = ("core/fields/", "core/case_templates/", "core/templates/case_templates/", "core/templates/fields/",
         "core/templates/signing/_fields.html", "core/signing/")


def _extracted() -> dict[tuple[str | None, str | tuple[str, ...]], set[str]]:
    """{(context, msgid): files using it} for the whole code base."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[tuple, set[str]] = {}
    for filename, _line, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        if not message or (isinstance(message, tuple) and not message[0]):
            continue
        found.setdefault((context, message), set()).add(filename.replace("\\", "/"))
    return found


@pytest.fixture(scope="module")
def extracted():
    return _extracted()


@pytest.fixture(scope="module")
def swedish():
    with open(ROOT / "core/translations/sv/LC_MESSAGES/messages.po", "rb") as po:
        return read_po(po, locale="sv")


def _translated(entry) -> bool:
    if entry is None or entry.fuzzy:
        return False
    strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
    return bool(strings) and all(s and s.strip() for s in strings)


def test_every_message_in_use_has_a_swedish_translation(extracted, swedish):
    missing = sorted(
        f"{', '.join(sorted(files))}: {message!r}" + (f" (context {context!r})" if context else "")
        for (context, message), files in extracted.items()
        if not _translated(swedish.get(message[0] if isinstance(message, tuple) else message, context=context)))
    assert not missing, "no Swedish in core/translations/sv/LC_MESSAGES/messages.po for:\n" + "\n".join(missing)


@pytest.mark.parametrize("area", AREAS)
def test_the_templates_and_fields_messages_are_extracted(extracted, area):
    """The check above really sees the templates, fields and signer fill-in code."""
    assert sum(1 for files in extracted.values() if any(f.startswith(area) for f in files)) >= 5


def test_swedish_keeps_every_placeholder(extracted, swedish):
    """A translation that drops or renames %(num)s would fail at run time or print the wrong text."""
    wrong = []
    for (context, message), _files in extracted.items():
        key = message[0] if isinstance(message, tuple) else message
        entry = swedish.get(key, context=context)
        if not _translated(entry):
            continue  # reported by the test above
        sources = message if isinstance(message, tuple) else (message,)
        targets = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        wanted = {n for source in sources for n in _names(source)}
        for target in targets:
            # A plural's singular may say "one" instead of using %(num)d; every other name must stay.
            if _names(target) - wanted or (wanted - {"num"}) - _names(target):
                wrong.append(f"{message!r} -> {target!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def _names(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def test_the_field_editor_and_a_signer_page_read_in_swedish(client, people, login):
    """What the JavaScript of the editor and of the signer's fields shows comes translated from the
    server: a Swedish officer and a Swedish signer get Swedish, down to the field types."""
    from tests.case_templates.conftest import build_template
    from tests.fields.helpers import lease_with_fields

    template = build_template(people.alice)
    login(people.alice)
    client.get("/lang/sv")
    editor = client.get(f"/templates/{template.id}/fields").get_data(as_text=True)
    data = json.loads(editor.split('id="fe-data">')[1].split("</script>")[0])
    types = dict(data["types"])
    assert types["signature"] == "Underskrift" and types["checkbox"] == "Kryssruta", types
    assert all(text == "" or _translated_text(text) for text in data["texts"].values()), data["texts"]
    assert "Placera fält" in editor or "Spara fälten" in editor

    made = lease_with_fields(people.alice)
    client.get(made.links["tenant"] + "/lang/sv")
    page = client.get(made.links["tenant"]).get_data(as_text=True)
    assert "Fält markerade med * måste fyllas i innan du signerar." in page
    assert "Nästa fält" in page and "Next field" not in page


def _translated_text(text: str) -> bool:
    """A text of the catalogue shown in Swedish, not its English msgid."""
    with open(ROOT / "core/translations/sv/LC_MESSAGES/messages.po", "rb") as po:
        catalogue = read_po(po, locale="sv")
    english = {m.id for m in catalogue if m.id and m.string and m.string != m.id}
    return text not in english


# Plugins with their own catalogue: a translations/ folder beside a babel.cfg of their own.
PLUGIN_CATALOGUES = sorted(p.parent.parent.parent.parent.relative_to(ROOT).as_posix()
                           for pattern in ("plugins/*/translations/sv/LC_MESSAGES/messages.po",
                                           "tests/plugins/*/translations/sv/LC_MESSAGES/messages.po")
                           for p in ROOT.glob(pattern))


def test_plugins_with_their_own_catalogue_are_found():
    assert "plugins/e_delivery" in PLUGIN_CATALOGUES and "tests/plugins/example" in PLUGIN_CATALOGUES


@pytest.mark.parametrize("plugin", PLUGIN_CATALOGUES)
def test_every_message_of_a_plugin_has_swedish_in_its_own_catalogue(plugin):
    """A plugin's texts are in its catalogue (core/app.py merges it), with the same placeholders."""
    folder = ROOT / plugin
    with open(folder / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    messages = {(context, message) for _f, _line, message, _comments, context in extract_from_dir(
        str(folder), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True) if message}
    if plugin.startswith("plugins/"):
        assert len(messages) >= 5, f"{plugin}/babel.cfg extracts nothing"
    with open(folder / "translations/sv/LC_MESSAGES/messages.po", "rb") as po:
        catalogue = read_po(po, locale="sv")
    problems = []
    for context, message in messages:
        entry = catalogue.get(message[0] if isinstance(message, tuple) else message, context=context)
        if not _translated(entry):
            problems.append(f"no Swedish: {message!r}")
            continue
        sources = message if isinstance(message, tuple) else (message,)
        wanted = {n for source in sources for n in _names(source)}
        for target in (entry.string if isinstance(entry.string, tuple | list) else (entry.string,)):
            if _names(target) - wanted or (wanted - {"num"}) - _names(target):
                problems.append(f"placeholders differ: {message!r} -> {target!r}")
    assert not problems, f"{plugin}/translations/sv/LC_MESSAGES/messages.po:\n" + "\n".join(problems)


def test_the_receipt_and_printed_values_have_every_text_in_both_languages():
    """The receipt's own texts (a PDF drawn outside a request) and how values print: not in the
    catalogue, so checked here: the same keys in sv and en, and the Swedish really Swedish."""
    from core.fields.values import NUMBER_MARKS, YES_NO
    from core.sealing.receipt import TEXTS

    def flat(texts: dict, prefix: str = "") -> dict[str, str]:  # nested tables, e.g. certificate names
        out = {}
        for key, value in texts.items():
            out.update(flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key: value})
        return out

    english, swedish = flat(TEXTS["en"]), flat(TEXTS["sv"])
    assert set(swedish) == set(english)
    same = {key for key in english if swedish[key] == english[key]}
    assert same <= {"organisation", "not_yet", "bankid", "subject_names.organization_name"}, same  # same in both
    assert swedish["field_values"] == "Ifyllda fält" and swedish["many_fields"] == "{count} fält, se dokumentet"
    for key, text in english.items():  # the same placeholders
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", swedish[key])), key
    assert set(YES_NO) == set(NUMBER_MARKS) == {"sv", "en"} and YES_NO["sv"] == ("Ja", "Nej")
