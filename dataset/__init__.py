"""The dataset format shared by the batch and streaming jobs, and its reader.

    root/raw/<image_id>.<ext>                original bytes, content-addressed
    root/rejected/<image_id>.json            why a photo was refused (dead letters)
    root/shards/<group>/<name>.tar           WebDataset shards: <id>_<variant>.npy + .json
    root/manifest/                           a Delta Lake table, one row per image
"""

from dataset.reader_checks import DatasetError, DatasetNotFound, DatasetUnreachable, InvalidFilter

__all__ = ["DatasetError", "DatasetNotFound", "DatasetReader", "DatasetUnreachable",
           "InvalidFilter"]


def __getattr__(name: str):
    """DatasetReader on first use: the reader imports webdataset, which imports PyTorch where it
    is installed (seconds), and the API, the jobs' workers and the commands that import
    dataset's other modules never read shards."""
    if name == "DatasetReader":
        from dataset.reader import DatasetReader

        return DatasetReader
    raise AttributeError(f"module 'dataset' has no attribute {name!r}")
