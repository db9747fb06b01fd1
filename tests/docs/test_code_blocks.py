"""The Python blocks of README.md and docs/dataset.md run as written, against a real dataset.

How the blocks run:
- Each ```python block is a test. A document's blocks share one namespace, like a notebook's
  cells: a block's test runs the blocks above it first, then the block.
- They read a dataset written here from img/ (with the dataset writer, plus a photo uploaded
  without a label), once on the session's S3, in a bucket of its own, and once in a directory.
  The roots the documents name, "s3://field-images/dataset" and "out/dataset", are replaced by
  those two; nothing else in a block is changed.
- A block that is not meant to run says so in an HTML comment on the line before its fence,
  `<!-- not run: why -->`, and is skipped with that reason.
- A block that imports a package the project does not depend on (OPTIONAL: torch) is skipped,
  with that reason, where the package is not installed; the blocks above it still run in the
  tests of their own.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.object_store import LocalStore, S3Store
from adapters.s3 import make_s3_client
from dataset.manifest import Manifest
from dataset.manifest_writer import ManifestWriter
from dataset.splits import split_of
from dataset.writer import write_group
from infra.schemas import ensure_bucket, remove_bucket
from kit.photos import encode, photo_like
from photo.upload import Upload, process_upload
from preprocessing import image_id_of

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ("README.md", "docs/dataset.md")
S3_ROOT, LOCAL_ROOT = "s3://field-images/dataset", "out/dataset"
OPTIONAL = {"torch": "PyTorch is not a dependency of this project"}
FRACTIONS = (0.6, 0.2, 0.2)

FENCE = re.compile(r"^( *)```python\s*$")
NOT_RUN = re.compile(r"^\s*<!-- not run: (.+?) -->\s*$")


@dataclass(frozen=True)
class Block:
    document: str
    line: int  # of the opening fence, 1-based
    source: str
    not_run: str | None  # why, when the document says it is not meant to run


def blocks_of(document: str, root: Path = ROOT) -> list[Block]:
    """The ```python blocks of a document, dedented, in order."""
    lines = (root / document).read_text().splitlines()
    blocks, index = [], 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        end = lines.index(f"{opening.group(1)}```", index + 1)
        before = next((line for line in reversed(lines[:index]) if line.strip()), "")
        why = NOT_RUN.match(before)
        blocks.append(Block(document, index + 1, textwrap.dedent("\n".join(lines[index + 1:end])),
                            why.group(1) if why else None))
        index = end + 1
    return blocks


BLOCKS = [block for document in DOCUMENTS for block in blocks_of(document)]


def missing_optional(block: Block) -> str | None:
    """Why the block cannot run here: an optional package it imports is not installed."""
    for node in ast.walk(ast.parse(block.source)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top in OPTIONAL and importlib.util.find_spec(top) is None:
                return (f"{block.document}:{block.line} needs {top}, which is not installed "
                        f"here: {OPTIONAL[top]}")
    return None


def img_outcomes() -> list:
    """img/'s photos labelled by folder, and a photo without a label in the train split."""
    uploads = [Upload(path.read_bytes(), str(path.relative_to(ROOT)), path.parent.name)
               for path in sorted((ROOT / "img").glob("*/*.jpg"))]
    seed = 0
    while split_of(image_id_of(encode(photo_like(200, 150, seed=seed), "jpeg")),
                   FRACTIONS) != "train":
        seed += 1
    uploads.append(Upload(encode(photo_like(200, 150, seed=seed), "jpeg"), "unlabelled", None))
    return [process_upload(upload, n_variants=1, max_pixels=10**8) for upload in uploads]


def write_dataset(store, outcomes) -> None:
    rows = write_group(store, "batch", "docs", outcomes)
    ManifestWriter(Manifest.of(store), FRACTIONS).commit(rows)


@pytest.fixture(scope="module")
def roots(s3_stack, tmp_path_factory) -> dict[str, str]:
    """The documented roots -> the roots of the same dataset written for these tests."""
    outcomes = img_outcomes()
    local = tmp_path_factory.mktemp("docs") / "dataset"
    write_dataset(LocalStore(local), outcomes)
    client, bucket = make_s3_client(s3_stack.s3), f"docs-{uuid.uuid4().hex[:10]}"
    ensure_bucket(client, bucket)
    write_dataset(S3Store(bucket, "dataset", s3_stack.s3), outcomes)
    yield {S3_ROOT: f"s3://{bucket}/dataset", LOCAL_ROOT: str(local)}
    remove_bucket(client, bucket)


def run_up_to(block: Block, roots: dict[str, str]) -> dict:
    """Run the document's blocks down to `block` in one namespace; that namespace."""
    namespace = {"__name__": "__main__"}
    for earlier in [b for b in BLOCKS if b.document == block.document and b.line <= block.line]:
        if earlier.not_run:
            continue
        source = earlier.source
        for documented, written in roots.items():
            source = source.replace(f'"{documented}"', repr(written))
        exec(compile(source, f"{earlier.document}:{earlier.line}", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("block", BLOCKS, ids=[f"{b.document}:{b.line}" for b in BLOCKS])
def test_the_block_runs_as_written(block, roots, tmp_path, monkeypatch):
    if block.not_run:
        pytest.skip(f"{block.document}:{block.line} is not meant to run: {block.not_run}")
    reason = missing_optional(block)
    if reason:
        pytest.skip(reason)
    monkeypatch.chdir(tmp_path)  # whatever a block writes lands here

    run_up_to(block, roots)


def test_blocks_are_read_dedented_with_the_reason_a_block_is_not_run(tmp_path):
    (tmp_path / "doc.md").write_text(
        "Text.\n\n```python\nx = 1\n```\n\n<!-- not run: needs the API -->\n"
        "- item\n  ```python\n  y = x\n  ```\n```bash\nls\n```\n")

    assert blocks_of("doc.md", tmp_path) == [Block("doc.md", 3, "x = 1", None),
                                             Block("doc.md", 9, "y = x", None)]
    marked = "<!-- not run: needs the API -->\n```python\nz = 2\n```\n"
    (tmp_path / "marked.md").write_text(marked)
    assert blocks_of("marked.md", tmp_path) == [Block("marked.md", 2, "z = 2", "needs the API")]


def test_the_documents_have_python_blocks_and_name_the_roots_replaced():
    assert {block.document for block in BLOCKS} == set(DOCUMENTS)
    sources = "\n".join(block.source for block in BLOCKS)
    assert f'"{S3_ROOT}"' in sources and f'"{LOCAL_ROOT}"' in sources


def test_the_training_loop_learns_from_the_labelled_photos_of_the_train_split(roots):
    [rows_block] = [b for b in BLOCKS if b.document == "docs/dataset.md" and "train_rows =" in
                    b.source and "torch" not in b.source]
    names = run_up_to(rows_block, roots)

    everything = names["reader"].manifest(status=None)  # what the loop must leave out is there
    assert everything.loc[everything["label"].isna(), "split"].eq("train").any()
    assert {"val", "test"} <= set(everything["split"])
    train_rows = names["train_rows"]
    assert set(train_rows["split"]) == {"train"} and train_rows["label"].notna().all()
    assert names["classes"] == sorted(path.name for path in (ROOT / "img").iterdir()
                                      if path.is_dir())
