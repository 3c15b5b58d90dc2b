"""The strict Content Security Policy (no inline script) does not break the admin in a real browser."""

from __future__ import annotations

import os
import shutil

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


def test_admin_pages_run_without_csp_violations(live_server, admin_login, monkeypatch):
    playwright_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the database work is already done.
    monkeypatch.setitem(os.environ, "DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    username, password = admin_login
    problems: list[str] = []

    with playwright_api.sync_playwright() as playwright:
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

            page.goto(f"{live_server.url}/admin/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", password)
            page.click("input[type=submit]")
            page.wait_for_url(f"{live_server.url}/admin/")

            for path in [
                "/admin/",
                "/admin/auth/user/",
                "/admin/auth/user/add/",
                "/admin/axes/accessattempt/",
            ]:
                response = page.goto(f"{live_server.url}{path}")
                assert response is not None and response.status == 200, path
                assert "script-src 'self'" in response.headers["content-security-policy"]

            # The changelist's JavaScript (actions.js, loaded from 'self') really runs.
            page.goto(f"{live_server.url}/admin/auth/user/")
            page.check("#action-toggle")
            assert page.is_checked("input.action-select")
        finally:
            browser.close()

    assert [p for p in problems if "favicon" not in p] == []
