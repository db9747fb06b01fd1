"""The training benchmark, run at a tiny size on the session's S3: it measures the loop and the
Spark job on the same features, times train() phase by phase, and leaves no bucket behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from adapters.s3 import make_s3_client
from settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def printed(s3_stack) -> str:
    """What `python -m bench.training` prints for 12 photos (8 drawn, 4 of them copied)."""
    run = subprocess.run(
        [sys.executable, "-m", "bench.training", "--photos", "12", "--drawn", "8",
         "--variants", "1"],
        cwd=PROJECT_ROOT, env={**os.environ, **s3_stack.to_env()},
        capture_output=True, text=True, timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


def test_it_builds_the_dataset_from_drawn_photos_and_their_copies(printed):
    assert "# drew 8 photos" in printed
    assert re.search(r"# 12 photos \(8 drawn, seed 41\), variants 1, .* 12 processed", printed)


def test_the_loop_and_the_spark_job_extract_the_same_features_and_are_compared(printed):
    assert re.search(r"(\d+) tensors", printed).group(1) == "24"  # 12 train photos x 2
    rates = (r" +[\d.]+ s +[\d.]+ images/s +([\d.]+)x the loop +[\d.]+ CPU ms/image "
             r"\([\d.]+ \+ [\d.]+ \+ [\d.]+\) +[\d.]+ cores")
    assert re.search(r"single-process loop \(reader\)" + rates, printed).group(1) == "1.00"
    assert re.search(r"Spark job, local\[2\], warm JVM" + rates, printed)
    difference = float(re.search(r"max \|loop - Spark\| = (\S+)", printed).group(1))
    assert difference < 1e-4


def test_the_whole_training_is_timed_phase_by_phase(printed):
    phase = r"^    (\S[^\n]*?) +([\d.]+) s(?:$|   [\d.]+ CPU s \(but ending\), [\d.]+ cores$)"
    phases = dict(re.findall(phase, printed, re.MULTILINE))
    assert {"start Python, import the model code", "export the backbone to ONNX",
            "extract the features (Spark, started cold)", "fit the head",
            "write the model's files", "whole training"} <= set(phases)
    whole = float(phases.pop("whole training"))
    assert sum(map(float, phases.values())) == pytest.approx(whole, abs=0.1 * len(phases))
    assert "(measured on synthetic pictures)" in printed


def test_the_run_removes_its_bucket(printed, s3_stack):
    bucket = re.search(r"s3://(bench-training-\w+)/", printed).group(1)
    with pytest.raises(ClientError):
        make_s3_client(s3_stack.s3).head_bucket(Bucket=bucket)
