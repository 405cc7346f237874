"""Every command in README.md's shell examples works as written, on the demo.

The test starts ``wuchuang serve --demo`` on a free port with a temporary data dir (as an operator's
``make demo`` would, minus the install), takes the admin token it prints, then runs README's
```sh blocks in one bash session — so variables set by one line (TOKEN, EVENT, …) serve the next —
from a directory whose ``.venv/bin/wuchuang`` is this interpreter's ``wuchuang``. ``make`` lines are
not run (they install and serve); ``localhost:8000`` becomes the test's port. Each command must exit 0
and print no error JSON, except where README documents a 4xx answer on the comment line under the
command (``#   → 401 …``): then that error code must be what comes back.

When the API changes, this test names the README line that no longer works.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.browser.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)
DOCUMENTED_ERROR = re.compile(r"^#\s*→\s*(4\d\d)\b.*?\"code\":\s*\"(\w+)\"")
MAKE = re.compile(r"^(\w+=\S+\s+)*make\b")


@dataclass(frozen=True)
class Command:
    text: str  # one logical line (continuations joined), as README writes it
    block: int
    expected_error: tuple[int, str] | None  # documented (status, code), for a 4xx example


def readme_commands(text: str) -> list[Command]:
    commands: list[Command] = []
    for number, match in enumerate(FENCE.finditer(text), start=1):
        pending: list[str] = []
        for line in match.group(1).splitlines():
            if pending:
                pending.append(line)
            elif line.strip() and not line.lstrip().startswith("#"):
                pending = [line]
            elif (documented := DOCUMENTED_ERROR.match(line.strip())) and commands and commands[-1].block == number:
                last = commands[-1]
                commands[-1] = Command(last.text, number, (int(documented.group(1)), documented.group(2)))
                continue
            else:
                continue
            if not line.rstrip().endswith("\\"):
                joined = "\n".join(pending)
                pending = []
                if not MAKE.match(joined.strip()):
                    commands.append(Command(joined, number, None))
    return commands


def test_the_readme_parser_finds_what_it_must():
    commands = readme_commands(README.read_text())
    assert len(commands) >= 20
    assert not any(MAKE.match(c.text) for c in commands)
    assert any(c.expected_error == (401, "unauthorized") for c in commands), "README shows a wrong token's 401"
    # No placeholder a person would have to replace by hand.
    for command in commands:
        assert "…" not in command.text and "..." not in command.text, command.text
        assert not re.search(r"/(ID|N)\b|<[a-z_]+>", command.text), command.text


@dataclass(frozen=True)
class Demo:
    url: str
    port: int
    env: dict[str, str]
    token: str
    output: str


@contextmanager
def serve_demo(data_dir: Path) -> Iterator[Demo]:
    from events import clock

    clock.set_clock(None)  # the server is another process on the wall clock; so are the commands
    data_dir.mkdir(parents=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WUCHUANG_")} | {
        "WUCHUANG_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
    }
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "wuchuang.cli", "serve", "--demo", "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # the demo is a year of events, loaded through the services
        while True:
            if process.poll() is not None:
                pytest.fail(f"serve --demo exited ({process.returncode}):\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"serve --demo did not answer /health in time:\n{log.read_text(errors='replace')}")
            time.sleep(0.5)
        output = log.read_text(errors="replace")
        token = re.search(r"^admin token: (wch_\S+)$", output, re.M)
        assert token, output
        yield Demo(url, port, env, token.group(1), output)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_serve_demo_and_every_readme_command_work_as_written(tmp_path):
    # One server for the three checks: loading the demo is most of this test's time (pytest-xdist may
    # give a module's tests to different workers, each of which would start its own).
    with serve_demo(tmp_path / "data") as demo:
        check_the_summary(demo)
        check_the_console_link_signs_the_office_in_once(demo)
        check_every_readme_command(demo, tmp_path / "commands")


def check_the_summary(demo: Demo) -> None:
    summary = demo.output.split("wuchuang listening on")[0]
    assert re.search(r"^demo programme loaded: \d+ events, \d+ registrations", summary, re.M), summary
    assert f"open {demo.url}/docs" in summary
    assert "DemoSummary(" not in summary and "{" not in summary  # lines, not a repr or a JSON blob


def check_the_console_link_signs_the_office_in_once(demo: Demo) -> None:
    link = re.search(r"^console: (http://\S+/console/signin/\S+)", demo.output, re.M)
    assert link, demo.output
    with httpx.Client(base_url=demo.url, timeout=10) as http:
        page = http.get(link.group(1))
        assert page.status_code == 200
        token = re.search(r'name="form_token" value="([^"]+)"', page.text)
        assert token, page.text
        signed = http.post(link.group(1), data={"form_token": token.group(1)})
        assert signed.status_code == 303 and "wc_console" in signed.headers["set-cookie"]
        dashboard = http.get("/console/dashboard")
        assert dashboard.status_code == 200 and "/console/events" in dashboard.text
        assert http.get(link.group(1)).status_code == 409  # spent: used once already


def run_commands(commands: list[Command], *, port: int, env: dict[str, str], workdir: Path) -> list[str]:
    """Run ``commands`` in one bash session from ``workdir`` against the server on ``port``; the
    failures, each naming its README line."""
    (workdir / ".venv" / "bin").mkdir(parents=True, exist_ok=True)
    wrapper = workdir / ".venv" / "bin" / "wuchuang"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m wuchuang.cli "$@"\n')
    wrapper.chmod(0o755)
    outputs = workdir / "outputs"
    outputs.mkdir(exist_ok=True)
    lines = []
    for index, command in enumerate(commands):
        text = command.text.replace("localhost:8000", f"localhost:{port}").replace(
            "127.0.0.1:8000", f"127.0.0.1:{port}"
        )
        # Grouped, not a subshell: an assignment (EVENT=$(…)) stays for the lines that follow.
        lines.append(f"{{ {text}\n}} > {outputs}/{index}.out 2>&1; echo $? > {outputs}/{index}.rc")
    script = workdir / "readme.sh"
    script.write_text("\n".join(lines) + "\n")
    subprocess.run(["bash", str(script)], env=env | {"PYTHONPATH": str(ROOT)}, cwd=workdir, timeout=900, check=True)

    failures = []
    for index, command in enumerate(commands):
        rc = int((outputs / f"{index}.rc").read_text())
        out = (outputs / f"{index}.out").read_text(errors="replace")
        if command.expected_error is not None:
            status, code = command.expected_error
            ok = f'"code":"{code}"' in out.replace(" ", "")
            expected = f"{status} {code}"
        else:
            ok = rc == 0 and '"error":' not in out and "Traceback" not in out
            expected = "exit 0 and no error"
        if not ok:
            failures.append(
                f"README block {command.block}: {command.text}\n  expected {expected}; got exit {rc}:\n"
                f"  {out[:300]}\n  …\n  {out[-900:]}"
            )
    return failures


def check_every_readme_command(demo: Demo, workdir: Path) -> None:
    workdir.mkdir()
    commands = readme_commands(README.read_text())
    failures = run_commands(commands, port=demo.port, env=demo.env | {"TOKEN": demo.token}, workdir=workdir)
    assert not failures, "\n\n".join(failures)


def test_the_documentation_stands_alone():
    """README and docs/ describe the project from inside the repository: no links out of it, and
    every relative link names a file that is there."""
    pages = [README, *sorted((ROOT / "docs").glob("*.md"))]
    assert {p.name for p in pages} >= {"README.md", "architecture.md", "api.md", "operations.md"}
    for page in pages:
        text = page.read_text()
        assert "../shared" not in text and "shared folder" not in text, page
        for target in re.findall(r"\]\(([^)#\s]+)\)", text):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.name} links to a missing {target}"
