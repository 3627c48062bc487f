"""Time the whole book build against the reference build, page by page.

    .venv/bin/python benchmarks/book_build.py            # run bash scripts/build.sh, then compare its report
    .venv/bin/python benchmarks/book_build.py --report book/generated/build_report.json   # compare an existing report
    .venv/bin/python benchmarks/book_build.py --update   # ... and make it the reference (then regenerate the README)

The reference is ``benchmarks/book_build_report.json`` (committed; the README's runtime column is generated from it).
Prints, per page and phase, the reference seconds, this build's seconds and their ratio (below 1: faster). Pages taken
from the cache measure nothing and are left out. Measure on an otherwise idle machine: other jobs on the cores slow
PyTorch kernels by large, uneven factors.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from invlearn.book import report  # noqa: E402

REFERENCE = ROOT / "benchmarks" / "book_build_report.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", default=None, help="an existing build report (default: build the book now)")
    parser.add_argument("--update", action="store_true", help="make this report the reference")
    args = parser.parse_args(argv)
    path = Path(args.report) if args.report else ROOT / "book" / "generated" / "build_report.json"
    if not args.report:
        subprocess.run(["bash", str(ROOT / "scripts" / "build.sh")], cwd=ROOT, check=False)
    new = report.load(path)
    old = report.load(REFERENCE)
    print(f"reference: commit {old.get('commit') or '?'}, {old.get('jobs', 1)} page(s) at a time; "
          f"this build: commit {new.get('commit') or '?'}, {new.get('jobs', 1)} page(s) at a time")
    print("\n".join(report.compare_lines(old, new, labels=("ref s", "now s"))))
    if args.update:
        shutil.copy(path, REFERENCE)
        print(f"{REFERENCE} updated; regenerate the README: .venv/bin/invlearn report {REFERENCE.relative_to(ROOT)} --readme")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
