"""The stream benchmark with predictions off and on (bench/stream_predictions.py), at a tiny size
on the real servers and MLflow: the "on" runs predict every photo with the run's champion, the
"off" runs none, and the table prints both side by side with their ratios."""

from __future__ import annotations

from dataclasses import replace

from adapters.spark import spark_session
from bench.stream_predictions import OFF, ON, compare, forget, model_settings, print_runs
from bench.stream_stack import bench_stack
from model.registry import champion
from settings import PROJECT_ROOT
from tests.model.tiny_models import colour_classifier, make_champion, register_tiny

PHOTOS = 4


def test_runs_with_predictions_off_and_on_are_drained_counted_and_compared(mlflow_stack, capsys):
    photos = sorted((PROJECT_ROOT / "img").glob("*/*.jpg"))
    with bench_stack([]) as stack:
        settings = replace(model_settings(stack.settings),
                           mlflow_tracking_uri=mlflow_stack.mlflow_tracking_uri)
        make_champion(settings, register_tiny(settings, colour_classifier()))
        spark = spark_session("test-stream-predictions", settings)
        try:
            runs = compare(spark, settings, photos, PHOTOS, rounds=1)
        finally:
            spark.stop()
            forget(settings)
        assert champion(settings) is None  # the run's model name is gone from the registry

    [off], [on] = runs[OFF], runs[ON]
    assert (off["predicted"], off["unpredicted"]) == (0, PHOTOS)
    assert (on["predicted"], on["unpredicted"]) == (PHOTOS, 0)
    assert off["photos_s"] > 0 and on["photos_s"] > 0
    assert on["cpu workers"] > 0 and off["cpu workers"] > 0
    capsys.readouterr()
    print_runs(PHOTOS, 1, runs)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in lines if line.startswith("predictions ")][:2] == [
        ["predictions", "off", "0"], ["predictions", "on", str(PHOTOS)]]
    [ratios] = [line.split() for line in lines if line.startswith("on / off")]
    assert len(ratios) == 3 + 9 and all(value.endswith("x") for value in ratios[3:])
