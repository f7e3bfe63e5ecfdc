"""The admin page in a real browser, on a closed network: headless Chromium (Debian's `chromium`, installed by
`make test` through scripts/ensure_chromium.sh), driven by Playwright, against a real `ar serve` on SQLite. Every
request to anything but the server is refused and counted: none may be attempted. On /docs the browser finds the
operations, runs a read without a key and sees 401, authorizes with the admin key, runs it again and sees 200; the
key survives a reload; /redoc shows the operations' titles."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, Request, Route, expect, sync_playwright
from tests.support.api import ADMIN_TOKEN
from tests.support.servers import ArProcess, free_port, killed_at_the_end

START_TIMEOUT_S = 60.0
UI_TIMEOUT_MS = 20_000
# Each Content-Security-Policy refusal reported to the test.
VIOLATIONS = ("document.addEventListener('securitypolicyviolation', "
              "e => window.arViolation(e.effectiveDirective, e.blockedURI));")
# ReDoc 2's sidebar shows Redocly's logo from its CDN whatever the options: the policy of /redoc refuses it (the
# browser sends nothing) and ReDoc drops the broken image. The only refusal allowed.
REDOCLY_LOGO = ("img-src", "https://cdn.redoc.ly/redoc/logo-mini.svg")
SCREENSHOT = Path("/tmp/ar-admin-page-docs.png")  # for a person to look at; not part of the repository


@pytest.fixture
def chromium() -> str:
    """Debian's chromium. Missing: a skip on a developer's machine (make test installs it), a failure in CI."""
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed in CI: scripts/ensure_chromium.sh (run by make test) installs it")
        pytest.skip("chromium is not installed: run scripts/ensure_chromium.sh (make test does)")
    return found


def major_version(chromium: str) -> str:
    """The major version of that chromium (`Chromium 156.0.8078.108 built on Debian ...`)."""
    out = subprocess.run([chromium, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    return out.split()[1].split(".")[0]


@dataclass
class Network:
    """What the browser asked for: our server's requests pass, any other is aborted and kept here."""

    origin: str
    refused: list[str] = field(default_factory=list)
    # What the page's Content-Security-Policy stopped before any request: (directive, URL)
    stopped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # uncaught errors in the pages' scripts
    calls: list[Request] = field(default_factory=list)  # the API calls the page made (paths under /v1/)

    def route(self, route: Route) -> None:
        request = route.request
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https") and f"{parts.scheme}://{parts.netloc}" == self.origin:
            if parts.path.startswith("/v1/"):
                self.calls.append(request)
            route.continue_()
        else:
            self.refused.append(request.url)
            route.abort("blockedbyclient")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`ar serve` on SQLite in tmp_path, the admin key installed at start from AR_ADMIN_KEY; its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AR_")}
    env.update({"AR_DATABASE_URL": f"sqlite:///{tmp_path}/ar.sqlite", "AR_ADMIN_KEY": ADMIN_TOKEN,
                "PYTHONUNBUFFERED": "1", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
    with killed_at_the_end() as started:
        process = ArProcess(["serve", "--host", "127.0.0.1", "--port", str(port)], tmp_path / "serve.log", env,
                            port=port)
        started.append(process)
        process.start()
        assert process.wait_healthy(START_TIMEOUT_S), f"ar serve did not start:\n{process.log_tail()}"
        yield process.base_url


@pytest.fixture
def browser_context(chromium: str, server: str) -> Iterator[tuple[BrowserContext, Network]]:
    """Chromium is looked for before the server starts: a machine without it skips at once."""
    network = Network(origin=server)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, service_workers="block")
            context.set_default_timeout(UI_TIMEOUT_MS)
            expect.set_options(timeout=UI_TIMEOUT_MS)  # the bundles are large; a loaded machine parses them slowly
            context.route("**/*", network.route)
            context.expose_function("arViolation", lambda directive, url: network.stopped.append((directive, url)))
            context.add_init_script(VIOLATIONS)
            assert browser.version.split(".")[0] == major_version(chromium), "not the system's chromium"
            yield context, network
        finally:
            browser.close()


def authorize(page: Page, token: str) -> None:
    """Authorize, paste the key, Authorize, Close: as a person does."""
    page.locator(".scheme-container button.authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    expect(dialog).to_be_visible()
    dialog.locator(".auth-container input").first.fill(token)
    dialog.locator("button.authorize").first.click()
    expect(dialog.locator("button.authorize")).to_have_count(0)  # once authorized, the dialog offers Logout
    dialog.locator("button.btn-done").first.click()
    expect(dialog).to_have_count(0)
    expect(page.locator(".scheme-container button.authorize")).to_have_class("btn authorize locked")


def run_list_invoices(page: Page, expected: str) -> None:
    """Open GET /v1/invoices, Try it out (unless it is already), Execute; the page shows the status it got."""
    operation = page.locator("#operations-invoices-invoices-list_invoices")
    expect(operation).to_be_visible()
    if "is-open" not in (operation.get_attribute("class") or ""):  # a reload keeps it open (the link's #hash)
        operation.locator(".opblock-summary").first.click()
    if operation.locator("button.execute").count() == 0:
        operation.locator("button.try-out__btn", has_text="Try it out").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status")
    expect(status).to_have_text(expected)


def test_the_admin_page_works_offline_with_a_key(browser_context: tuple[BrowserContext, Network],
                                                 server: str) -> None:
    context, network = browser_context
    page = context.new_page()
    page.on("pageerror", lambda error: network.errors.append(str(error)))
    page.goto(f"{server}/docs")
    expect(page.locator(".information-container .title")).to_contain_text("ar: accounts receivable")

    # The operations, grouped by tag, with the tag's description.
    expect(page.locator("#operations-tag-invoices")).to_contain_text("Invoices from issue to cash")
    issue = page.locator("#operations-invoices-invoices-issue_invoice")
    expect(issue.locator(".opblock-summary-method")).to_have_text("POST")
    expect(issue.locator(".opblock-summary-path")).to_have_text("/v1/invoices")
    expect(issue.locator(".opblock-summary-description")).to_have_text("Issue an invoice")

    page.screenshot(path=str(SCREENSHOT.with_name("ar-admin-page-top.png")))
    run_list_invoices(page, "401")  # no key yet: the door is shut
    authorize(page, ADMIN_TOKEN)
    run_list_invoices(page, "200")
    assert [c.headers.get("authorization") for c in network.calls] == [None, f"Bearer {ADMIN_TOKEN}"]
    page.screenshot(path=str(SCREENSHOT), full_page=False)

    # The key survives a reload (persistAuthorization): the next call carries it without a new Authorize.
    page.reload()
    expect(page.locator(".scheme-container button.authorize")).to_have_class("btn authorize locked")
    run_list_invoices(page, "200")
    assert [c.headers.get("authorization") for c in network.calls] == [None] + [f"Bearer {ADMIN_TOKEN}"] * 2

    page.goto(f"{server}/redoc")
    expect(page.get_by_role("heading", name="Issue an invoice").first).to_be_attached()
    expect(page.locator("h1").first).to_contain_text("ar: accounts receivable")
    expect(page.locator("img[alt='redocly logo']")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOT.with_name("ar-admin-page-redoc.png")))
    page.close()

    assert network.refused == [], f"the page tried to reach another host: {network.refused}"
    assert set(network.stopped) <= {REDOCLY_LOGO}, network.stopped
    assert network.errors == []
