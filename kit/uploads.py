"""Upload bodies for the API's tests and benchmarks, built here with Pillow and zlib; corpus
photos when present; image ids."""

from __future__ import annotations

import functools
import hashlib
import io
import os
import struct
import uuid
import zlib
from pathlib import Path

import pytest
from PIL import Image

CORPUS = Path("/work/shared/corpus")


def jpeg(width: int = 320, height: int = 240, seed: int = 0) -> bytes:
    """A small JPEG; different seeds give different bytes, hence different image ids."""
    image = Image.new("RGB", (width, height), (40 + seed % 200, 160, 60))
    for x in range(0, width, 16):
        image.paste((x % 256, (x * 7 + seed) % 256, 90), (x, 0, x + 8, height))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def unique_jpeg(width: int = 320, height: int = 240) -> bytes:
    """A JPEG of random pixels: bytes, hence an image id, that no other test sends."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(buffer, "JPEG")
    return buffer.getvalue()


def gif() -> bytes:
    """A valid image in a format the pipeline does not take."""
    buffer = io.BytesIO()
    Image.new("P", (32, 32)).save(buffer, "GIF")
    return buffer.getvalue()


def truncated_jpeg() -> bytes:
    """The first half of a JPEG: the header is fine, the entropy-coded data stops early."""
    data = jpeg(640, 480, seed=7)
    return data[: len(data) // 2]


@functools.cache
def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A valid 1-bit PNG of width x height black pixels: a few hundred KB that decode to 900 MP."""
    row = b"\x00" + bytes((width + 7) // 8)  # filter type 0, then the packed bits
    deflate = zlib.compressobj(9)
    idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND")


def _chunk(kind: bytes, data: bytes = b"") -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def corpus_photo(relative: str) -> bytes:
    """A real photo from the shared corpus; the test is skipped where the corpus is absent."""
    path = CORPUS / relative
    if not path.is_file():
        pytest.skip(f"{path} is not on this machine")
    return path.read_bytes()


def new_image_id() -> str:
    """A fresh image id nobody has uploaded."""
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()
