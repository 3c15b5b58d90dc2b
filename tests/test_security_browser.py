"""The strict Content Security Policy (no inline script) does not break the admin in a real browser."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def admin_login(transactional_db):
    from tests.factories import UserFactory

    UserFactory(username="csp-admin", is_superuser=True)
    return "csp-admin", "s3cret-pass!"


def browse_admin(base_url: str, username: str, password: str) -> list[str]:
    """Logs in, opens admin pages, and returns every CSP violation, script error or failed response."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page()
            page.on(
                "console",
                lambda message: (
                    problems.append(message.text)
                    if "Content Security Policy" in message.text or "Refused to" in message.text
                    else None
                ),
            )
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on(
                "response",
                lambda response: (
                    problems.append(f"{response.status} {response.url}") if response.status >= 400 else None
                ),
            )

            page.goto(f"{base_url}/admin/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", password)
            page.click("input[type=submit]")
            page.wait_for_url(f"{base_url}/admin/")

            for path in [
                "/admin/",
                "/admin/auth/user/",
                "/admin/auth/user/add/",
                "/admin/axes/accessattempt/",
            ]:
                response = page.goto(f"{base_url}{path}")
                if response is None or response.status != 200:
                    problems.append(f"{path}: {response.status if response else 'no response'}")
                elif "script-src 'self'" not in response.headers.get("content-security-policy", ""):
                    problems.append(f"{path}: no strict script-src")

            # The changelist's JavaScript (actions.js, loaded from 'self') really runs.
            page.goto(f"{base_url}/admin/auth/user/")
            page.check("#action-toggle")
            if not page.is_checked("input.action-select"):
                problems.append("admin actions.js did not run")
        finally:
            browser.close()
    return problems


def test_admin_pages_run_without_csp_violations(live_server, admin_login, monkeypatch):
    pytest.importorskip("playwright.sync_api")
    monkeypatch.setitem(os.environ, "DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # A thread of its own: other browser tests may keep a session-wide Playwright loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        problems = pool.submit(browse_admin, live_server.url, *admin_login).result(timeout=120)

    assert problems == []
