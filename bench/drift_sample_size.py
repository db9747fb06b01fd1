"""How often an unchanged stream reads as drift: the PSI of windows drawn from the very
distribution the reference was drawn from, for reference and window sizes, with model/drift.py's
ten decile bins. The numbers in docs/model.md, "Drift".

Run: .venv/bin/python -m bench.drift_sample_size [trials]   (about a minute for 1,000 trials)
"""

from __future__ import annotations

import sys

import numpy as np

from model.drift import numeric_histogram, window_psi

REFERENCE_PHOTOS = (28, 100, 300, 1_000, 10_000)
WINDOW_PHOTOS = (20, 50, 100, 200, 300, 500, 1_000)


def unchanged_psi(reference_photos: int, window_photos: int, trials: int,
                  rng: np.random.Generator) -> np.ndarray:
    """The PSI of `trials` windows against as many references, all from one distribution."""
    return np.array([window_psi(numeric_histogram(rng.normal(size=reference_photos)),
                                rng.normal(size=window_photos)) for _ in range(trials)])


def main(trials: int = 1_000) -> None:
    rng = np.random.default_rng(0)
    print(f"PSI of an unchanged stream, {trials} trials each")
    print("| reference | window | median | 99th percentile | > 0.1 | > 0.25 |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for reference_photos in REFERENCE_PHOTOS:
        for window_photos in WINDOW_PHOTOS:
            values = unchanged_psi(reference_photos, window_photos, trials, rng)
            print(f"| {reference_photos:,} | {window_photos:,} | {np.median(values):.3f} | "
                  f"{np.quantile(values, 0.99):.3f} | {np.mean(values > 0.1):.1%} | "
                  f"{np.mean(values > 0.25):.1%} |")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
