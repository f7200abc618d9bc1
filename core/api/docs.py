"""/api/docs: the OpenAPI document rendered as a readable page, on the server (nothing from a CDN)."""

from __future__ import annotations

from flask import Blueprint, render_template

from core.api.openapi import openapi_spec

bp = Blueprint("api_docs", __name__, url_prefix="/api")


def resolve(spec: dict, node: dict | None) -> dict:
    """Follow a `$ref` to its component schema."""
    while isinstance(node, dict) and "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node or {}


def type_label(spec: dict, schema: dict) -> str:
    """`string`, `array of Case`, `string (email)` ... for a property's schema."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    kind = schema.get("type", "object")
    if kind == "array":
        return f"array of {type_label(spec, schema.get('items', {}))}"
    label = f"{kind} ({schema['format']})" if "format" in schema else kind
    if "enum" in schema:
        label += ": " + " | ".join(str(v) for v in schema["enum"] if v is not None)
    return label


def operations(spec: dict) -> list[dict]:
    found = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            found.append({"path": path, "method": method.upper(), **operation})
    return found


@bp.get("/docs")
def index():
    spec = openapi_spec()
    schema_names = sorted(spec["components"]["schemas"])
    return render_template("api/docs.html", spec=spec, operations=operations(spec), schema_names=schema_names,
                           resolve=lambda node: resolve(spec, node), type_label=lambda s: type_label(spec, s))
