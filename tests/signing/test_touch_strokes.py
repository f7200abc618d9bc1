"""The touch method's strokes for signature fields and the receipt: the pad's points as stored,
and the picture instead when the strokes are missing or unreadable (the seal never stops)."""

from __future__ import annotations

import json
from types import SimpleNamespace

from core.fields.drawing import Strokes
from core.signing.touch import TouchMethod
from core.storage import blobs


def signature(evidence: dict):
    return SimpleNamespace(evidence=evidence, party_id=7)


def test_the_stored_pad_points_become_strokes(app):
    with app.app_context():
        data = [{"color": "#0b1a3a", "points": [{"x": 10, "y": 50, "time": 0, "pressure": 0.5},
                                                 {"x": 60.5, "y": 20, "time": 16, "pressure": 0.5}]},
                {"color": "#0b1a3a", "points": [{"x": 80, "y": 40, "time": 40, "pressure": 0.5}]}]
        digest = blobs().put(json.dumps(data).encode())
        strokes = TouchMethod().signature_strokes(signature({"strokes_sha256": digest}))
    assert strokes == Strokes((((10.0, 50.0), (60.5, 20.0)), ((80.0, 40.0),)))


def test_missing_or_unreadable_strokes_leave_the_picture_to_show(app):
    with app.app_context():
        method = TouchMethod()
        assert method.signature_strokes(signature({})) is None
        assert method.signature_strokes(signature({"strokes_sha256": "0" * 64})) is None
        broken = blobs().put(b"{not json")
        assert method.signature_strokes(signature({"strokes_sha256": broken})) is None
        wrong_shape = blobs().put(b'[{"points": [{"x": "a"}]}]')
        assert method.signature_strokes(signature({"strokes_sha256": wrong_shape})) is None
