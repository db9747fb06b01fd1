"""Calibrates the curation signals on real photos: the numbers in docs/curation.md.

For every photo of the shared corpus and of img/, derived copies (re-encoded, resized, cropped,
blurred, darkened, brightened) go through the core like any upload. Prints the pHash distance
between every pair of distinct scenes, each copy's distance to its original, and how often each
signal moves the documented way.

Run: .venv/bin/python -m bench.curation_calibration
"""

from __future__ import annotations

import itertools
import sys

from dataset.duplicates import MAX_HAMMING_DISTANCE, assign_groups, hamming_distance
from kit.real_photos import (
    COPIES,
    CORPUS,
    ONE_SCENE,
    copy_of,
    photos,
    scene_of,
)
from preprocessing import CurationSignals, process_image


def signals(data: bytes) -> CurationSignals:
    return process_image(data, n_variants=0).curation


def report_scenes(originals: dict[str, CurationSignals]) -> None:
    pairs = sorted(
        (hamming_distance(a.phash, b.phash), name_a, name_b)
        for (name_a, a), (name_b, b) in itertools.combinations(originals.items(), 2)
        if scene_of(name_a) != scene_of(name_b)
    )
    same = [
        hamming_distance(a.phash, b.phash)
        for (name_a, a), (name_b, b) in itertools.combinations(originals.items(), 2)
        if scene_of(name_a) == scene_of(name_b)
    ]
    print(f"{len(pairs)} pairs of distinct scenes; the closest:")
    for distance, name_a, name_b in pairs[:8]:
        print(f"  {distance:2d}  {name_a}  {name_b}")
    print(f"one scene in 8 orientations: max distance {max(same)} over {len(same)} pairs")
    groups = assign_groups([], ((name, s.phash) for name, s in originals.items()))
    founders = {groups[name] for name in originals}
    print(
        f"{len(originals)} photos of {len({scene_of(n) for n in originals})} scenes: "
        f"{len(founders)} groups"
    )


def report_copies(originals: dict[str, CurationSignals], files: dict[str, bytes]) -> None:
    copies = {name: {} for name in COPIES}
    for name, data in files.items():
        for copy_name in COPIES:
            copies[copy_name][name] = signals(copy_of(data, copy_name))
    known = assign_groups([], ((name, s.phash) for name, s in originals.items()))
    known_pairs = [(originals[name].phash, group) for name, group in known.items()]
    print(
        f"\n{'copy':18} max dist  mean  in group  sharper  brighter  more clipped"
        f"   (of {len(files)})"
    )
    for copy_name, by_photo in copies.items():
        distances = [hamming_distance(originals[n].phash, s.phash) for n, s in by_photo.items()]
        sharper = sum(s.sharpness > originals[n].sharpness for n, s in by_photo.items())
        brighter = sum(s.brightness > originals[n].brightness for n, s in by_photo.items())
        clipped = sum(
            s.clipped_fraction > originals[n].clipped_fraction for n, s in by_photo.items()
        )
        mean = sum(distances) / len(distances)
        copy_groups = assign_groups(
            known_pairs, ((f"copy of {n}", s.phash) for n, s in by_photo.items())
        )
        grouped = sum(copy_groups[f"copy of {n}"] == known[n] for n in by_photo)
        print(
            f"{copy_name:18} {max(distances):8d}  {mean:5.2f}  {grouped:8d}  {sharper:7d}"
            f"  {brighter:8d}  {clipped:12d}"
        )
        worst = max(by_photo, key=lambda n: hamming_distance(originals[n].phash, by_photo[n].phash))
        print(f"{'':18} worst: {worst}")


def main() -> None:
    files = photos()
    if not any(name.startswith(ONE_SCENE) for name in files):
        sys.exit(f"the calibration needs the shared corpus at {CORPUS}")
    originals = {name: signals(data) for name, data in files.items()}
    print(f"MAX_HAMMING_DISTANCE = {MAX_HAMMING_DISTANCE}")
    report_scenes(originals)
    report_copies(originals, files)


if __name__ == "__main__":
    main()
