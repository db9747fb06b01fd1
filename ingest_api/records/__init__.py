"""What the pipeline recorded: photo records, a device's list, tensors and model lineage."""
