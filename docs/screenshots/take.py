"""Screenshots of the API's pages for the README, taken from a RUNNING stack.

    .venv/bin/python -m docs.screenshots.take [--api URL] [--internal URL] [--stream URL]
                                              [--token TOKEN] [--out DIR]

Writes PNGs (1280x800) of the upload page at GET / after one of img/'s photos went through it
(also at phone width), the live map (as it opens, and zoomed in with a popup open), the docs
page, and, rendered as tables, the metrics of the API (gunicorn's internal port) and of the
streaming job (STREAM_METRICS_PORT). The addresses default to Settings' API ports; without
--token, a token of the device `screenshots` is issued in Settings' token store. Debian's
chromium (infra/chromium.py) is cut off from everything but the API, so map tiles are missing.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright
from prometheus_client.parser import text_string_to_metric_families

from infra.chromium import launch
from ingest_api.auth.store import TokenStore
from kit.api_client import ApiClient, Unanswered
from settings import PROJECT_ROOT, Settings

OUT = Path(__file__).parent
SAMPLE_PHOTO = PROJECT_ROOT / "img" / "maize" / "maize_01.jpg"  # it has EXIF GPS
PROCESSING_TIMEOUT_MS = 300_000
DEVICE = "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TOKEN_KEY = "ingest_api.token"  # where the pages keep the device token (shared/device_token.js)
MAX_ZOOM_CLICKS = 8
# The columns a reader needs of each kind of metric: a histogram's buckets and every series'
# creation time are left out, as are the client library's own python_ and process_ metrics.
COLUMNS = {"counter": ("_total",), "histogram": ("_count", "_sum"), "summary": ("_count", "_sum")}
LIBRARY_PREFIXES = ("python_", "process_")
CREATED = "_created"  # read as families of their own from the classic text format
TIMESTAMP = "_timestamp_seconds"  # Unix times, shown as UTC times
STYLE = (
    "body{font:13px sans-serif;margin:16px;columns:2;column-gap:32px}"
    "h1{font-size:18px;column-span:all}section{break-inside:avoid;padding-top:12px}"
    "h2{font-size:14px;margin:0 0 2px}"
    "p{margin:0 0 4px;color:#555}table{border-collapse:collapse}"
    "th{text-align:left;color:#555;font-weight:normal}"
    "td{border-top:1px solid #ddd;padding:2px 10px 2px 0;font-family:monospace}"
)


def metrics_page(text: str, source: str) -> str:
    """An HTML page of Prometheus' text format: per metric family, a table with one row per
    label set (value, or count and sum)."""
    sections = []
    for family in text_string_to_metric_families(text):
        if family.name.startswith(LIBRARY_PREFIXES) or family.name.endswith(CREATED):
            continue
        suffixes = COLUMNS.get(family.type, ("",))
        rows: dict[str, dict[str, float]] = {}
        for sample in family.samples:
            suffix = sample.name.removeprefix(family.name)
            if suffix in suffixes:
                rows.setdefault(labels_of(sample.labels), {})[suffix] = sample.value
        head = "".join(f"<th>{suffix.strip('_') or 'value'}</th>" for suffix in suffixes)
        body = "".join(
            f"<tr><td>{html.escape(labels) or '-'}</td>"
            + "".join(f"<td>{readable(family.name, values.get(suffix))}</td>"
                      for suffix in suffixes) + "</tr>"
            for labels, values in rows.items()
        ) or f"<tr><td colspan='{len(suffixes) + 1}'>none yet</td></tr>"
        sections.append(
            f"<section><h2>{html.escape(family.name)}</h2><p>{family.type}: "
            f"{html.escape(family.documentation)}</p>"
            f"<table><tr><th>labels</th>{head}</tr>{body}</table></section>"
        )
    return (f"<!doctype html><meta charset='utf-8'><title>metrics</title><style>{STYLE}</style>"
            f"<h1>Metrics of {html.escape(source)}</h1>{''.join(sections)}")


def readable(name: str, value: float | None) -> str:
    if value is None:
        return ""
    if name.endswith(TIMESTAMP):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{value:.6g}"


def labels_of(labels: dict[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in sorted(labels.items()))


def only_the_api(context: BrowserContext, api: str) -> None:
    """Refuse every request of `context` but the API's (tiles, fonts, anything remote)."""

    def route(request: Route) -> None:
        if request.request.url.startswith(api + "/"):
            request.continue_()
        else:
            request.abort("internetdisconnected")

    context.route("**/*", route)


