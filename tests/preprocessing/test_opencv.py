"""OpenCV in the core: one thread per call, and an RGBA source warps like the RGB one."""

import numpy as np

import preprocessing  # noqa: F401  (importing the core pins OpenCV's threads)
from kit.photos import scene
from preprocessing.opencv import cv2, warp_rgb, warp_source


def test_importing_the_core_leaves_opencv_one_thread_per_spark_task():
    assert cv2.getNumThreads() == 1


def test_the_rgba_warp_gives_the_rgb_warp_pixel_for_pixel():
    pixels = scene(320, 240)
    matrix = np.array([[0.9, 0.3, 10.0], [-0.3, 0.9, 60.0]])

    rgb = cv2.warpAffine(
        pixels,
        matrix,
        (224, 224),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )

    np.testing.assert_array_equal(warp_rgb(warp_source(pixels), matrix, 224), rgb)
