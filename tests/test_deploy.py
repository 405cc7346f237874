"""deploy/ as far as it can be checked without Docker: the files parse, name only settings the app
knows, start the app the way the tested commands do, and the systemd units verify."""

from __future__ import annotations

import inspect
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from api.app import create_app
from api.logs import log_config
from events.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SETTINGS = {f"WUCHUANG_{name.upper()}" for name in Settings.model_fields}
NAME = re.compile(r"\bWUCHUANG_[A-Z0-9_]+\b")


def compose() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_has_every_role_and_starts_them_as_the_tested_commands_do():
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "api", "bot", "caddy", "backup"} <= set(services)
    api = services["api"]["command"]
    assert api[:3] == ["uvicorn", "--factory", "api.app:create_app"]
    assert "--no-proxy-headers" in api  # the app trusts X-Forwarded-For itself (WUCHUANG_FORWARDED_ALLOW_IPS)
    assert services["api"]["environment"]["WUCHUANG_NOTIFICATIONS"] == "false"
    assert services["bot"]["command"][:3] == ["wuchuang", "serve", "--webhook"]
    assert services["migrate"]["command"] == ["wuchuang", "migrate"]
    # uvicorn --factory calls it with no arguments: the settings then come from the environment.
    required = [p for p in inspect.signature(create_app).parameters.values() if p.default is inspect.Parameter.empty]
    assert required == []
    for name in ("api", "bot"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert (
        services["caddy"]["networks"]["internal"]["ipv4_address"]
        in (services["api"]["environment"]["WUCHUANG_FORWARDED_ALLOW_IPS"])
    )


def test_deploy_files_name_only_settings_the_app_knows():
    named: dict[str, set[str]] = {}
    for path in [*DEPLOY.rglob("*"), ROOT / "deploy" / "Dockerfile"]:
        if path.is_file() and path.suffix not in (".json",):
            for name in NAME.findall(path.read_text()):
                named.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    unknown = {name: sorted(where) for name, where in named.items() if name not in SETTINGS}
    assert unknown == {}, f"not a setting in events/settings.py: {unknown}"
    assert {"WUCHUANG_DATABASE_URL", "WUCHUANG_REDIS_URL", "WUCHUANG_METRICS_TOKEN"} <= set(named)


def test_the_env_examples_load_as_settings(tmp_path, monkeypatch):
    for example in (DEPLOY / "env.example", DEPLOY / "systemd" / "wuchuang.env.example"):
        for line in example.read_text().splitlines():
            if line.startswith("WUCHUANG_"):
                name, _, value = line.partition("=")
                monkeypatch.setenv(name, value)
        monkeypatch.setenv("WUCHUANG_DATA_DIR", str(tmp_path))
        Settings()  # raises on a value the app would refuse at start


def test_the_uvicorn_log_config_is_the_app_s_json_config():
    assert json.loads((DEPLOY / "uvicorn-log.json").read_text()) == log_config("json", "info")


def test_the_dockerfile_copies_what_exists_and_checks_health():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    for source in re.findall(r"^COPY (.+) \S+$", dockerfile, re.M):
        for part in source.split():
            assert (ROOT / part).exists(), part
    assert "USER wuchuang" in dockerfile and "/health" in dockerfile


def test_the_proxy_keeps_metrics_private_and_routes_the_webhook_to_the_bot():
    caddy = (DEPLOY / "Caddyfile").read_text()
    assert re.search(r"@metrics path /metrics\s+respond @metrics 404", caddy)
    assert re.search(r"handle /telegram/webhook \{\s+reverse_proxy bot:8000", caddy)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_the_systemd_units_verify(tmp_path):
    # The units name /opt/wuchuang; verify them against this checkout (verify checks the executables).
    for unit in (DEPLOY / "systemd").glob("wuchuang*.*"):
        if unit.suffix in (".service", ".timer"):
            (tmp_path / unit.name).write_text(unit.read_text().replace("/opt/wuchuang", str(ROOT)))
    assert (ROOT / ".venv" / "bin" / "uvicorn").exists()
    units = sorted(str(p) for p in tmp_path.iterdir())
    done = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr
