"""Copy the browser libraries the pages use from node_modules into core/static/vendor.

Run after `npm ci` (the Makefile does): `python -m core.vendor`. The vendor folder is not in git;
package-lock.json pins the exact versions.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "core" / "static" / "vendor"

# node_modules path -> file name under static/vendor
FILES = {
    "signature_pad/dist/signature_pad.umd.min.js": "signature_pad.umd.min.js",
    "signature_pad/LICENSE": "signature_pad.LICENSE.txt",
}


def main() -> int:
    modules = ROOT / "node_modules"
    TARGET.mkdir(parents=True, exist_ok=True)
    missing = [src for src in FILES if not (modules / src).is_file()]
    if missing:
        print(f"missing in node_modules (run `npm ci` first): {', '.join(missing)}", file=sys.stderr)
        return 1
    for src, name in FILES.items():
        shutil.copyfile(modules / src, TARGET / name)
    print(f"copied {len(FILES)} files to {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
