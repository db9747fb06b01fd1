"""The upload: POST /post_image, its form, re-uploads, the decode budget, the Kafka publisher
and the upload page."""
