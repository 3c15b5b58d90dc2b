"""Browser tests: Playwright (sync API) driving Debian's chromium against pytest-django's live server.

Skipped, with the reason, when /usr/bin/chromium or the playwright package is missing. Never calls
``playwright install``. Each test leaves a screenshot of its last page in test-artifacts/<test>.png.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MOBILE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

try:
    from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = None
    if sync_playwright is None:
        reason = "playwright (Python package) is not installed"
    elif not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt install chromium); playwright install is not used"
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop running in this thread; Django would then refuse
    # ORM calls from the test body ("async context"). The calls are synchronous, so allow them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _isolated_cache(local_cache: None) -> None:
    """The portal's rate limiter counts in the cache: one private in-memory cache per test."""


def _artifact_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)


class Screens:
    """Remembers the page that loaded last, and saves named screenshots along the way."""

    def __init__(self, context: BrowserContext, name: str) -> None:
        self.name = name
        self.last: Page | None = None
        context.on("page", self._watch)

    def _watch(self, page: Page) -> None:
        self.last = page
        page.on("load", lambda loaded: setattr(self, "last", loaded))

    def snap(self, page: Page, step: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def save_last(self) -> None:
        if self.last is not None and not self.last.is_closed():
            ARTIFACTS.mkdir(exist_ok=True)
            self.last.screenshot(path=str(ARTIFACTS / f"{self.name}.png"), full_page=True)


def _context(browser: Browser, request: pytest.FixtureRequest, **options: Any) -> Iterator[tuple]:
    context = browser.new_context(locale="pt-BR", timezone_id="America/Sao_Paulo", **options)
    context.set_default_timeout(15_000)
    screens = Screens(context, _artifact_name(request))
    try:
        yield context, screens
    finally:
        screens.save_last()
        context.close()


@pytest.fixture
def mobile(browser: Browser, request: pytest.FixtureRequest) -> Iterator[tuple]:
    """A 360×740 phone-sized context that may read and write the clipboard: (context, screens)."""
    yield from _context(
        browser,
        request,
        viewport=MOBILE,
        is_mobile=True,
        has_touch=True,
        permissions=["clipboard-read", "clipboard-write"],
    )


@pytest.fixture
def desktop(browser: Browser, request: pytest.FixtureRequest) -> Iterator[tuple]:
    yield from _context(browser, request, viewport=DESKTOP)


@pytest.fixture
def no_javascript(browser: Browser, request: pytest.FixtureRequest) -> Iterator[tuple]:
    yield from _context(browser, request, viewport=MOBILE, java_script_enabled=False)


@pytest.fixture
def juno_simulator(settings: Any) -> Iterator[Any]:
    """The Juno simulator on loopback, in a thread of this process; both Juno base URLs point at it.

    ``server.app.base_url`` also serves the boleto, checkout and carnê pages its charges link to.
    """
    from gateways.juno.simulator import API_PREFIX, start_in_thread

    server, base_url = start_in_thread()
    settings.JUNO_BASE_URL = settings.JUNO_SANDBOX_BASE_URL = base_url + API_PREFIX
    try:
        yield server
    finally:
        server.shutdown()
