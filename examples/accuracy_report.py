"""Worst error against the exact mean, npmean.mean vs numpy.mean, on the test suite's arrays.

Run: .venv/bin/python examples/accuracy_report.py  (prints a markdown table)
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "python"), str(ROOT / "tests" / "python")]
import npmean  # noqa: E402
from data import KINDS, SIZES, make  # noqa: E402
from exact import exact_mean, ulps  # noqa: E402

print("| dtype | kind | worst npmean (ulp) | worst numpy.mean (ulp) | arrays where numpy is not correctly rounded |")
print("|---|---|---|---|---|")
for dtype in (np.float32, np.float64):
    for kind in KINDS:
        ours, theirs, wrong = 0, 0, 0
        for n in SIZES:
            x = make(kind, n, dtype)
            exact = exact_mean(x, dtype)
            ours = max(ours, ulps(npmean.mean(x), exact))
            d = ulps(np.mean(x), exact)
            theirs = max(theirs, d)
            wrong += d > 0
        print(f"| {np.dtype(dtype).name} | {kind} | {ours} | {theirs} | {wrong} of {len(SIZES)} |")
