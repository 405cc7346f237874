"""/scan and /static without a browser: served by the app, everything from this origin."""

from __future__ import annotations

import hashlib
import re

from api.pages import STATIC_DIR


async def test_scan_page_is_served_with_its_assets_and_a_strict_policy(client):
    response = await client.get("/scan")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "camera=(self)" in response.headers["permissions-policy"]
    html = response.text
    assert 'lang="zh-CN"' in html and "检票员登录" in html

    # Every script and stylesheet is local, fingerprinted, and actually there.
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(ref.startswith("/static/") for ref in refs), refs
    assert {ref.split("?")[0] for ref in refs} == {"/static/scan.css", "/static/vendor/jsQR.js", "/static/scan.js"}
    for ref in refs:
        assert re.search(r"\?v=[0-9a-f]{12}$", ref)
        asset = await client.get(ref)
        assert asset.status_code == 200, ref
        kind = "text/css" if ref.split("?")[0].endswith(".css") else "javascript"
        assert kind in asset.headers["content-type"]


async def test_the_page_never_reaches_outside_its_origin(client):
    script = (STATIC_DIR / "scan.js").read_text()
    # Only relative API paths; no CDN, fonts or analytics in the page's own code and styles.
    assert not re.search(r"https?://", script)
    assert not re.search(r"https?://|@import|url\(", (STATIC_DIR / "scan.css").read_text())
    for path in ("/api/v1/checkins", "/api/v1/checkins/events", "/api/v1/tickets/public-key"):
        assert f"'{path}'" in script or f"`{path}" in script


def test_vendored_jsqr_is_pinned_with_its_licence():
    vendor = STATIC_DIR / "vendor"
    assert "Apache License" in (vendor / "jsQR.LICENSE").read_text()
    readme = (vendor / "README.md").read_text()
    assert "jsqr" in readme and "1.4.0" in readme
    # Unmodified: the file's hash is the one the README records for the npm release.
    assert hashlib.sha256((vendor / "jsQR.js").read_bytes()).hexdigest() in readme
