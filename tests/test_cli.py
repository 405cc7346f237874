"""The command line as an operator uses it: a real process, real stdout."""

from __future__ import annotations

from tests.cli_helpers import run


def test_token_create_prints_exactly_one_line_and_the_token_works(env):
    created = run("token", "create", "--role", "admin", "--name", "ops", env=env)
    assert created.returncode == 0, created.stderr
    lines = created.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("wch_")
    listed = run("token", "list", env=env)
    assert "admin\tops\tactive" in listed.stdout
    assert lines[0] not in listed.stdout  # only the hash is kept
    assert run("token", "revoke", "1", env=env).returncode == 0
    assert "revoked" in run("token", "list", env=env).stdout
    assert run("token", "revoke", "99", env=env).returncode == 1


def test_bad_role_and_bad_settings_fail_clearly(env):
    bad_role = run("token", "create", "--role", "king", "--name", "x", env=env)
    assert bad_role.returncode == 2
    assert "invalid choice" in bad_role.stderr
    bad_url = run("token", "list", env=env | {"WUCHUANG_DATABASE_URL": "mysql://x/y"})
    assert bad_url.returncode == 2
    assert "WUCHUANG_DATABASE_URL" in bad_url.stderr
    assert "Traceback" not in bad_url.stderr


def test_help_documents_every_command(env):
    out = run("--help", env=env).stdout
    for command in ("serve", "migrate", "demo", "token"):
        assert command in out
    assert "--demo" in run("serve", "--help", env=env).stdout


def test_brief_writes_the_period_or_refuses_a_bad_one(env, tmp_path):
    out = tmp_path / "november.html"
    made = run("brief", "2026-11", "--format", "html", "--output", str(out), env=env)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == str(out)
    page = out.read_text(encoding="utf-8")
    assert "2026年11月" in page and "每月简报" in page
    docx = run("brief", "2026-H1", "--output", str(tmp_path / "h1.docx"), env=env)
    assert docx.returncode == 0 and (tmp_path / "h1.docx").read_bytes()[:2] == b"PK"  # a zip: the .docx
    bad = run("brief", "2026-13", env=env)
    assert bad.returncode == 2 and "2026-11" in bad.stderr and not bad.stdout
