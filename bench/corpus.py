"""The shared corpus's photo groups, loaded into memory for benchmarks."""

from __future__ import annotations

import sys
from pathlib import Path

from settings import PROJECT_ROOT

CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"

GROUPS = {
    "phone (12 MP, 9 MP)": "mobile/*.jpg",
    "camera (small, many makers)": "cameras/*.jpg",
    "gps (640x480)": "gps/*.jpg",
    "damaged 10 MP": "bad/*.jpg",
}


def load_groups() -> dict[str, list[bytes]]:
    """Each group's file contents; exits with a message where the corpus is absent."""
    if not CORPUS.is_dir():
        sys.exit(f"the benchmark needs the shared corpus at {CORPUS}")
    return {
        name: [path.read_bytes() for path in sorted(CORPUS.glob(pattern))]
        for name, pattern in GROUPS.items()
    }


def corpus_files() -> list[Path]:
    return sorted(path for pattern in GROUPS.values() for path in CORPUS.glob(pattern))


