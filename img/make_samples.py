"""Draws the synthetic field photos in img/<crop>/ with phone-like EXIF.

The pictures are procedural (numpy + PIL), not real photos: a sky, a distant backdrop and
rows of crop plants on soil, in perspective towards the horizon. Every random choice comes
from a seed fixed per photo, so re-running rewrites byte-identical files.

Run: .venv/bin/python img/make_samples.py
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import piexif
from PIL import Image, ImageDraw, ImageFilter

IMG_DIR = Path(__file__).resolve().parent
WIDTH, HEIGHT = 640, 480
FOCAL_PX = 500.0  # ground maths in camera heights: a point (X, z) lands at dy = F/z, dx = X*dy
FAR_Z = 25.0  # plants further than this are drawn as a texture band instead
PHOTOS_PER_CROP = 7
JPEG_QUALITY = 80
SEED = 2026
PHONES = (
    ("samsung", "SM-A155F"),
    ("Google", "Pixel 7a"),
    ("Xiaomi", "Redmi Note 13"),
    ("Apple", "iPhone 13"),
)
ROTATIONS = (6, 3, 8)  # EXIF orientations of the photos taken with the phone turned
# Pixels are stored so that applying the tag shows the scene upright (as PIL.ImageOps does).
STORED_AS = {
    6: Image.Transpose.ROTATE_90,
    3: Image.Transpose.ROTATE_180,
    8: Image.Transpose.ROTATE_270,
}

Colour = tuple[int, int, int]
PlantDrawer = Callable[[ImageDraw.ImageDraw, np.random.Generator, float, float, float], None]


def jitter(rng: np.random.Generator, colour: Colour, spread: float) -> Colour:
    """A colour varied by a random brightness and a little per-channel noise."""
    shade = rng.normal(1.0, spread)
    # min/max on plain floats, not np.clip: the same values, several times faster per call
    return tuple(int(min(max(c * shade + rng.normal(0, 6), 0.0), 255.0)) for c in colour)


def smooth_noise(rng: np.random.Generator, width: int, height: int, grid: tuple[int, int]):
    """Values in [0, 1] varying smoothly over a (rows, columns) grid of blobs."""
    small = Image.fromarray((rng.random(grid) * 255).astype(np.uint8))
    return np.asarray(small.resize((width, height), Image.Resampling.BICUBIC)) / 255.0


def draw_maize(draw, rng, x, y, scale):
    """A tall green stalk with arching leaves and a pale tassel."""
    height, green = 0.9 * scale, jitter(rng, (62, 128, 38), 0.12)
    lean = rng.normal(0, 0.04) * height
    top = (x + lean, y - height)
    draw.line([(x, y), top], fill=jitter(rng, (120, 150, 60), 0.08), width=max(1, int(scale / 60)))
    for i in range(6):
        t = 0.25 + 0.12 * i
        base = (x + lean * t, y - height * t)
        side = 1 if i % 2 else -1
        reach = side * height * rng.uniform(0.25, 0.4)
        tip = (base[0] + reach, base[1] + height * rng.uniform(-0.05, 0.15))
        bend = (base[0] + reach * 0.5, base[1] - height * 0.12)
        draw.polygon([base, bend, tip, (bend[0], bend[1] + max(2, height * 0.03))], fill=green)
    tassel = jitter(rng, (214, 196, 120), 0.08)
    for _ in range(4):
        draw.line([top, (top[0] + rng.normal(0, 0.05) * height, top[1] - 0.1 * height)], tassel)


def draw_wheat(draw, rng, x, y, scale):
    """A tuft of golden stems, each topped by a darker ear."""
    height = 0.55 * scale
    for _ in range(7):
        foot = x + rng.normal(0, 0.09) * scale
        tip = (foot + rng.normal(0, 0.04) * scale, y - height * rng.uniform(0.8, 1.1))
        draw.line([(foot, y), tip], fill=jitter(rng, (212, 176, 88), 0.08))
        ear = max(1.0, 0.035 * scale)
        draw.ellipse(
            [tip[0] - ear / 2.5, tip[1] - ear * 2, tip[0] + ear / 2.5, tip[1]],
            fill=jitter(rng, (176, 132, 52), 0.1),
        )


def draw_cassava(draw, rng, x, y, scale):
    """A reddish stem carrying umbrellas of broad, dark, finger-like leaves."""
    height = 0.6 * scale
    draw.line(
        [(x, y), (x, y - height)],
        fill=jitter(rng, (120, 60, 50), 0.1),
        width=max(1, int(scale / 80)),
    )
    for _ in range(3):
        centre = (x + rng.normal(0, 0.12) * scale, y - height * rng.uniform(0.7, 1.05))
        green = jitter(rng, (30, 82, 34), 0.15)
        for angle in np.linspace(0, 2 * np.pi, 7, endpoint=False) + rng.uniform(0, 1):
            length = 0.22 * scale * rng.uniform(0.7, 1.0)
            tip = (centre[0] + np.cos(angle) * length, centre[1] + np.sin(angle) * length * 0.55)
            normal = (-np.sin(angle) * length * 0.14, np.cos(angle) * length * 0.08)
            middle = ((centre[0] + tip[0]) / 2, (centre[1] + tip[1]) / 2)
            draw.polygon(
                [
                    centre,
                    (middle[0] + normal[0], middle[1] + normal[1]),
                    tip,
                    (middle[0] - normal[0], middle[1] - normal[1]),
                ],
                fill=green,
            )


def draw_coffee(draw, rng, x, y, scale):
    """A rounded dark shrub of leaf clumps with a few clusters of red cherries."""
    radius = 0.32 * scale
    centre_y = y - radius
    for _ in range(70):
        angle, reach = rng.uniform(0, 2 * np.pi), np.sqrt(rng.uniform(0, 1)) * radius
        cx, cy = x + np.cos(angle) * reach, centre_y + np.sin(angle) * reach * 0.9
        r = radius * rng.uniform(0.12, 0.24)
        light = 1.15 - 0.3 * (cy - centre_y + radius) / (2 * radius)  # sunlit on top
        green = tuple(int(c * light) for c in (30, 78, 38))
        draw.ellipse([cx - r, cy - r * 0.6, cx + r, cy + r * 0.6], fill=jitter(rng, green, 0.15))
    cherry = 0.012 * scale
    if cherry < 1:
        return
    for _ in range(rng.integers(2, 6)):
        cx, cy = x + rng.normal(0, 0.5) * radius, centre_y + rng.normal(0, 0.4) * radius
        for _ in range(rng.integers(3, 7)):
            dx, dy = rng.normal(0, 2.5 * cherry, 2)
            draw.ellipse(
                [cx + dx - cherry, cy + dy - cherry, cx + dx + cherry, cy + dy + cherry],
                fill=jitter(rng, (180, 30, 34), 0.12),
            )


@dataclass(frozen=True)
class Crop:
    """What a farm of one crop looks like, and where it is."""

    name: str
    farm: tuple[float, float]  # latitude, longitude in degrees
    altitude_m: float
    months: tuple[int, ...]  # when the photos are taken
    soil: Colour
    far_colour: Colour  # the crop seen from far away
    row_spacing: float  # in camera heights
    plant_spacing: float
    draw_plant: PlantDrawer
    hills: bool  # a hill line behind the field instead of a flat tree line


CROPS = (
    Crop(
        name="maize",  # near Ames, Iowa
        farm=(42.0308, -93.6319),
        altitude_m=290,
        months=(6, 7, 8),
        soil=(98, 72, 48),
        far_colour=(70, 110, 45),
        row_spacing=0.55,
        plant_spacing=0.3,
        draw_plant=draw_maize,
        hills=False,
    ),
    Crop(
        name="wheat",  # near Salina, Kansas
        farm=(38.8403, -97.6114),
        altitude_m=375,
        months=(5, 6),
        soil=(168, 134, 76),
        far_colour=(205, 170, 95),
        row_spacing=0.35,
        plant_spacing=0.25,
        draw_plant=draw_wheat,
        hills=False,
    ),
    Crop(
        name="cassava",  # near Cruz das Almas, Bahia, Brazil
        farm=(-12.6750, -39.1017),
        altitude_m=220,
        months=(3, 4, 9),
        soil=(150, 78, 46),
        far_colour=(36, 84, 40),
        row_spacing=0.7,
        plant_spacing=0.55,
        draw_plant=draw_cassava,
        hills=False,
    ),
    Crop(
        name="coffee",  # Kiambu highlands, Kenya
        farm=(-1.1714, 36.8356),
        altitude_m=1690,
        months=(10, 11, 12),
        soil=(122, 64, 44),
        far_colour=(40, 80, 45),
        row_spacing=1.0,
        plant_spacing=0.7,
        draw_plant=draw_coffee,
        hills=True,
    ),
)


@dataclass(frozen=True)
class Shot:
    """Where the camera stands and points in one photo."""

    horizon: int  # pixel row of the horizon
    vanish_x: float  # pixel column the rows converge to
    row_offset: float  # lateral shift of the rows, in row spacings


def draw_sky(rng: np.random.Generator, shot: Shot) -> np.ndarray:
    """A blue gradient, paler at the horizon, with soft clouds."""
    rows = np.linspace(0, 1, shot.horizon)[:, None, None]
    top, low = np.array([70, 120, 200]), np.array([190, 215, 235])
    sky = top + (low - top) * rows**0.7
    clouds = np.clip((smooth_noise(rng, WIDTH, shot.horizon, (4, 6)) - 0.5) * 3, 0, 1)[..., None]
    sky = sky * (1 - clouds) + np.array([245, 245, 248]) * clouds
    return np.broadcast_to(sky, (shot.horizon, WIDTH, 3))


def draw_ground(rng: np.random.Generator, crop: Crop, shot: Shot) -> np.ndarray:
    """Soil with furrows along the rows, hazier towards the horizon."""
    dy = np.arange(1, HEIGHT - shot.horizon + 1)[:, None]
    lateral = (np.arange(WIDTH)[None, :] - shot.vanish_x) / dy  # ground X in camera heights
    furrows = 0.5 + 0.5 * np.cos(2 * np.pi * (lateral / crop.row_spacing - shot.row_offset))
    texture = smooth_noise(rng, WIDTH, len(dy), (12, 40)) * 0.5 + rng.random((len(dy), WIDTH)) * 0.5
    shade = 0.75 + 0.2 * furrows * np.clip(dy / 60, 0, 1) + 0.25 * (texture - 0.5)
    ground = np.array(crop.soil) * shade[..., None]
    far = np.exp(-dy / (FOCAL_PX / FAR_Z))[..., None]  # the far field blends to the crop colour
    ground = ground * (1 - far) + np.array(crop.far_colour) * far
    haze = np.exp(-dy / 12)[..., None]
    return ground * (1 - 0.4 * haze) + np.array([190, 205, 215]) * 0.4 * haze


def draw_backdrop(draw: ImageDraw.ImageDraw, rng: np.random.Generator, crop: Crop, shot: Shot):
    """Distant blue hills or a dark tree line standing on the horizon."""
    xs = np.arange(0, WIDTH + 8, 8)
    if crop.hills:
        for depth, colour in ((60, (120, 140, 160)), (30, (64, 98, 66))):
            profile = smooth_noise(rng, len(xs), 1, (1, 4))[0] * depth + depth * 0.3
            draw.polygon(
                [(0, shot.horizon)]
                + [(x, shot.horizon - h) for x, h in zip(xs, profile, strict=True)]
                + [(WIDTH, shot.horizon)],
                fill=jitter(rng, colour, 0.05),
            )
    else:
        for x in xs:
            r = rng.uniform(4, 12)
            draw.ellipse(
                [x - r, shot.horizon - 2 * r, x + r, shot.horizon + 2],
                fill=jitter(rng, (48, 70, 48), 0.1),
            )


def plants_in_view(rng: np.random.Generator, crop: Crop, shot: Shot):
    """(x, y, scale) of each plant on screen, far ones first so near ones paint over them."""
    nearest = FOCAL_PX / (HEIGHT - shot.horizon) * 0.8
    plants = []
    for z in np.arange(nearest, FAR_Z, crop.plant_spacing):
        dy = FOCAL_PX / z
        lateral_range = (np.array([-shot.vanish_x, WIDTH - shot.vanish_x]) / dy) / crop.row_spacing
        for row in range(int(lateral_range[0]) - 2, int(lateral_range[1]) + 2):
            lateral = (row + shot.row_offset + rng.normal(0, 0.04)) * crop.row_spacing
            step = rng.normal(0, 0.1) * crop.plant_spacing
            x = shot.vanish_x + lateral * dy
            if -0.5 * dy < x < WIDTH + 0.5 * dy:
                plants.append((x, shot.horizon + FOCAL_PX / (z + step), dy))
    return sorted(plants, key=lambda plant: plant[1])


def draw_field(rng: np.random.Generator, crop: Crop) -> Image.Image:
    """One upright landscape picture of a field of `crop`."""
    shot = Shot(
        horizon=int(rng.uniform(0.28, 0.42) * HEIGHT),
        vanish_x=rng.uniform(0.3, 0.7) * WIDTH,
        row_offset=rng.uniform(0, 1),
    )
    pixels = np.concatenate([draw_sky(rng, shot), draw_ground(rng, crop, shot)])
    picture = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    draw_backdrop(draw, rng, crop, shot)
    for x, y, scale in plants_in_view(rng, crop, shot):
        crop.draw_plant(draw, rng, x, y, scale)
    grain = rng.normal(0, 3, (HEIGHT, WIDTH, 1))
    softened = np.asarray(picture.filter(ImageFilter.GaussianBlur(0.7)), dtype=float)
    return Image.fromarray(np.clip(softened + grain, 0, 255).astype(np.uint8))


def to_dms(degrees: float) -> tuple[tuple[int, int], ...]:
    """Degrees as the EXIF (degrees, minutes, seconds) rationals, sign dropped."""
    whole = abs(degrees)
    minutes = (whole - int(whole)) * 60
    seconds = (minutes - int(minutes)) * 60
    return (int(whole), 1), (int(minutes), 1), (round(seconds * 1000), 1000)


def gps_tags(latitude: float, longitude: float, altitude_m: float) -> dict:
    """The EXIF GPS IFD for a position on the WGS-84 ellipsoid."""
    return {
        piexif.GPSIFD.GPSVersionID: (2, 3, 0, 0),
        piexif.GPSIFD.GPSLatitudeRef: "N" if latitude >= 0 else "S",
        piexif.GPSIFD.GPSLatitude: to_dms(latitude),
        piexif.GPSIFD.GPSLongitudeRef: "E" if longitude >= 0 else "W",
        piexif.GPSIFD.GPSLongitude: to_dms(longitude),
        piexif.GPSIFD.GPSAltitudeRef: 0,
        piexif.GPSIFD.GPSAltitude: (round(altitude_m * 10), 10),
        piexif.GPSIFD.GPSMapDatum: "WGS-84",
    }


def exif_for(
    rng: np.random.Generator, crop: Crop, number: int, orientation: int, with_gps: bool
) -> bytes:
    """Phone-like EXIF: camera, capture time, orientation and, maybe, a jittered farm position."""
    make, model = PHONES[(number + len(crop.name)) % len(PHONES)]
    month = int(rng.choice(crop.months))
    taken = (
        f"2026:{month:02d}:{rng.integers(1, 29):02d} "
        f"{rng.integers(7, 18):02d}:{rng.integers(0, 60):02d}:{rng.integers(0, 60):02d}"
    )
    latitude, longitude = np.array(crop.farm) + rng.uniform(-0.02, 0.02, 2)  # about 2 km
    altitude = crop.altitude_m + rng.normal(0, 8)
    return piexif.dump(
        {
            "0th": {
                piexif.ImageIFD.Make: make,
                piexif.ImageIFD.Model: model,
                piexif.ImageIFD.Orientation: orientation,
                piexif.ImageIFD.DateTime: taken,
            },
            "Exif": {
                piexif.ExifIFD.DateTimeOriginal: taken,
                piexif.ExifIFD.DateTimeDigitized: taken,
            },
            "GPS": gps_tags(latitude, longitude, altitude) if with_gps else {},
        }
    )


def write_photo(crop_index: int, number: int, folder: Path = IMG_DIR, seed: int = SEED) -> Path:
    """Draws, tags and saves photo `number` of crop `crop_index` into folder/<crop>/; returns its
    path. Other seeds draw other photos (tests and benchmarks use them, into a folder of theirs)."""
    crop = CROPS[crop_index]
    rng = np.random.default_rng([seed, crop_index, number])
    with_gps = (crop_index + number) % 4 != 3  # one photo in four has no position
    orientation = ROTATIONS[(crop_index + number) % 3] if number in (1, 5) else 1
    picture = draw_field(rng, crop)
    if orientation != 1:
        picture = picture.transpose(STORED_AS[orientation])
    path = folder / crop.name / f"{crop.name}_{number + 1:02d}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = exif_for(rng, crop, number, orientation, with_gps)
    picture.save(path, "JPEG", quality=JPEG_QUALITY, exif=exif)
    return path


def main() -> None:
    for crop_index in range(len(CROPS)):
        for number in range(PHOTOS_PER_CROP):
            print(write_photo(crop_index, number).relative_to(IMG_DIR))


if __name__ == "__main__":
    main()
