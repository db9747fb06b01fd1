"""The photo's contract: what a sender tells about a photo, how it travels, and how it ends.

- facts.py: the one table of what a sender tells (label, position, capture time, device), from
  which the upload form, the Kafka headers, the record's fields and the OpenAPI form derive;
  rules.py holds each fact's rule;
- upload.py: the photo in flight (Upload) and after the core (Outcome), and process_upload;
- messages.py: the Kafka message of an upload, written by the API and read by the stream;
- reasons.py: every reason a photo can end as a dead letter.

preprocessing/ is the image core beneath it (bytes in, tensors and facts out); dataset/ keeps
what comes out.
"""
