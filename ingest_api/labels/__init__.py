"""Label corrections: PUT /images/<id>/label and the history of a photo's labels."""
