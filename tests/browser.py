"""Driving Debian's chromium through Playwright, offline, for tests marked ``browser``.

Use ``launch_chromium()`` in a fixture (one browser per module: starting chromium takes about a
second) and ``open_offline(browser, path)`` per test. Every http(s) request the page makes is aborted
and recorded, so a page that needs the network fails visibly instead of quietly fetching a CDN copy.

    @pytest.fixture(scope="module")
    def browser():
        with launch_chromium() as running:
            yield running
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox: the tests run as root in a container. The rest keeps chromium from phoning home, so
# "no request left the page" is about the page and not about the browser's own services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextmanager
def launch_chromium(headless: bool = True) -> Iterator[object]:
    """A Playwright ``Browser`` on /usr/bin/chromium; skips the test when chromium is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing; install it with: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                             headless=headless)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class OfflinePage:
    """A page with everything that happened in it: blocked requests, dialogs, errors, console."""

    page: object
    blocked: list[str] = field(default_factory=list)     # http(s) URLs the page tried to load
    dialogs: list[str] = field(default_factory=list)     # alert/confirm/prompt messages (dismissed)
    errors: list[str] = field(default_factory=list)      # uncaught exceptions in the page
    console: list[str] = field(default_factory=list)     # console messages, "type: text"

    def close(self) -> None:
        self.page.context.close()


def record_page_events(seen: OfflinePage) -> None:
    """Dismiss and record dialogs, and record uncaught errors and console messages, on ``seen.page``."""
    def on_dialog(dialog) -> None:
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    seen.page.on("dialog", on_dialog)
    seen.page.on("pageerror", lambda error: seen.errors.append(str(error)))
    seen.page.on("console", lambda message: seen.console.append(f"{message.type}: {message.text}"))


def open_offline(browser, path: Path | None = None, width: int = 1400, height: int = 900) -> OfflinePage:
    """A new page that may load file: and data: URLs only; opens ``path`` when given."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    seen = OfflinePage(page)

    def route(route) -> None:
        url = route.request.url
        if url.startswith(("http:", "https:", "ws:", "wss:", "ftp:")):
            seen.blocked.append(url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", route)
    record_page_events(seen)
    if path is not None:
        page.goto(Path(path).resolve().as_uri())
    return seen


class PageAssets(HTMLParser):
    """Every URL-bearing attribute, tag, <style> text and http-equiv meta of a page (script bodies are not tags)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.styles: list[str] = []
        self.meta: dict[str, str] = {}
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_style = tag == "style"
        if tag == "meta" and dict(attrs).get("http-equiv"):
            self.meta[dict(attrs)["http-equiv"]] = dict(attrs).get("content") or ""
        for name, value in attrs:
            if name in {"src", "href", "srcset", "poster", "data", "action", "background", "xlink:href"}:
                self.urls.append((tag, name, value or ""))

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)
