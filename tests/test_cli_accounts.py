"""``wuchuang account create|password``: the password comes from stdin, never the command line."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from events.db import close_db, init_db
from events.models import Person, Role
from events.services import accounts, staff
from events.settings import load_settings
from tests.cli_helpers import ROOT, run


def _run_with_input(text: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wuchuang.cli", *args],
        input=text,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def _in_db(tmp_path: Path, work):  # noqa: ANN001, ANN202
    async def go():  # noqa: ANN202
        await init_db(load_settings(data_dir=tmp_path))
        try:
            return await work()
        finally:
            await close_db()

    return asyncio.run(go())


def test_account_create_reads_the_password_from_stdin_and_it_signs_in(env, tmp_path):
    assert run("migrate", env=env).returncode == 0

    async def seed() -> int:
        person = await Person.create(name="陈静", email="chen@example.cn")
        await staff.grant_role(person, role=Role.ORGANIZER, event_ids=None, actor="test")
        return person.id

    person_id = _in_db(tmp_path, seed)
    weak = _run_with_input("short\n", "account", "create", "--person-id", str(person_id), "--password-stdin", env=env)
    assert weak.returncode == 2 and "10" in weak.stderr
    made = _run_with_input(
        "a long enough secret\n", "account", "create", "--email", "chen@example.cn", "--password-stdin", env=env
    )
    assert made.returncode == 0, made.stderr
    assert "chen@example.cn" in made.stdout and "a long enough secret" not in made.stdout
    again = _run_with_input("another long secret\n", "account", "create", "--person-id", str(person_id), env=env)
    assert again.returncode == 2 and "already" in again.stderr
    nobody = run("account", "create", "--person-id", "999", env=env)
    assert nobody.returncode == 2

    async def sign_in(password: str) -> int:
        signed_in = await accounts.sign_in_password(
            login="chen@example.cn", password=password, client=accounts.Client(ip="127.0.0.1")
        )
        return signed_in.account.person_id

    assert _in_db(tmp_path, lambda: sign_in("a long enough secret")) == person_id
    changed = _run_with_input(
        "the new long secret\n", "account", "password", "--login", "chen@example.cn", "--password-stdin", env=env
    )
    assert changed.returncode == 0, changed.stderr
    assert _in_db(tmp_path, lambda: sign_in("the new long secret")) == person_id
