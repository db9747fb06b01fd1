"""ICC profiles written here from their published definitions, for photos that carry them.

Pillow can create only sRGB, LAB and XYZ profiles, and no Debian package ships Display P3. A
matrix/TRC profile is a header and eight small tags, so Display P3 and Adobe RGB (1998) are
built from their primaries, white point and tone curve; a CMYK profile from a table of what each
ink mix looks like. The same numbers give the expected sRGB colours in the tests (srgb_of), so a
misread profile cannot hide behind a matching expectation.
"""

from __future__ import annotations

import itertools
import struct

import numpy as np

D65 = (0.3127, 0.3290)
D50_XYZ = (0.9642, 1.0, 0.8249)
SRGB_PRIMARIES = ((0.640, 0.330), (0.300, 0.600), (0.150, 0.060))
P3_PRIMARIES = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
ADOBE_RGB_PRIMARIES = ((0.640, 0.330), (0.210, 0.710), (0.150, 0.060))
ADOBE_RGB_GAMMA = 563 / 256  # 2.19921875, as Adobe's own profile stores it

_BRADFORD = np.array(
    [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
)


def _xyz(xy: tuple[float, float]) -> np.ndarray:
    x, y = xy
    return np.array([x / y, 1.0, (1 - x - y) / y])


def rgb_to_xyz(primaries, white=D65) -> np.ndarray:
    """The matrix from linear RGB to XYZ (white's Y = 1), from chromaticities."""
    columns = np.stack([_xyz(p) for p in primaries], axis=1)
    scale = np.linalg.solve(columns, _xyz(white))
    return columns * scale


def _to_d50(matrix: np.ndarray, white=D65) -> np.ndarray:
    """Adapt an XYZ matrix from `white` to the profile connection space's D50 (Bradford)."""
    source, target = _BRADFORD @ _xyz(white), _BRADFORD @ np.array(D50_XYZ)
    adapt = np.linalg.inv(_BRADFORD) @ np.diag(target / source) @ _BRADFORD
    return adapt @ matrix


def srgb_decode(values: np.ndarray) -> np.ndarray:
    """The sRGB (and Display P3) tone curve: encoded 0..1 to linear."""
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def srgb_of(pixels: np.ndarray, primaries, decode) -> np.ndarray:
    """What 8-bit pixels in an RGB space are in 8-bit sRGB, clipped to its gamut."""
    linear = decode(np.asarray(pixels, float) / 255.0)
    matrix = np.linalg.inv(rgb_to_xyz(SRGB_PRIMARIES)) @ rgb_to_xyz(primaries)
    return np.rint(srgb_encode(linear @ matrix.T) * 255.0).astype(int)


def display_p3() -> bytes:
    return rgb_profile("Display P3", P3_PRIMARIES, _parametric_srgb_curve())


def adobe_rgb() -> bytes:
    return rgb_profile("Adobe RGB (1998)", ADOBE_RGB_PRIMARIES, _gamma_curve(ADOBE_RGB_GAMMA))


def rgb_profile(description: str, primaries, curve: bytes) -> bytes:
    """A display (mntr) matrix/TRC profile, ICC version 2.1, with a D65 white."""
    columns = _to_d50(rgb_to_xyz(primaries))
    tags = {
        b"desc": _text_description(description),
        b"cprt": _text("No copyright, use freely"),
        b"wtpt": _xyz_tag(D50_XYZ),
        b"rXYZ": _xyz_tag(columns[:, 0]),
        b"gXYZ": _xyz_tag(columns[:, 1]),
        b"bXYZ": _xyz_tag(columns[:, 2]),
        b"rTRC": curve,
        b"gTRC": curve,
        b"bTRC": curve,
    }
    return _profile(b"mntr", b"RGB ", tags)


def cmyk_profile(description: str, look, grid: int = 5) -> bytes:
    """An output (prtr) CMYK profile whose A2B0 table says what each ink mix looks like.

    `look(cmyk)` takes inks 0..1 (an array of shape (n, 4)) and gives their sRGB, 0..1.
    """
    steps = np.linspace(0.0, 1.0, grid)
    inks = np.array(list(itertools.product(steps, repeat=4)))  # the first ink varies slowest
    d50 = _to_d50(rgb_to_xyz(SRGB_PRIMARIES))
    xyz = srgb_decode(np.clip(look(inks), 0.0, 1.0)) @ d50.T
    table = np.clip(np.rint(xyz * 32768), 0, 65535).astype(">u2")  # XYZ as u1Fixed15
    identity = np.array([0, 65535], ">u2")
    lut = (
        b"mft2" + bytes(4) + struct.pack(">BBBB", 4, 3, grid, 0)
        + b"".join(_s15(v) for v in np.eye(3).ravel())
        + struct.pack(">HH", 2, 2)
        + identity.tobytes() * 4 + table.tobytes() + identity.tobytes() * 3
    )
    tags = {
        b"desc": _text_description(description),
        b"cprt": _text("No copyright, use freely"),
        b"wtpt": _xyz_tag(D50_XYZ),
        b"A2B0": lut,
    }
    return _profile(b"prtr", b"CMYK", tags)


def _profile(device_class: bytes, colour_space: bytes, tags: dict[bytes, bytes]) -> bytes:
    table_end = 128 + 4 + 12 * len(tags)
    entries, data, offset = [], b"", table_end
    for signature, body in tags.items():
        entries.append(struct.pack(">4sII", signature, offset, len(body)))
        padded = body + bytes(-len(body) % 4)
        data += padded
        offset += len(padded)
    header = (
        struct.pack(">I4sI4s4s4s", offset, b"none", 0x02100000, device_class, colour_space,
                    b"XYZ ")
        + bytes(12) + b"acsp" + bytes(24) + struct.pack(">I", 0)
        + b"".join(_s15(v) for v in D50_XYZ)
    )
    header += bytes(128 - len(header))
    return header + struct.pack(">I", len(tags)) + b"".join(entries) + data


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(xyz) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(_s15(v) for v in xyz)


def _gamma_curve(gamma: float) -> bytes:
    return b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256))


def _parametric_srgb_curve() -> bytes:
    params = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)
    return b"para" + bytes(4) + struct.pack(">HH", 3, 0) + b"".join(_s15(v) for v in params)


def _text(text: str) -> bytes:
    return b"text" + bytes(4) + text.encode("ascii") + b"\0"


def _text_description(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    return (
        b"desc" + bytes(4) + struct.pack(">I", len(ascii_text)) + ascii_text
        + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + bytes(67)
    )
