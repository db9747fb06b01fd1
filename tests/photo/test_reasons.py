"""Every reason a photo can end as a dead letter is in one list."""

from photo.reasons import READABLE_CODES, REASONS
from preprocessing.errors import ImageRejected


def test_every_refusal_of_the_core_is_a_reason_whose_sentence_people_read():
    refusals = {kind.reason for kind in ImageRejected.__subclasses__()}

    assert refusals <= READABLE_CODES


def test_the_reasons_around_the_core_carry_internals_not_sentences_for_senders():
    assert {r.code for r in REASONS} - READABLE_CODES == {
        "processing_error", "invalid_message", "storage_refused", "index_refused"}


def test_each_code_is_listed_once():
    codes = [reason.code for reason in REASONS]
    assert len(codes) == len(set(codes))
