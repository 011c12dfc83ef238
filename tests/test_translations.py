"""The Japanese catalogue is complete: every message has a translation, and every string in the
code is in the catalogue."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

PROJECT = Path(__file__).resolve().parent.parent
CATALOGUE = PROJECT / "locale" / "ja" / "LC_MESSAGES" / "django.po"
# Folders whose strings are not shown to users of the product.
NOT_TRANSLATED = ("tests", "fakeaws", "bench", "scripts")


def live_entries(catalogue: polib.POFile) -> dict[tuple[str, str], polib.POEntry]:
    return {(entry.msgctxt or "", entry.msgid): entry for entry in catalogue if not entry.obsolete and entry.msgid}


@pytest.fixture(scope="module")
def extracted_catalogue(tmp_path_factory) -> polib.POFile:
    """Run makemessages on a copy of the project and return the catalogue it writes."""
    copy = tmp_path_factory.mktemp("project")
    ignore = shutil.ignore_patterns(
        ".venv", ".git", "var", "*.mo", "__pycache__", ".pytest_cache", "db.sqlite3", ".env"
    )
    shutil.copytree(PROJECT, copy, dirs_exist_ok=True, ignore=ignore)
    (copy / "locale" / "ja" / "LC_MESSAGES" / "django.po").unlink(missing_ok=True)
    ignored = [argument for folder in NOT_TRANSLATED for argument in ("--ignore", f"{folder}/*")]
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "ja", "--no-obsolete", *ignored],
        cwd=copy,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "HOME": str(copy)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return polib.pofile(str(copy / "locale" / "ja" / "LC_MESSAGES" / "django.po"))


def test_every_code_string_is_in_catalogue(extracted_catalogue):
    committed = live_entries(polib.pofile(str(CATALOGUE)))
    missing = sorted(key[1] for key in live_entries(extracted_catalogue) if key not in committed)
    assert missing == [], f"{len(missing)} strings are not in {CATALOGUE}; run makemessages -l ja"


def test_every_message_has_japanese_translation():
    untranslated = []
    for entry in live_entries(polib.pofile(str(CATALOGUE))).values():
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        if entry.fuzzy or not all(text.strip() for text in translations):
            untranslated.append(entry.msgid)
    assert untranslated == [], f"{len(untranslated)} messages lack a Japanese translation"


def readme_outline(path: Path) -> tuple[int, set[str]]:
    """Return the number of sections of a README and its inline code spans (commands, variables)."""
    text = path.read_text(encoding="utf-8")
    sections = sum(1 for line in text.splitlines() if line.startswith("## "))
    return sections, set(re.findall(r"`([^`\n]+)`", text))


def test_japanese_readme_matches_english():
    english_sections, english_code = readme_outline(PROJECT / "README.md")
    japanese_sections, japanese_code = readme_outline(PROJECT / "README.ja.md")
    assert japanese_sections == english_sections, "README.ja.md and README.md have different sections"
    missing = sorted(english_code - japanese_code)
    assert missing == [], f"README.ja.md lacks what README.md names: {missing}"
