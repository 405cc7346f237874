"""Settings validation, the catalogue's completeness, and the one-way import graph."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from events.i18n import LOCALES_DIR, gettext, negotiate
from events.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"database_url": "mysql://x@y/z"}, "WUCHUANG_DATABASE_URL"),
        ({"database_url": "not a url"}, "WUCHUANG_DATABASE_URL"),
        ({"database_url": "postgresql:///nohost"}, "WUCHUANG_DATABASE_URL"),
        ({"port": 70000}, "WUCHUANG_PORT"),
        ({"timezone": "Mars/Olympus"}, "WUCHUANG_TIMEZONE"),
        ({"public_rate_limit": "lots"}, "WUCHUANG_PUBLIC_RATE_LIMIT"),
        ({"public_url": "ftp://x"}, "WUCHUANG_PUBLIC_URL"),
        ({"bot_token": "nonsense"}, "WUCHUANG_BOT_TOKEN"),
    ],
)
def test_bad_settings_name_the_variable(overrides, variable):
    with pytest.raises(SettingsError) as info:
        load_settings(**overrides)
    assert variable in str(info.value)


def test_bad_setting_from_the_environment(monkeypatch):
    monkeypatch.setenv("WUCHUANG_DATABASE_URL", "oracle://db")
    with pytest.raises(SettingsError, match="WUCHUANG_DATABASE_URL"):
        load_settings()


@pytest.mark.parametrize(
    "levels",
    [
        '[{"level": "junior", "hours": -1}]',
        '[{"level": "expert", "hours": 10}]',
        '[{"level": "junior", "hours": 40}, {"level": "junior", "hours": 50}]',
        '[{"level": "junior", "hours": 40}, {"level": "intermediate", "hours": 20}]',
        "not json",
    ],
)
def test_bad_training_levels_name_the_variable(monkeypatch, levels):
    monkeypatch.setenv("WUCHUANG_TRAINING_LEVELS", levels)
    with pytest.raises(SettingsError, match="WUCHUANG_TRAINING_LEVELS"):
        load_settings()


def test_training_levels_from_the_environment_in_level_order(monkeypatch):
    monkeypatch.setenv(
        "WUCHUANG_TRAINING_LEVELS",
        '[{"level": "intermediate", "hours": 90, "courses": ["ZJ-1"]}, {"level": "junior", "hours": 30.5}]',
    )
    rules = load_settings().training_levels
    assert [(r.level, r.hours, r.courses, r.valid_years) for r in rules] == [
        ("junior", 30.5, [], 3),
        ("intermediate", 90, ["ZJ-1"], 3),
    ]


def test_database_urls_are_derived_for_both_libraries(tmp_path):
    default = load_settings(data_dir=tmp_path)
    assert default.tortoise_url.startswith(f"sqlite://{tmp_path}") and default.dialect == "sqlite"
    assert default.sqlalchemy_url == f"sqlite:///{tmp_path}/wuchuang.sqlite3"
    pg = load_settings(database_url="postgresql://u:p@db.internal:5432/wc")
    assert pg.dialect == "postgres"
    assert pg.tortoise_url.startswith("postgres://u:p@db.internal:5432/wc?")
    assert pg.sqlalchemy_url == "postgresql+psycopg://u:p@db.internal:5432/wc"


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "zh"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-Hans", "zh"),
        ("zh-hant-TW", "zh"),
        ("fr-FR, en;q=0.5", "en"),
        ("fr", "zh"),
        ("en;q=0.1, zh-CN;q=0.8", "zh"),
        ("en;q=garbage", "zh"),
    ],
)
def test_locale_negotiation(header, locale):
    assert negotiate(header) == locale


def test_every_message_in_the_code_has_a_chinese_translation_and_the_mo_is_fresh():
    found = set()
    method_map = [("**.py", "python"), ("**/templates/**.j2", "jinja2")]
    options = {"**/templates/**.j2": {"extensions": "jinja2.ext.i18n"}}
    for package in ("events", "api", "bot", "notifications", "wuchuang"):
        for _, _, message, _, _ in extract_from_dir(
            ROOT / package, method_map, options, keywords={"N_": None, "gettext": None}
        ):
            found.add(message)
    with open(LOCALES_DIR / "zh_CN/LC_MESSAGES/wuchuang.po", "rb") as po_file:
        po = {m.id: m.string for m in read_po(po_file) if m.id}
    with open(LOCALES_DIR / "zh_CN/LC_MESSAGES/wuchuang.mo", "rb") as mo_file:
        mo = {m.id: m.string for m in read_mo(mo_file) if m.id}
    missing = sorted(m for m in found if not po.get(m))
    assert not missing, f"untranslated (run `make i18n` and translate): {missing}"
    assert mo == po, "wuchuang.mo is stale: run `make i18n`"
    assert gettext("zh", "This event is full.") == "该活动名额已满。"


FORBIDDEN = {
    "events": {"api", "bot", "notifications", "reports", "wuchuang", "fastapi", "starlette", "aiogram"},
    "notifications": {"api", "bot", "wuchuang"},
    # Documents made from the domain's results: used by api, notifications and the CLI, using none of them.
    "reports": {"api", "bot", "notifications", "wuchuang", "fastapi", "starlette", "aiogram"},
    "api": {"bot", "wuchuang"},
    "bot": {"api", "wuchuang"},
}


def test_imports_point_one_way():
    offences = []
    for package, banned in FORBIDDEN.items():
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else ([node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
                )
                offences += [f"{path.relative_to(ROOT)} imports {n}" for n in names if n.split(".")[0] in banned]
    assert not offences


def test_public_url_follows_host_and_port_unless_set():
    assert load_settings(port=8731).base_url == "http://127.0.0.1:8731"
    assert load_settings(host="0.0.0.0", port=9000).base_url == "http://127.0.0.1:9000"
    assert load_settings(public_url="https://wuchuang.example.cn/").base_url == "https://wuchuang.example.cn"


def test_the_server_does_not_load_heavy_optional_libraries_until_used():
    """aiogram (~160 MB) only with a bot token, openpyxl (~16 MB) only for a spreadsheet: RSS target 150 MB."""
    import subprocess
    import sys

    code = (
        "import sys, api.app, wuchuang.runtime; print(sorted(m for m in ('aiogram', 'openpyxl') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
