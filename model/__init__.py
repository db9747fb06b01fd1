"""The crop classifier: trained from a pinned snapshot of the dataset, shipped as one ONNX file
(the dataset's uint8 tensor in, class probabilities out) that ONNX Runtime alone can serve."""
