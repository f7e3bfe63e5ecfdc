"""The admin page works on a closed network: /docs and /redoc load every file from this server (no CDN), and the
document they show describes every tag, summarises every operation and declares the errors any operation can give.
The browser's view of the same page is tests/e2e/test_admin_page.py."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.support.api import Json

from ar.api import openapi_doc
from ar.api.app import create_app
from ar.config import Settings
from ar.runtime import build

PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
SHARED = ("401", "403", "429", "503")
OPEN = ("/healthz", "/readyz")
# Summaries missing from a route file this work may not edit; each one left here is named in the report. A route
# added later without a summary fails below.
KNOWN_WITHOUT_SUMMARY: set[str] = set()
ASSET = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']|url: *'([^']+)'""")


@pytest.fixture(scope="module")
def admin_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app with every router, the admin ones included (simulated clock). The page does not depend on the storage:
    SQLite."""
    settings = Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('docs')}/ar.sqlite", simulated_clock=True,
                        clock_start="2026-03-02")
    runtime = build(settings)
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            yield client
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def doc(admin_client: TestClient) -> Json:
    r = admin_client.get("/openapi.json")
    assert r.status_code == 200, r.text
    body: Json = r.json()
    return body


def operations(doc: Json) -> Iterator[tuple[str, str, Json]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield method.upper(), path, op


@pytest.mark.parametrize(("page", "assets"), [
    ("/docs", {"/docs-assets/swagger-ui.css", "/docs-assets/swagger-ui-bundle.js", "/docs-assets/favicon.png",
               "/openapi.json"}),
    ("/redoc", {"/docs-assets/redoc.standalone.js", "/docs-assets/favicon.png", "/openapi.json"}),
])
def test_the_pages_load_every_file_from_this_server(admin_client: TestClient, page: str, assets: set[str]) -> None:
    r = admin_client.get(page)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "http://" not in r.text and "https://" not in r.text and "//" not in r.text.replace("://", ""), r.text
    found = {a or b for a, b in ASSET.findall(r.text)}
    assert found == assets
    for asset in found:
        got = admin_client.get(asset)
        assert got.status_code == 200, asset
        assert len(got.content) > 1000, asset


def test_the_bundles_are_the_packaged_ones(admin_client: TestClient) -> None:
    for name, kind in [("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "text/css"),
                       ("redoc.standalone.js", "javascript")]:
        r = admin_client.get(f"/docs-assets/{name}")
        assert kind in r.headers["content-type"], (name, r.headers["content-type"])
        assert r.content == (openapi_doc.ASSETS / name).read_bytes()
    assert admin_client.get("/docs-assets/../pyproject.toml").status_code == 404
    assert "/docs-assets/{path}" not in admin_client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_pages_may_load_nothing_from_elsewhere(admin_client: TestClient, page: str) -> None:
    """Whatever a bundle refers to (ReDoc's sidebar logo is on Redocly's CDN), the browser may fetch it only here."""
    r = admin_client.get(page)
    policy = dict(d.strip().split(" ", 1) for d in r.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'self'"
    for directive in ("script-src", "img-src", "connect-src", "font-src", "style-src", "worker-src"):
        assert "http" not in policy[directive] and "*" not in policy[directive], (directive, policy[directive])
        assert policy[directive].startswith("'self'"), directive
    scripts = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in scripts}
    assert set(policy["script-src"].split()) == {"'self'", *hashes}
    assert len(scripts) == (1 if page == "/docs" else 0)


def test_swagger_ui_keeps_the_key_across_a_reload(admin_client: TestClient) -> None:
    assert '"persistAuthorization": true' in admin_client.get("/docs").text


def test_every_operation_has_a_summary_of_its_own(doc: Json) -> None:
    """FastAPI makes up a summary from the function's name ("Get Customer") when the route gives none."""
    ops = list(operations(doc))
    assert len(ops) >= 45
    made_up = {op["operationId"] for _, _, op in ops
               if op["summary"] == op["operationId"].split("-", 1)[1].replace("_", " ").title()}
    assert made_up <= KNOWN_WITHOUT_SUMMARY, sorted(made_up - KNOWN_WITHOUT_SUMMARY)
    by_id = {op["operationId"]: op for _, _, op in operations(doc)}
    assert by_id["admin-set_clock"]["summary"] == "Move the simulated clock"
    assert by_id["customers-change_credit_limit"]["summary"].startswith("Change the credit limit")


def test_every_tag_is_described_and_every_described_tag_used(doc: Json) -> None:
    used = {tag for _, _, op in operations(doc) for tag in op["tags"]}
    described = {t["name"]: t.get("description", "") for t in doc["tags"]}
    assert used == set(described), (used ^ set(described))
    assert all(len(text) > 20 for text in described.values()), described
    assert {"customers", "invoices", "payments", "reports", "dunning", "tasks", "rates", "health", "admin"} <= used
    assert list(described) == [name for name in openapi_doc.TAGS if name in used]  # the page's order, not random


def test_every_operation_but_the_probes_declares_the_shared_errors(doc: Json) -> None:
    count = 0
    for method, path, op in operations(doc):
        responses = op["responses"]
        if path in OPEN:
            assert not set(SHARED) & (set(responses) - {"503"}), (method, path)
            continue
        keyless = op.get("security") == []  # a door that takes no API key (a signed webhook)
        count += not keyless
        for code in SHARED:
            if keyless and code != "503":
                assert code not in responses or "API key" not in responses[code]["description"], (method, path)
                continue
            assert responses.get(code, {}).get("content") == PROBLEM_CONTENT, (method, path, code)
        for code in ("429", "503"):
            if code in responses:
                assert responses[code]["headers"]["Retry-After"]["schema"] == {"type": "integer"}, (method, path)
    assert count >= 45


def test_the_document_reads_the_same_each_time(admin_client: TestClient, doc: Json) -> None:
    """Each page load asks for /openapi.json: what is added to FastAPI's document is added once, not per request."""
    again = admin_client.get("/openapi.json").json()
    assert again == doc
    description = doc["paths"]["/v1/customers"]["post"].get("description", "")
    assert description.count("Scope:") <= 1, description


def test_the_routes_own_declarations_are_kept(doc: Json) -> None:
    invoices = doc["paths"]["/v1/invoices"]
    assert invoices["get"]["responses"]["503"]["description"].startswith("Not ready, or the storage unavailable")
    assert set(invoices["get"]["responses"]["503"]["headers"]) == {"Retry-After"}  # what it always sent
    assert invoices["post"]["responses"]["503"]["description"].startswith("The storage is unavailable")
    assert invoices["post"]["responses"]["503"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert invoices["post"]["responses"]["422"]["content"] == PROBLEM_CONTENT
    assert set(invoices["post"]["responses"]) >= {"200", "201", "404", "409", "422"}
    healthz = doc["paths"]["/healthz"]["get"]["responses"]
    assert set(healthz) == {"200"}
    readyz = doc["paths"]["/readyz"]["get"]["responses"]
    assert set(readyz) == {"200", "503"} and readyz["503"]["description"].startswith("Not ready")
