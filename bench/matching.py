"""Catalog and person matching: right lookups and lookups/s of the own word matcher, `rapidfuzz`
alone, the own matcher with `rapidfuzz` only when it finds nothing, and the shipped matcher, on the
labelled lookups of tests/unit/extract/labelled_matching.py (the matchers are the test's).

    PYTHONPATH=src .venv/bin/python bench/matching.py [--passes 200]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
Cases = Sequence[tuple[str, str | None]]


def _rate(matcher: Callable[[str], str | None], cases: Cases, passes: int) -> float:
    """Lookups per second, best of three runs of ``passes`` passes over the cases."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(passes):
            for query, _expected in cases:
                matcher(query)
        best = min(best, time.perf_counter() - start)
    return passes * len(cases) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passes", type=int, default=200)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    test = importlib.import_module("tests.unit.extract.test_matching_libraries")
    labelled = importlib.import_module("tests.unit.extract.labelled_matching")
    sets = {
        "products": (test.PRODUCT_MATCHERS, labelled.PRODUCT_QUERIES),
        "people": (test.PERSON_MATCHERS, labelled.PERSON_QUERIES),
    }
    report: dict[str, Any] = {"at": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")}
    for set_name, (matchers, cases) in sets.items():
        rows = report.setdefault(set_name, {"lookups": len(cases), "matchers": {}})["matchers"]
        for name, matcher in matchers.items():
            rows[name] = {
                "right": test.score(matcher, cases),
                "lookups_per_s": round(_rate(matcher, cases, args.passes)),
            }
            print(
                f"{set_name:9} {name:28} {rows[name]['right']:>3}/{len(cases)}"
                f" {rows[name]['lookups_per_s']:>9,} lookups/s"
            )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "matching.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
