"""The confusion matrix as a picture: a PNG drawn with Pillow (no plotting library needed).

Rows are the true labels, columns the predictions; each cell shows its count and is shaded by
its share of the row, so a row's errors stand out whatever the class sizes."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

CELL, MARGIN, TITLE = 72, 150, 56


def confusion_png(labels: list[str], counts: list[list[int]], title: str) -> bytes:
    """PNG bytes of the matrix, with the title above it."""
    n = len(labels)
    size = (max(MARGIN + n * CELL + 20, 560), TITLE + MARGIN + n * CELL + 20)
    picture = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=14)
    draw.text((10, 10), title, fill="black", font=font)
    top = TITLE + MARGIN
    draw.text((MARGIN, TITLE + 4), "predicted", fill="black", font=font)
    draw.text((10, TITLE + MARGIN - 24), "true", fill="black", font=font)
    for i, label in enumerate(labels):
        draw.text((10, top + i * CELL + CELL // 2 - 8), label[:16], fill="black", font=font)
        name = Image.new("L", (MARGIN - 40, 20), 0)
        ImageDraw.Draw(name).text((0, 0), label[:16], fill=255, font=font)
        upright = name.rotate(90, expand=True)
        picture.paste("black", (MARGIN + i * CELL + CELL // 2 - 10, TITLE + 30), upright)
    for i, row in enumerate(counts):
        total = sum(row) or 1
        for j, count in enumerate(row):
            share = count / total
            shade = (int(255 - 200 * share), int(255 - 120 * share), 255) if i == j else (
                255, int(255 - 200 * share), int(255 - 200 * share))
            box = (MARGIN + j * CELL, top + i * CELL, MARGIN + (j + 1) * CELL, top + (i + 1) * CELL)
            draw.rectangle(box, fill=shade, outline="grey")
            draw.text((box[0] + CELL // 2, box[1] + CELL // 2), str(count), fill="black",
                      font=font, anchor="mm")
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()
