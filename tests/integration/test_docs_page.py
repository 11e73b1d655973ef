"""``GET /docs`` in a real headless Chromium (Debian's), driven by Playwright.

Every request the page makes must go to the gateway and succeed: anything
else is aborted and recorded, so the page is shown to work offline.  The
operations are grouped by tag, and "Try it out" creates an airport from the
document's example as it stands.
"""
import shutil
import tempfile

import pytest

CHROMIUM = shutil.which("chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (make test installs it)"
)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    profile = tempfile.TemporaryDirectory(prefix="travel-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile.name, executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        try:
            yield context
        finally:
            context.close()
    profile.cleanup()


def test_docs_page_shows_every_operation_offline(browser, stack, http):
    document = http.get("/openapi.json").json()
    operations = sorted(
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    )
    outside, failed, answered = [], [], []

    def route(request_route):
        if request_route.request.url.startswith(stack.url + "/"):
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    page = browser.new_page()
    page.route("**/*", route)
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("response", lambda response: answered.append(
        (response.status, response.url)
    ))
    response = page.goto(stack.url + "/docs", wait_until="networkidle")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")

    blocks = page.locator(".opblock")
    blocks.first.wait_for(timeout=15000)
    page.wait_for_load_state("networkidle")
    shown = sorted(
        (block.locator(".opblock-summary-method").inner_text().strip(),
         block.locator(".opblock-summary-path").get_attribute("data-path"))
        for block in blocks.all()
    )
    tags = [tag.get_attribute("data-tag") for tag in page.locator(".opblock-tag").all()]
    page.close()

    assert tags == [tag["name"] for tag in document["tags"]]
    assert tags == ["airports", "trips", "operations"]
    assert shown == operations
    assert outside == [] and failed == []
    assert [status for status, _ in answered if status >= 400] == []
    urls = {url.removeprefix(stack.url) for _, url in answered}
    assert {"/docs", "/openapi.json", "/docs/swagger-ui-bundle.js",
            "/docs/swagger-ui.css", "/docs/init.js"} <= urls


def test_docs_assets_come_from_the_gateway(http):
    script = http.get("/docs/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert script.headers["Content-Type"] == "text/javascript"
    assert len(script.content) > 100_000
    assert http.get("/docs/swagger-ui.css").headers["Content-Type"] == "text/css"
    missing = http.get("/docs/index.html")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No such asset."


def test_try_it_out_creates_an_airport_from_the_example(browser, stack, http):
    """Open ``POST /airport``, "Try it out", "Execute": the example body as it
    stands is a valid airport, answered 201."""
    page = browser.new_page()
    page.goto(stack.url + "/docs", wait_until="networkidle")
    create = page.locator("#operations-airports-post_airport")
    create.locator(".opblock-summary").click()
    create.locator(".try-out__btn").click()
    with page.expect_response(lambda response: response.url == stack.url + "/airport"
                              and response.request.method == "POST") as answer:
        create.locator(".execute").click()
    response = answer.value
    status = create.locator(".live-responses-table tr.response .response-col_status")
    status.wait_for(timeout=15000)
    shown = status.inner_text().strip()
    created = response.json()
    page.close()

    assert response.status == 201
    assert shown.startswith("201")
    assert http.get("/airport/" + created["id"]).json() == created
    assert created["airport"] == "Lisbon"
