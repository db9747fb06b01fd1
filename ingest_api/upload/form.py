"""The upload form: one photo in the field `file`, and optional facts the phone adds to it.

The form's fields are the facts of photo/facts.py that have one. Every field that is sent must
be valid (photo/rules.py holds the rules, which the stream applies to the same facts); nothing
is silently dropped. The device is not a form field: it comes from the request's token
(auth/tokens.py).
"""

from __future__ import annotations

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

from ingest_api.ops.errors import (
    InvalidField,
    InvalidMultipart,
    MissingFile,
    NotMultipart,
    PayloadTooLarge,
    TooManyFields,
    TooManyFiles,
    too_large_message,
)
from photo.facts import FORM_FACTS, read_facts
from photo.rules import InvalidFact
from photo.upload import Upload

FILE_FIELD = "file"

# What parse_upload and the request's size limit can refuse.
FORM_ERRORS = (
    NotMultipart,
    InvalidMultipart,
    MissingFile,
    TooManyFiles,
    TooManyFields,
    InvalidField,
    PayloadTooLarge,
    RequestEntityTooLarge,
)


def parse_upload(request: Request, max_upload_bytes: int) -> Upload:
    """Read and check the multipart form of a POST /post_image; raise ops/errors.py's errors."""
    if request.mimetype != "multipart/form-data":
        raise NotMultipart(
            f"send multipart/form-data with the photo in the field {FILE_FIELD!r}, "
            f"not {request.mimetype or 'a body without a content type'}"
        )
    if not request.mimetype_params.get("boundary"):
        raise InvalidMultipart(
            "the Content-Type multipart/form-data has no boundary, so the form cannot be read; "
            "let your HTTP library build the multipart body"
        )
    files = _files(request)
    if not files:
        raise MissingFile(f"no file in the field '{FILE_FIELD}'; {_what_was_sent(request)}")
    if len(files) > 1:
        raise TooManyFiles(f"send one file per request, not {len(files)}")
    data = files[0].stream.read(max_upload_bytes + 1)
    if len(data) > max_upload_bytes:
        raise PayloadTooLarge(too_large_message(max_upload_bytes))
    texts = {fact.name: request.form.get(fact.form_field) for fact in FORM_FACTS}
    try:
        return Upload(data=data, **read_facts(texts))
    except InvalidFact as error:
        raise InvalidField(error) from error


def _what_was_sent(request: Request) -> str:
    """The form's parts in words: "the form has a file in 'photo' and the field 'label'"."""
    files, fields = sorted(request.files), sorted(set(request.form) - set(request.files))
    parts = []
    if files:
        parts.append(f"a file in {_names(files)}" if len(files) == 1
                     else f"files in {_names(files)}")
    if fields:
        parts.append(f"the field{'s' if len(fields) > 1 else ''} {_names(fields)}")
    return "the form has " + (" and ".join(parts) if parts else "no fields at all")


def _names(names: list[str]) -> str:
    """'a', 'a' and 'b', 'a', 'b' and 'c'."""
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _files(request: Request) -> list:
    """The parts named `file`; a form within the size limit but over the parser's part count
    or text size limits is a malformed form (400), not a large one (413)."""
    try:
        return request.files.getlist(FILE_FIELD)
    except RequestEntityTooLarge:
        length, limit = request.content_length, request.max_content_length
        if length is None or limit is None or length > limit:
            raise
        raise TooManyFields(
            f"the form has more than {request.max_form_parts:,} fields or a text field over "
            f"{request.max_form_memory_size:,} bytes; an upload needs the file and a few short "
            "fields"
        ) from None

