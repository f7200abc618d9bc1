"""Page images are drawn inside a memory and time bound (issue 12).

Before, a decompression bomb cost about 1 GB of the web process's memory for every page image, and
a page far taller than wide was drawn at full width (a bitmap of gigabytes).
"""

from __future__ import annotations

import io

from PIL import Image

from core.cases.documents import render_page_png
from core.extensions import db
from core.models import Document
from core.signing.pages import render_page
from core.storage import blobs
from tenants.scoping import tenant_context
from tests import hostile_pdfs as hostile
from tests.signing.helpers import SARA, make_case, signer


def test_a_page_far_taller_than_wide_is_drawn_narrower_not_gigabytes_tall():
    strip = hostile.plain().replace(b"[0 0 595 842]", b"[0 0 20 14000]")
    png = Image.open(io.BytesIO(render_page_png(strip, 1, 600)))
    assert png.height <= 4 * 600 and png.width >= 1
    webp, height = render_page(strip, 1, 800)
    assert height <= 4 * 800


def test_a_bomb_page_image_fails_alone_and_the_signer_sees_a_placeholder(app, client, people):
    app.config.update(RENDER_MEMORY_MB=128, RENDER_WALL_SECONDS=20)
    made = make_case(people.bob, [signer()])
    with tenant_context(made.case.tenant_id):  # stored before uploads were checked
        document = db.session.get(Document, made.document_id)
        document.sha256 = blobs().put(hostile.flate_bomb())
        db.session.commit()
    client.get(made.path(SARA) + "/lang/en")
    response = client.get(f"{made.path(SARA)}/documents/{made.document_id}/pages/1-800.webp")
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert response.headers["Cache-Control"] == "no-store"
    assert Image.open(io.BytesIO(response.data)).width == 800
    assert client.get(made.path(SARA)).status_code == 200  # the process is fine
