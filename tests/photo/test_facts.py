"""The table of what a sender tells: each fact's form field, header and record field derive
from it, and a fact's text survives the trip from the form to the stream."""

import pytest

from dataset.image_record import FIELD_NAMES, PUBLIC_FIELDS
from ingest_api.contract.api_schemas import UPLOAD_FORM
from photo.facts import FACT_NAMES, FACTS, FORM_FACTS, KEPT_FACTS, fact_texts, read_facts
from photo.rules import InvalidFact
from photo.upload import Upload


def test_every_fact_is_an_attribute_of_the_upload():
    assert set(FACT_NAMES) <= set(Upload.__dataclass_fields__)


def test_the_upload_form_has_a_field_for_each_fact_with_one_and_nothing_else():
    assert set(UPLOAD_FORM["properties"]) == {"file", *(fact.form_field for fact in FORM_FACTS)}


def test_the_device_and_the_request_are_not_form_fields_a_client_could_claim():
    assert {fact.name for fact in FACTS if fact.form_field is None} == {"device_id", "request_id"}


def test_a_fact_the_record_keeps_is_a_public_record_field():
    assert {fact.name for fact in KEPT_FACTS} == {"label", "device_id"}
    assert all(fact.name in FIELD_NAMES and fact.name in PUBLIC_FIELDS for fact in KEPT_FACTS)


def test_the_texts_of_the_values_read_back_to_the_same_values():
    values = read_facts({"label": "maize", "client_lat": "-0.00001", "client_lon": "180",
                         "client_captured_at": "2024-06-01T12:30:00+02:00"})

    assert fact_texts(values)["client_lat"] == "-0.00001"  # not "-1e-05", which the rule refuses
    assert read_facts(fact_texts(values)) == values


def test_nothing_sent_reads_as_none_for_every_fact():
    assert read_facts({}) == dict.fromkeys(FACT_NAMES)


@pytest.mark.parametrize("texts", [{"client_lat": "45"}, {"client_lon": "7"}])
def test_half_a_position_is_refused(texts):
    with pytest.raises(InvalidFact, match="together"):
        read_facts(texts)
