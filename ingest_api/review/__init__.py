"""The review queue: photos whose prediction and label disagree, or are unsure."""
