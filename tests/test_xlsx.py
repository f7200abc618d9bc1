"""The streaming Excel writer (core/xlsx.py): what openpyxl reads back is what was written, typed."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from openpyxl import load_workbook

from core import xlsx


def written(header, rows, title="Cases"):
    target = io.BytesIO()
    count = xlsx.write(target, title, header, iter(rows))
    target.seek(0)
    return count, load_workbook(target)


def test_cells_keep_their_types_and_text_is_never_a_formula():
    stockholm = timezone(timedelta(hours=1))
    row = ["=SUM(A1:A2)", " padded ", "å\x00ä\x1bö", True, False, 42, 2.5, Decimal("9500.50"),
           Decimal("12345678901234567.25"), datetime(2026, 3, 1, 13, 30, tzinfo=stockholm), date(2026, 9, 1), None,
           "x" * 40000, "<b>&</b>", ""]
    count, book = written([f"H{i}" for i in range(len(row))], [row])
    sheet = book.active
    values = [c.value for c in sheet[2]]
    assert count == 1
    assert values[0] == "=SUM(A1:A2)" and sheet["A2"].data_type == "s"  # text, not a formula
    assert values[1] == " padded " and values[2] == "åäö"
    assert values[3] is True and values[4] is False
    assert values[5] == 42 and values[6] == 2.5 and values[7] == 9500.5
    assert values[8] == "12345678901234567.25"  # more digits than a double keeps: the exact text
    assert values[9] == datetime(2026, 3, 1, 12, 30) and sheet.cell(2, 10).number_format == "yyyy-mm-dd hh:mm:ss"
    assert values[10] == datetime(2026, 9, 1) and sheet.cell(2, 11).number_format == "yyyy-mm-dd"
    assert values[11] is None and len(values[12]) == 32767 and values[13] == "<b>&</b>" and values[14] is None


def test_one_sheet_with_the_header_frozen_and_an_autofilter_over_every_row():
    rows = [[n, f"Row {n}", datetime(2026, 1, 1, tzinfo=UTC)] for n in range(1, 1001)]
    count, book = written(["Case", "Title", "Created (UTC)"], rows, title="Ärenden: [2026]")
    sheet = book.active
    assert count == 1000 and len(book.sheetnames) == 1 and sheet.title == "Ärenden   2026"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:C1001"
    assert [c.value for c in sheet[1]] == ["Case", "Title", "Created (UTC)"]
    assert sheet.max_row == 1001 and sheet.cell(1001, 2).value == "Row 1000"


def test_an_empty_export_is_a_header_alone():
    count, book = written(["Case", "Title"], [])
    assert count == 0 and book.active.max_row == 1 and book.active.auto_filter.ref == "A1:B1"
