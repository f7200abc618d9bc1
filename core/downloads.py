"""File downloads: one way to answer with an attachment, whatever the file's name."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response

from core.text import clean_filename


def attachment(data: bytes, filename: str, mimetype: str = "application/pdf") -> Response:
    """The file as a download; the name survives any characters (RFC 6266 with an ASCII fallback).
    Names are cleaned at upload; cleaning again keeps names stored before that out of the header."""
    filename = clean_filename(filename, default="document.pdf")
    fallback = filename.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}",
        "X-Content-Type-Options": "nosniff",
    })
