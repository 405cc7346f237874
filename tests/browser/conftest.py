"""Browser tests: the real app under uvicorn (``wuchuang serve``) on a temporary SQLite data dir,
driven by Playwright in the system's headless Chromium (``apt-get install chromium``).

Playwright's own browser download is never used: ``executable_path`` points at the system binary
(``WUCHUANG_CHROMIUM`` overrides ``/usr/bin/chromium``). Without Playwright or that binary every
test here is skipped with the reason. SQLite only: these tests are about the page, not the backend.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from events.settings import Settings, load_settings
from tests.browser.helpers import ARTIFACTS, free_port

CHROMIUM = Path(os.environ.get("WUCHUANG_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
# A phone-sized window: the page is mobile-first.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "has_touch": True}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the /scan page in headless Chromium (slow)")


@pytest.fixture(autouse=True)
def controlled_clock() -> None:
    """The wall clock here, not the suite's pinned one: the server under test is another process and
    reads the wall clock, so what the test seeds must be dated by the same clock."""
    from events import clock

    clock.set_clock(None)


@dataclass(frozen=True)
class Server:
    url: str
    settings: Settings
    log: Path


@pytest.fixture(scope="module")
def browser_available() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium), or set WUCHUANG_CHROMIUM")


@contextmanager
def serving(data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """``wuchuang serve`` in a subprocess: migrations via Alembic, then uvicorn on a free port
    (``extra_env``: more settings, e.g. an SMTP server)."""
    from wuchuang.migrate import upgrade_to_head

    port = free_port()
    env = (
        {k: v for k, v in os.environ.items() if not k.startswith("WUCHUANG_") or k == "WUCHUANG_CHROMIUM"}
        | {
            "WUCHUANG_DATA_DIR": str(data_dir),
            "WUCHUANG_ENVIRONMENT": "test",
            "WUCHUANG_PUBLIC_RATE_LIMIT": "0",
            "WUCHUANG_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
        | (extra_env or {})
    )
    # database_url="": the data dir's SQLite file, whatever WUCHUANG_DATABASE_URL says.
    settings = load_settings(database_url="", data_dir=data_dir, environment="test", public_rate_limit="0")
    upgrade_to_head(settings)
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "wuchuang.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
            + ["--log-level", "warning"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited ({process.returncode}):\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer /health in 30 s:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield Server(url, settings, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def server(browser_available: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app on a temporary SQLite data dir, for a module's tests."""
    with serving(tmp_path_factory.mktemp("browser-data")) as running:
        yield running


@pytest.fixture
def launch(browser_available: None) -> Iterator[Callable[..., Any]]:
    """Start Playwright and the system Chromium; ``launch(*extra_args)`` gives a Browser.

    Per test, so that Playwright's event loop is gone before any asyncio test runs after these.
    """
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    browsers: list[Any] = []

    def start(*extra: str) -> Any:
        browser = manager.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra])
        browsers.append(browser)
        return browser

    try:
        yield start
    finally:
        for browser in browsers:
            browser.close()
        manager.stop()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``shot(page, name)``: a screenshot kept in test-artifacts/browser/ for a human to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def shot(page: Any, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return shot


@pytest.fixture
def console_log(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """The page's console messages and uncaught errors: printed if the test fails; an uncaught
    error in the page fails the test."""
    lines: list[str] = []
    yield lines
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print("\n--- browser console ---\n" + "\n".join(lines))
    errors = [line for line in lines if line.startswith("pageerror:")]
    assert not errors, "uncaught errors in the page:\n" + "\n".join(errors)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
