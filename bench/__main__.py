"""Run every benchmark (or those named: `python -m bench case_list sealing`)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(names: list[str]) -> int:
    here = Path(__file__).parent
    modules = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if names:
        modules = [m for m in modules if m.removeprefix("bench_") in names or m in names]
    failed = []
    for name in modules:
        print(f"\n## {name.removeprefix('bench_').replace('_', ' ')}\n", flush=True)
        started = time.monotonic()
        try:
            importlib.import_module(f"bench.{name}").main()
        except Exception as exc:  # noqa: BLE001  one broken benchmark must not hide the others
            failed.append(name)
            print(f"FAILED: {type(exc).__name__}: {exc}", flush=True)
        print(f"\n({name} took {time.monotonic() - started:.0f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
