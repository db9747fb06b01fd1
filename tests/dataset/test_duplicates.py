"""Near-duplicate groups: assigned once by pHash distance, stable as the dataset grows.

The threshold's promises on real photos (docs/curation.md): copies of a photo land in its group,
distinct scenes never share one.
"""

import time

import numpy as np
import pytest

from dataset.duplicates import MAX_HAMMING_DISTANCE, assign_groups, hamming_distance
from kit.real_photos import copy_of, photos, scene_of
from preprocessing import process_image

PHOTOS = photos()
# Every photo but the two full-size phone photos, which take long to copy.
SMALL = [name for name in PHOTOS if not name.startswith(("mobile/", "bad/"))]
SAME_GROUP_COPIES = ["JPEG q70", "JPEG q90", "resize 90%", "resize 75%", "crop 2%", "blur r2"]

BASE = 0x0123_4567_89AB_CDEF


def away(bits: int, start: int = 0, base: int = BASE) -> str:
    """The hex pHash `bits` bits away from `base`, flipping bits start, start + 1, ..."""
    return f"{base ^ (((1 << bits) - 1) << start):016x}"


def phash_of(data: bytes) -> str:
    return process_image(data, n_variants=0).curation.phash


@pytest.fixture(scope="module")
def originals() -> dict[str, str]:
    return {name: phash_of(data) for name, data in PHOTOS.items()}


@pytest.fixture(scope="module")
def groups(originals) -> dict[str, str]:
    return assign_groups([], originals.items())


def test_hamming_distance_counts_the_differing_bits():
    assert hamming_distance(away(0), away(0)) == 0
    assert hamming_distance(away(5), away(0)) == 5
    assert hamming_distance("0" * 16, "f" * 16) == 64


def test_a_photo_unlike_any_other_founds_a_group_named_by_its_id():
    assert assign_groups([(away(0), "old")], [("new", away(12, start=30))]) == {"new": "new"}


def test_exact_duplicates_share_a_group():
    assert assign_groups([], [("first", away(0)), ("again", away(0))]) == {
        "first": "first",
        "again": "first",
    }


def test_a_photo_within_the_threshold_joins_and_one_beyond_it_does_not():
    known = [(away(0), "scene")]
    new = [("near", away(MAX_HAMMING_DISTANCE)), ("far", away(MAX_HAMMING_DISTANCE + 1, start=40))]

    assert assign_groups(known, new) == {"near": "scene", "far": "far"}


def test_the_nearest_group_wins():
    known = [(away(6), "a"), (away(2, start=20), "b")]

    assert assign_groups(known, [("new", away(0))]) == {"new": "b"}


def test_equally_near_groups_go_to_the_smaller_name():
    known = [(away(4), "b"), (away(4, start=40), "a"), (away(4, start=20), "c")]

    assert assign_groups(known, [("new", away(0))]) == {"new": "a"}


def test_an_earlier_photo_of_the_same_batch_counts_as_known():
    new = [("first", away(6)), ("second", away(0))]

    assert assign_groups([(away(8, start=40), "old")], new) == {
        "first": "first",
        "second": "first",
    }


def test_a_chain_of_near_copies_stays_in_the_first_group():
    chain = [("x", away(0)), ("y", away(6)), ("z", away(12))]  # x and z are 12 apart

    assert assign_groups([], chain) == {"x": "x", "y": "x", "z": "x"}


def test_groups_never_merge():
    known = [(away(0), "left"), (away(16), "right")]  # a bridge 8 from both joins one of them

    assert assign_groups(known, [("bridge", away(8))]) == {"bridge": "left"}


def test_assigning_in_batches_equals_assigning_at_once():
    rng = np.random.default_rng(7)
    centres = rng.integers(0, 2**63, 40, dtype=np.uint64)
    new = [
        (f"photo{i}", away(int(rng.integers(0, 7)), int(rng.integers(0, 57)), int(centre)))
        for i, centre in enumerate(rng.choice(centres, 400))
    ]
    at_once = assign_groups([], new)

    first = assign_groups([], new[:150])
    known = [(phash, first[image_id]) for image_id, phash in new[:150]]
    later = assign_groups(known, new[150:])

    assert {**first, **later} == at_once
    assert len(set(at_once.values())) < len(new)  # the sample does group photos


def test_a_bigger_table_never_changes_the_groups_already_assigned():
    known = [(away(0), "scene")]
    grown = known + [(away(2, start=50), "zzz"), (away(1, start=30), "aaa")]

    assert assign_groups(known, []) == assign_groups(grown, []) == {}
    assert assign_groups(grown, [("copy", away(0))]) == {"copy": "scene"}


def test_a_thousand_photos_against_a_hundred_thousand_are_grouped_in_under_a_second():
    values = np.random.default_rng(11).integers(0, 2**64, 101_000, dtype=np.uint64).tolist()
    known = [(f"{value:016x}", f"g{i}") for i, value in enumerate(values[:100_000])]
    new = [(f"n{i}", f"{value:016x}") for i, value in enumerate(values[100_000:])]

    started = time.perf_counter()
    assign_groups(known, new)

    assert time.perf_counter() - started < 1.0


def test_distinct_scenes_of_the_real_photos_never_share_a_group(groups):
    scene_by_group = {}
    for name, group in groups.items():
        assert scene_by_group.setdefault(group, scene_of(name)) == scene_of(name), name


def test_one_scene_in_eight_orientations_is_one_group(groups):
    orientations = {group for name, group in groups.items() if name.startswith("orientation/")}

    assert len(orientations) <= 1


@pytest.mark.parametrize("copy_name", SAME_GROUP_COPIES)
def test_a_copy_lands_in_its_originals_group(copy_name, originals, groups):
    known = [(originals[name], groups[name]) for name in PHOTOS]
    copies = [(f"copy of {name}", phash_of(copy_of(PHOTOS[name], copy_name))) for name in SMALL]

    assert assign_groups(known, copies) == {f"copy of {name}": groups[name] for name in SMALL}
