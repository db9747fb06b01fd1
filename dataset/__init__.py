"""The dataset format shared by the batch and streaming jobs, and its reader.

    root/raw/<image_id>.<ext>                original bytes, content-addressed
    root/rejected/<image_id>.json            why a photo was refused (dead letters)
    root/shards/<group>/<name>.tar           WebDataset shards: <id>_<variant>.npy + .json
    root/manifest/                           a Delta Lake table, one row per image
"""

from dataset.reader import DatasetReader
from dataset.reader_checks import DatasetError, DatasetNotFound, DatasetUnreachable, InvalidFilter

__all__ = ["DatasetError", "DatasetNotFound", "DatasetReader", "DatasetUnreachable",
           "InvalidFilter"]
