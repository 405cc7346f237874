"""Start-up as an operator meets it: a database that is not there, a port that is taken, `make demo`.

Each case is a real ``wuchuang`` process; what it must print is one line on stderr and a non-zero
exit, never a traceback, and for a taken port nothing done before it says so.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.browser.helpers import free_port
from tests.cli_helpers import run

ROOT = Path(__file__).resolve().parent.parent

COMMANDS: dict[str, list[str]] = {
    "serve": ["serve"],  # on a free port, given per test
    "migrate": ["migrate"],
    "demo": ["demo"],
    "token create": ["token", "create", "--role", "admin", "--name", "ops"],
    "token list": ["token", "list"],
    "role grant": ["role", "grant", "--telegram-id", "42", "--role", "checker"],
    "role list": ["role", "list"],
    "backup": ["backup"],
}


def assert_one_line(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("wuchuang: "), lines[0]
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_unreachable_database_server_is_one_line(env, command):
    args = COMMANDS[command]
    if command == "serve":
        args = ["serve", "--port", str(free_port())]
    result = run(*args, env=env | {"WUCHUANG_DATABASE_URL": "postgresql://postgres:s3cret@127.0.0.1:1/wuchuang"})
    line = assert_one_line(result, "cannot use the database", "127.0.0.1:1", "refused")
    assert "s3cret" not in line  # the password is not echoed


@pytest.fixture
def missing_database() -> str:
    """A database name the configured test server does not have (needs WUCHUANG_TEST_POSTGRES_URL)."""
    url = os.environ.get("WUCHUANG_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("WUCHUANG_TEST_POSTGRES_URL is not set: no PostgreSQL server to ask")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/nope_{uuid.uuid4().hex[:12]}"))


@pytest.mark.parametrize("command", ["serve", "migrate", "demo", "token create", "role list", "backup"])
def test_a_missing_postgresql_database_is_one_line(env, missing_database, command):
    args = COMMANDS[command]
    if command == "serve":
        args = ["serve", "--demo", "--port", str(free_port())]
    result = run(*args, env=env | {"WUCHUANG_DATABASE_URL": missing_database})
    name = urlsplit(missing_database).path.lstrip("/")
    assert_one_line(result, "cannot use the database", f'database "{name}" does not exist', "createdb")
    assert "admin token" not in result.stdout


def test_a_data_dir_that_cannot_be_made_is_one_line(env, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run("migrate", env=env | {"WUCHUANG_DATA_DIR": str(blocker / "data")})
    assert_one_line(result, "cannot use the database", str(blocker))


def test_serve_checks_the_port_before_it_migrates_mints_or_loads(env, tmp_path):
    data_dir = tmp_path / "fresh"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--demo", "--port", str(port), env=env | {"WUCHUANG_DATA_DIR": str(data_dir)})
    assert_one_line(result, f"port {port}", "already in use", "--port")
    assert result.stdout == ""  # no demo summary, no admin token
    assert not data_dir.exists()  # nothing migrated: not even the data dir was made


def test_a_listen_address_that_is_not_ours_is_one_line(env):
    # 192.0.2.1 (TEST-NET-1) is on no interface of this machine.
    result = run("serve", "--host", "192.0.2.1", "--port", str(free_port()), env=env)
    assert_one_line(result, "cannot listen on 192.0.2.1")


def test_make_demo_installs_once_until_pyproject_changes(tmp_path):
    """`make demo` twice: one install. A stub .venv records what make asks of pip and of wuchuang."""
    make = subprocess.run(["which", "make"], capture_output=True, text=True, check=False).stdout.strip()
    if not make:
        pytest.skip("make is not installed")
    for name in ("Makefile", "pyproject.toml"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    calls = tmp_path / "calls.log"
    for tool in ("python", "wuchuang"):
        stub = bin_dir / tool
        stub.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{calls}"\n')
        stub.chmod(0o755)

    def make_demo() -> list[str]:
        calls.write_text("")
        done = subprocess.run([make, "-s", "demo"], cwd=tmp_path, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return calls.read_text().splitlines()

    assert make_demo() == ["python -m pip install --quiet -e .", "wuchuang serve --demo"]
    assert make_demo() == ["wuchuang serve --demo"]  # nothing changed: no reinstall

    def edit_pyproject() -> None:  # the stamps become older than pyproject.toml
        edited = (tmp_path / "pyproject.toml").stat().st_mtime
        for stamp in (tmp_path / ".venv").glob(".installed*"):
            os.utime(stamp, (edited - 60, edited - 60))

    edit_pyproject()
    assert make_demo() == ["python -m pip install --quiet -e .", "wuchuang serve --demo"]
    # The dev install covers the base one: `make test` then `make demo` installs nothing more.
    edit_pyproject()
    subprocess.run([make, "-s", "install-dev"], cwd=tmp_path, capture_output=True, check=True)
    assert make_demo() == ["wuchuang serve --demo"]


def test_several_workers_with_a_bot_want_the_webhook(env, tmp_path):
    # Telegram answers a second getUpdates with 409: several workers cannot each poll.
    data_dir = tmp_path / "fresh"
    bot = {"WUCHUANG_BOT_TOKEN": "123456:" + "A" * 35, "WUCHUANG_DATA_DIR": str(data_dir)}
    result = run("serve", "--workers", "2", "--port", str(free_port()), env=env | bot)
    assert_one_line(result, "several workers", "--webhook")
    assert not data_dir.exists()  # refused before anything was made