def open_a_popup(page: Page) -> None:
    """Click into clusters until a photo's own marker shows, then open its popup."""
    page.wait_for_selector("#legend .legend-entry")
    markers = page.locator("path.leaflet-interactive")
    for _ in range(MAX_ZOOM_CLICKS):
        if markers.count():
            markers.first.click()
            page.wait_for_selector(".leaflet-popup-content img[src]", timeout=5000)
            return
        page.locator(".marker-cluster").first.click()
        page.wait_for_timeout(800)  # the zoom animation
    print("no single marker showed after zooming in: map-popup.png has no popup")


def upload_a_photo(page: Page) -> None:
    """Send SAMPLE_PHOTO through the page with a label, and wait until its small map shows."""
    page.fill("#label", "maize")
    page.set_input_files("#file-picker", files=[str(SAMPLE_PHOTO)])
    page.wait_for_selector("#photos li .small-map path.leaflet-interactive",
                           timeout=PROCESSING_TIMEOUT_MS)


class Photographer:
    """Takes the pages' screenshots with one browser, as a device holding `token`."""

    def __init__(self, browser: Browser, api: str, token: str, out: Path):
        self.browser, self.api, self.token, self.out = browser, api, token, out

    def context(self, viewport: dict) -> BrowserContext:
        context = self.browser.new_context(viewport=viewport, is_mobile=viewport is PHONE)
        only_the_api(context, self.api)
        context.add_init_script(f"localStorage.setItem({TOKEN_KEY!r}, {json.dumps(self.token)})")
        return context

    def shoot(self, name: str, viewport: dict, path: str, ready, *, whole=False) -> None:
        """Open `path`, wait for `ready(page)`, and save the viewport (or the whole page) as
        <name>.png."""
        context = self.context(viewport)
        page = context.new_page()
        page.goto(self.api + path)
        ready(page)
        page.wait_for_timeout(500)  # animations (popups, clusters) settle
        page.screenshot(path=self.out / f"{name}.png", full_page=whole)
        context.close()
        print(f"wrote {self.out / name}.png")

    def status_of(self, path: str) -> int:
        """The API's status for GET `path` with the token (without one, any path is a 401)."""
        return ApiClient(self.api, self.token, timeout=10).request("GET", path).status

    def upload_page(self) -> None:
        """The upload page after SAMPLE_PHOTO went through it, on a desktop and at phone width."""
        for name, viewport in (("upload", DESKTOP), ("upload-phone", PHONE)):
            self.shoot(name, viewport, "/", upload_a_photo, whole=True)

    def map(self) -> None:
        """The map as it opens (clusters, legend), and zoomed in on a photo with its popup."""
        self.shoot("map", DESKTOP, "/map",
                   lambda page: page.wait_for_selector("#legend .legend-entry"))
        self.shoot("map-popup", DESKTOP, "/map", open_a_popup)

    def docs(self) -> None:
        self.shoot("docs", DESKTOP, "/docs",
                   lambda page: page.wait_for_selector(".opblock", timeout=15_000))

    def metrics(self, name: str, whose: str, base_url: str) -> None:
        """The Prometheus text of GET /metrics at `base_url` (the API's internal port, or the
        streaming job's metrics server, which answers it alike), rendered by metrics_page()."""
        url = base_url.rstrip("/") + "/metrics"
        try:
            text = ApiClient(base_url, timeout=10).metrics().text
        except Unanswered as error:
            print(f"skipped {name}: {url} did not answer ({error})")
            return
        context = self.context(DESKTOP)
        page = context.new_page()
        page.set_content(metrics_page(text, f"{whose} ({url})"))
        page.screenshot(path=self.out / f"{name}.png")
        context.close()
        print(f"wrote {self.out / name}.png")


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", default=f"http://{settings.api_host}:{settings.api_port}")
    parser.add_argument(
        "--internal", default=f"http://{settings.api_host}:{settings.api_internal_port}",
        help="gunicorn's internal port, where /metrics answers",
    )
    parser.add_argument(
        "--stream", default=f"http://127.0.0.1:{settings.stream_metrics_port}",
        help="the streaming job's metrics server",
    )
    parser.add_argument("--token", help=f"a device token (default: a new one for {DEVICE!r})")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    token = args.token or TokenStore.from_settings(settings).issue(DEVICE)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        photographer = Photographer(browser, args.api.rstrip("/"), token, args.out)
        if photographer.status_of("/map/points") in (401, 403):
            print(f"{args.api} refuses this token: give another with --token", file=sys.stderr)
            return 1
        photographer.upload_page()
        photographer.map()
        photographer.docs()
        photographer.metrics("metrics", "the API", args.internal)
        photographer.metrics("metrics-stream", "the streaming job", args.stream)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
