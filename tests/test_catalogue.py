"""The Chinese catalogue is complete: every message the code marks has a translation, and the compiled
catalogue the app loads says what the .po says (a forgotten ``make i18n`` shows English to users)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "events/locales/zh_CN/LC_MESSAGES/wuchuang.po"
MO = PO.with_suffix(".mo")


def _translated(message: object) -> bool:
    string = getattr(message, "string", "")
    return bool(string) if isinstance(string, str) else all(string)


def test_every_marked_message_has_a_chinese_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "N_", "-o", str(pot), "--no-location",
         "--omit-header", "--ignore-dirs=.venv tests benchmarks migrations data build", "."],
        cwd=ROOT, check=True,
    )  # fmt: skip
    with pot.open("rb") as f:
        wanted = [m for m in read_po(f) if m.id]
    with PO.open("rb") as f:
        catalogue = read_po(f, locale="zh_CN")
    missing = [m.id for m in wanted if catalogue.get(m.id, context=m.context) is None]
    untranslated = [
        m.id for m in wanted if (found := catalogue.get(m.id, context=m.context)) and not _translated(found)
    ]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert not missing, f"run `make i18n` and translate: {missing[:5]}"
    assert not untranslated, f"no Chinese for: {untranslated[:5]}"
    assert not fuzzy, f"fuzzy (a guess babel made, unchecked): {fuzzy[:5]}"


def test_the_compiled_catalogue_is_the_po():
    with PO.open("rb") as f:
        source = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in read_po(f) if m.id and _translated(m)}
    with MO.open("rb") as f:
        compiled = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in read_mo(f) if m.id}
    assert compiled == source, "run `make i18n` (compile) after editing the .po"
