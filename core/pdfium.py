"""pdfium (pypdfium2) is not thread-safe: every use in this process holds `LOCK`.

Two threads in pdfium at once (two previews uploaded at the same moment in a threaded server)
abort the whole process, so the page counter and the preview renderer of the office
(core/cases/documents.py) and the signer's page images (core/signing/pages.py) share this lock.
Hold it only around pdfium calls; encode the images after releasing it.
"""

import threading

LOCK = threading.RLock()
