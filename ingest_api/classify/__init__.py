"""POST /classify: which crop a photo shows, answered by the worker's champion model."""
