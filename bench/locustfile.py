"""The API's clients, for locust: phones uploading, agronomists on the map, staff on the page.

    PYTHONPATH=. .venv/bin/locust -f bench/locustfile.py --host http://127.0.0.1:8000

Each simulated user is a device of its own: it issues itself a token at start, in the token
store the running API reads (Settings.api_token_store, as `python -m ingest_api tokens issue`
does), so locust must run on the API's machine with the API's settings. Raise
UPLOAD_RATE_LIMIT and LOOKUP_RATE_LIMIT for the API under test, or its 429s measure the limits,
not the API (bench/api_stress.py does).

Its Classifier users ask POST /classify only: name the classes to run (as bench/api_stress.py
runs PhoneApp MapViewer UploadPageVisitor, and bench/classify_load.py runs Classifier).

An answer that is right but not a success is named apart, not counted as a failure:
GET /images/<id> of a photo the stream has not processed yet (404), and a POST /post_image of
bytes the pipeline recorded already (200 duplicate).
"""

from __future__ import annotations

import random
import uuid
from collections import deque

from locust import FastHttpUser, events, task

from bench.field_photos import new_photo, warm
from bench.stream_load import ACCEPTED, DUPLICATE, outcome
from ingest_api.auth.store import TokenStore
from kit.api_client import upload_form
from settings import Settings

STORE = TokenStore.from_settings(Settings.from_env())
RECENT_UPLOADS = 20  # a phone looks up its latest uploads


@events.init_command_line_parser.add_listener
def think_time_option(parser) -> None:
    parser.add_argument("--think-time", type=float, default=1.0, include_in_web_ui=True,
                        help="scale of the users' pauses between tasks: 1 as people pause, "
                        "0.1 ten times busier, 0 none")


@events.init.add_listener
def encode_the_photos(**_) -> None:
    """Before the test: encoding the 12 MP pictures would otherwise load locust during it."""
    warm()


class Device(FastHttpUser):
    """A client with a token of its own, pausing between `pause_s` seconds (times
    --think-time) between tasks."""

    abstract = True
    pause_s: tuple[float, float]

    def wait_time(self) -> float:
        return self.rng.uniform(*self.pause_s) * self.environment.parsed_options.think_time

    def on_start(self) -> None:
        token = STORE.issue(f"locust-{type(self).__name__.lower()}-{uuid.uuid4().hex[:12]}")
        self.auth = {"Authorization": f"Bearer {token}"}
        self.rng = random.Random()

    def get(self, path: str, name: str, not_yet: str | None = None) -> dict | None:
        """GET `path` (named `name` in the stats); a 404 with `not_yet` is recorded under
        `name (not_yet)` as a success. Returns the JSON of a 200, else None."""
        with self.client.get(path, name=name, headers=self.auth, catch_response=True) as answer:
            if answer.status_code == 404 and not_yet:
                answer.request_meta["name"] = f"{name} ({not_yet})"
                answer.success()
            elif answer.status_code == 200:
                kind = answer.headers.get("Content-Type", "")
                return answer.json() if kind.startswith("application/json") else {}
            else:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
        return None


class PhoneApp(Device):
    """The field app: uploads photos, then looks up what became of its latest ones."""

    weight = 6
    pause_s = (1, 5)

    def on_start(self) -> None:
        super().on_start()
        self.uploaded: deque[str] = deque(maxlen=RECENT_UPLOADS)

    @task(3)
    def upload(self) -> None:
        photo = new_photo(self.rng)
        body, content_type = upload_form(photo.data, "photo.jpg", "image/jpeg", label=photo.crop)
        with self.client.post(
            "/post_image", data=body, name=f"POST /post_image {photo.size}",
            headers={**self.auth, "Content-Type": content_type}, catch_response=True,
        ) as answer:
            came_to = outcome(answer.status_code)
            if came_to == DUPLICATE:
                answer.request_meta["name"] += " (duplicate)"
                answer.success()
            if came_to in (ACCEPTED, DUPLICATE):
                self.uploaded.append(answer.json()["image_id"])
            else:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")

    @task(2)
    def look_up_an_upload(self) -> None:
        if self.uploaded:
            image_id = self.rng.choice(self.uploaded)
            self.get(f"/images/{image_id}", "GET /images/<id>", not_yet="404 not processed yet")


class MapViewer(Device):
    """An agronomist on the live map: opens it, lets it refresh, opens popups."""

    weight = 3
    pause_s = (2, 6)

    def on_start(self) -> None:
        super().on_start()
        self.open_map()

    @task(1)
    def open_map(self) -> None:
        self.client.get("/map", name="GET /map")
        self.refresh()

    @task(4)
    def refresh(self) -> None:
        answer = self.get("/map/points", "GET /map/points")
        self.points = answer["points"] if answer else []

    @task(2)
    def open_popup(self) -> None:
        if self.points:
            point = self.rng.choice(self.points)
            self.get(point["thumbnail"], "GET /images/<id>/thumbnail")
            self.get(point["record"], "GET /images/<id> (from the map)")


class UploadPageVisitor(Device):
    """Field staff opening the upload page in a browser."""

    weight = 1
    pause_s = (5, 15)

    @task
    def open_page(self) -> None:
        self.get("/", "GET /")


class Classifier(Device):
    """The field app asking which crop a photo shows (POST /classify), and nothing else."""

    pause_s = (1, 5)

    @task
    def classify(self) -> None:
        photo = new_photo(self.rng)
        body, content_type = upload_form(photo.data, "photo.jpg", "image/jpeg")
        with self.client.post(
            "/classify", data=body, name=f"POST /classify {photo.size}",
            headers={**self.auth, "Content-Type": content_type}, catch_response=True,
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
