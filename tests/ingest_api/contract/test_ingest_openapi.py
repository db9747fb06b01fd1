"""GET /openapi.json: an OpenAPI 3.1 contract that covers the code and that real answers keep."""

from __future__ import annotations

import hashlib
import io

import pytest
from jsonschema import Draft202012Validator, ValidationError
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ingest_api.auth.tokens import OPEN_ENDPOINTS
from ingest_api.contract.openapi import IGNORED_METHODS, INTERNAL_ENDPOINTS, RULE_ARGUMENT
from ingest_api.ops.answers import error_answers
from ingest_api.ops.errors import FRONT_UNAVAILABLE
from kit.uploads import gif, jpeg, new_image_id, unique_jpeg
from tests.ingest_api.apps import TEST_DEVICE, running_app
from tests.ingest_api.champions import own_model

CONTRACT = "urn:contract"


@pytest.fixture
def spec(anonymous_client) -> dict:
    response = anonymous_client.get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def assert_documented(spec: dict, method: str, path: str, response) -> None:
    """The answer's status is documented for the operation, its JSON body fits the schema, and
    it carries each header the contract declares for it, with a value that fits that header's
    schema."""
    answers = spec["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in answers, f"{method} {path} answered {status}, documented: {list(answers)}"
    pointer = f"/paths/{path.replace('/', '~1')}/{method}/responses/{status}"
    schema = {"$ref": f"{CONTRACT}#{pointer}/content/application~1json/schema"}
    registry = Registry().with_resource(CONTRACT, Resource.from_contents(spec, DRAFT202012))
    Draft202012Validator(schema, registry=registry).validate(response.get_json())
    assert_headers_documented(spec, answers[status], response.headers, f"{method} {path}")


def assert_headers_documented(spec: dict, answer: dict, headers, what: str) -> None:
    """Every header `answer` (a contract's response) declares is in `headers`, its value fitting
    the header's schema (an integer schema's value read as an integer)."""
    for name, declared in answer.get("headers", {}).items():
        if "$ref" in declared:
            declared = spec["components"]["headers"][declared["$ref"].rsplit("/", 1)[1]]
        assert name in headers, f"{what} lacks its {name} header"
        value = headers[name]
        if declared["schema"].get("type") == "integer":
            value = int(value)
        Draft202012Validator(declared["schema"]).validate(value)


def post_photo(client, data: bytes, **fields):
    return client.post("/post_image", data={"file": (io.BytesIO(data), "photo.jpg"), **fields})


class TestTheContractCoversTheCode:
    def test_it_validates_as_openapi_3_1(self, spec):
        assert spec["openapi"].startswith("3.1.")
        validate(spec)

    def test_every_public_route_is_documented_with_its_methods(self, app, spec):
        routes = {
            (RULE_ARGUMENT.sub(r"{\1}", rule.rule), method.lower())
            for rule in app.url_map.iter_rules()
            if rule.endpoint not in INTERNAL_ENDPOINTS
            for method in rule.methods - IGNORED_METHODS
        }
        documented = {(path, method) for path, item in spec["paths"].items() for method in item}
        assert documented == routes

    def test_every_error_code_of_errors_py_is_in_the_error_body(self, spec):
        codes = spec["components"]["schemas"]["Error"]["properties"]["error"]["enum"]
        assert set(codes) == {answer.code for answer in error_answers()} | {FRONT_UNAVAILABLE}

    def test_metrics_are_not_in_the_public_contract(self, spec):
        assert "/metrics" not in spec["paths"]  # nginx keeps them on the internal port

    def test_every_route_documents_nginxs_503_while_gunicorn_does_not_answer(self, spec):
        for item in spec["paths"].values():
            for operation in item.values():
                unavailable = operation["responses"]["503"]
                assert FRONT_UNAVAILABLE in unavailable["description"]
                assert "Retry-After" in unavailable["headers"]

    def test_the_auth_scheme_is_a_bearer_token_that_only_open_routes_skip(self, app, spec):
        assert spec["components"]["securitySchemes"]["deviceToken"] == {
            "type": "http",
            "scheme": "bearer",
            "description": spec["components"]["securitySchemes"]["deviceToken"]["description"],
        }
        assert spec["security"] == [{"deviceToken": []}]
        for rule in app.url_map.iter_rules():
            if rule.endpoint in INTERNAL_ENDPOINTS:
                continue
            path = RULE_ARGUMENT.sub(r"{\1}", rule.rule)
            for operation in spec["paths"][path].values():
                if rule.endpoint in OPEN_ENDPOINTS:
                    assert operation["security"] == [] and "401" not in operation["responses"]
                else:
                    assert "security" not in operation
                    unauthenticated = operation["responses"]["401"]
                    assert "WWW-Authenticate" in unauthenticated["headers"]
                    assert "403" in operation["responses"]

    def test_rate_limited_routes_document_429_with_retry_after(self, spec):
        for path, method in (("/post_image", "post"), ("/images/{image_id}", "get")):
            too_many = spec["paths"][path][method]["responses"]["429"]
            assert "Retry-After" in too_many["headers"]

    def test_rate_limited_routes_document_the_ratelimit_headers_of_their_answers(self, spec):
        headers = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
        responses = spec["paths"]["/post_image"]["post"]["responses"]
        assert headers <= set(responses["202"]["headers"]) & set(responses["429"]["headers"])
        assert not headers & set(spec["paths"]["/is_alive"]["get"]["responses"]["200"]["headers"])

    def test_the_image_record_has_exactly_the_public_fields(self, spec):
        from ingest_api.records.image_records import PUBLIC_FIELDS

        answer = spec["paths"]["/images/{image_id}"]["get"]["responses"]["200"]
        record = answer["content"]["application/json"]["schema"]["properties"]
        assert set(record) == {"status", "reason", "message", *PUBLIC_FIELDS,
                               "prediction_lineage"}


class TestRealAnswersMatchTheContract:
    def test_an_upload_202(self, client, spec):
        assert_documented(spec, "post", "/post_image", post_photo(client, jpeg(seed=7)))

    def test_the_202_declares_its_location_and_a_real_one_fits(self, client, spec):
        accepted = spec["paths"]["/post_image"]["post"]["responses"]["202"]
        response = post_photo(client, unique_jpeg())

        assert "Location" in accepted["headers"]
        assert response.headers["Location"] == f"/images/{response.get_json()['image_id']}"
        assert_headers_documented(spec, accepted, response.headers, "the 202")
        with pytest.raises(ValidationError):  # the check can fail
            assert_headers_documented(spec, accepted, {**response.headers, "Location": "/x"}, "")

    def test_an_upload_of_a_recorded_photo_200(self, client, indexed, spec):
        photo = unique_jpeg()
        indexed(image_id=hashlib.sha256(photo).hexdigest(), status="processed", label="maize")

        response = post_photo(client, photo)

        assert response.status_code == 200
        assert_documented(spec, "post", "/post_image", response)

    def test_a_queued_record_404(self, client, spec):
        accepted = post_photo(client, unique_jpeg())

        response = client.get(accepted.headers["Location"])

        assert response.get_json()["error"] == "not_processed_yet"
        assert_documented(spec, "get", "/images/{image_id}", response)

    def test_a_page_of_my_images(self, es_client, indexed, spec):
        indexed(status="processed", label="maize", device_id=TEST_DEVICE)

        response = es_client.get("/images?device=mine&per_page=1")

        assert response.status_code == 200
        assert_documented(spec, "get", "/images", response)

    @pytest.mark.parametrize(
        ("fields", "code"),
        [({"label": "Maize!"}, "invalid_label"), ({"lat": "45.1"}, "invalid_location")],
    )
    def test_a_400_of_a_form_field(self, client, spec, fields, code):
        response = post_photo(client, jpeg(seed=8), **fields)

        assert response.get_json()["error"] == code
        assert_documented(spec, "post", "/post_image", response)

    def test_a_400_without_a_file(self, client, spec):
        response = client.post(
            "/post_image", data={"label": "maize"}, content_type="multipart/form-data"
        )

        assert response.get_json()["error"] == "missing_file"
        assert_documented(spec, "post", "/post_image", response)

    def test_a_415_of_another_format(self, client, spec):
        assert_documented(spec, "post", "/post_image", post_photo(client, gif()))

    def test_a_classification_and_its_refusals(self, champion_settings, client, spec):
        with running_app(champion_settings) as app:
            classified = app.test_client()
            answered = classified.post("/classify", data={"file": (io.BytesIO(jpeg()), "a.jpg")})
            refused = classified.post("/classify", data={"file": (io.BytesIO(gif()), "a.gif")})

        assert answered.status_code == 200 and refused.status_code == 415
        assert_documented(spec, "post", "/classify", answered)
        assert_documented(spec, "post", "/classify", refused)

    def test_a_classification_before_any_model_503(self, champion_settings, spec):
        with running_app(own_model(champion_settings, "unpromoted")) as app:
            response = app.test_client().post("/classify",
                                              data={"file": (io.BytesIO(jpeg()), "a.jpg")})

        assert response.get_json()["error"] == "no_model"
        assert_documented(spec, "post", "/classify", response)

    def test_a_401_without_a_token(self, anonymous_client, spec):
        response = post_photo(anonymous_client, jpeg(seed=9))

        assert response.status_code == 401
        assert_documented(spec, "post", "/post_image", response)

    def test_health_and_readiness(self, client, spec):
        assert_documented(spec, "get", "/is_alive", client.get("/is_alive"))
        assert_documented(spec, "get", "/readyz", client.get("/readyz"))

    def test_a_record_unknown_or_not_an_id(self, es_client, spec):
        unknown = es_client.get(f"/images/{new_image_id()}")
        malformed = es_client.get("/images/not-a-sha256")

        assert (unknown.status_code, malformed.status_code) == (404, 400)
        assert_documented(spec, "get", "/images/{image_id}", unknown)
        assert_documented(spec, "get", "/images/{image_id}", malformed)

    def test_a_processed_record_with_every_field(self, es_client, indexed, spec):
        image_id = indexed(
            status="processed",
            label="maize",
            format="jpeg",
            width=640,
            height=480,
            orientation=6,
            lat=45.07,
            lon=7.68,
            gps_source="client",
            altitude=231.5,
            captured_at="2024-06-01T12:30:00+02:00",
            camera="Pixel 8",
            device_id="phone-17",
            size_bytes=123456,
            raw_key="raw/5f/5f3a.jpg",
            shard_key="shards/shard-000001.tar",
            variants=["base", "aug0", "aug1"],
            sharpness=812.5,
            brightness=0.42,
            clipped_fraction=0.01,
            phash="c3a1f0e0d0c0b0a0",
            duplicate_group="ab" * 32,
            split="train",
        )

        response = es_client.get(f"/images/{image_id}")

        assert response.status_code == 200
        assert_documented(spec, "get", "/images/{image_id}", response)

    def test_a_rejected_record(self, es_client, indexed, spec):
        image_id = indexed(status="rejected", reason="corrupt", error="OSError('truncated')",
                           gps_source="none")

        assert_documented(spec, "get", "/images/{image_id}", es_client.get(f"/images/{image_id}"))
