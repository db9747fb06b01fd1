"""OpenCV, imported once for the core and pinned to one thread.

Spark runs one Python worker per task slot, each calling the core on one photo at a time; OpenCV's
own thread pool (one thread per core by default) would make every task compete with the other
slots for the same cores. One thread per call keeps one core per Spark task.
"""

import cv2

cv2.setNumThreads(1)

__all__ = ["cv2"]
