"""The console in a real headless Chromium (Debian's package, driven by Playwright) against `jyntrix serve`.

One server on the embedded deployment for the whole package; each test gets a fresh browser context (so a fresh
sessionStorage) and a fresh user, at a desktop width unless it asks for another (`indirect` parametrisation of
`console` with a name from WIDTHS). Every page records script errors and Content-Security-Policy violations, and
a test fails if any occurred: the console must work under the strict policy the app sends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from testsupport.server import Server, serving_in

CHROMIUM = os.environ.get("JYNTRIX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 20_000
# Chromium logs every 4xx answer; the flows provoke some on purpose (a refused token) and check what the page shows.
EXPECTED_FAILURE = "Failed to load resource: the server responded with a status of 4"
# A phone held upright (an iPhone 12 to 15 is 390 CSS pixels wide) and a laptop.
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
BOTH_WIDTHS = pytest.mark.parametrize("console", list(WIDTHS), indirect=True)

# Runs in every page before its own scripts: CSP violations are DOM events, collected here for the checks.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory, minilm_model_dir: Path) -> Iterator[Server]:
    # paces the offline model like a real one, so that tokens visibly arrive one after another
    yield from serving_in(tmp_path_factory, "jyntrix-console", minilm_model_dir, OFFLINE_LLM_TOKEN_DELAY_S="0.03")


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (or set JYNTRIX_CHROMIUM)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Console:
    """A page on the console, what it logged, and the API as the same user for comparisons."""

    page: Any
    server: Server
    user: str
    out: Path
    errors: list[str] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.server.base_url}/console/"

    def headers(self) -> dict[str, str]:
        return self.server.token(self.user)

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.server.base_url}{path}", headers=self.headers(), timeout=30, **kwargs)
        assert response.status_code < 400, response.text
        return response.json() if response.content else None

    def sign_in(self) -> None:
        """Through the development-token button, as a developer on this machine would."""
        self.page.goto(self.url)
        self.page.fill("#dev-user", self.user)
        self.page.click("#dev-token")
        self.page.wait_for_selector("[data-view=memories]")
        assert self.page.text_content("#who") == f"signed in as {self.user}"

    def go(self, hash_route: str, view: str) -> None:
        self.page.evaluate("(h) => { window.location.hash = h; }", hash_route)
        self.page.wait_for_selector(f"[data-view={view}]")

    def shot(self, name: str) -> Path:
        path = self.out / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    @property
    def width(self) -> int:
        width: int = self.page.viewport_size["width"]
        return width

    def assert_fits(self) -> None:
        """Nothing on the page is wider than the screen: no sideways scrolling, no squeezed view."""
        page_width = self.page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= self.width, f"the page is {page_width} px wide on a {self.width} px screen"

    def chat(self, message: str) -> Any:
        """Sends `message` from the chat view and waits for its answer; the turn's element."""
        turns = self.page.locator("#chat-log li.chat-turn")
        turn = turns.nth(turns.count())  # the one this message adds (a locator is looked up when used)
        self.page.fill("#chat-input", message)
        self.page.click("#chat-send")
        turn.locator(".bubble.user .text", has_text=message).wait_for()
        self.page.wait_for_selector("#chat-log li.chat-turn:last-child[data-state=done]")
        return turn

    def violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.__cspViolations || []")
        return found


@pytest.fixture
def console(browser: Any, server: Server, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Console]:
    width, height = WIDTHS[getattr(request, "param", "desktop")]
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    opened = Console(page=page, server=server, user=f"console-{uuid.uuid4()}", out=tmp_path)
    page.on("pageerror", lambda error: opened.errors.append(f"pageerror: {error}"))
    page.on(
        "console",
        lambda message: (
            opened.errors.append(f"console.{message.type}: {message.text}")
            if message.type == "error" and not message.text.startswith(EXPECTED_FAILURE)
            else None
        ),
    )
    page.on("request", lambda request: opened.requests.append(request))
    try:
        yield opened
        assert opened.violations() == [], "Content-Security-Policy violations"
        assert opened.errors == [], "errors in the page"
    finally:
        context.close()
