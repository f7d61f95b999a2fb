"""`make i18n` on a complete tree changes nothing, and can never drop a text or a translation.

Each test runs the real workflow (extract + update + check) in a temporary copy of the code and
catalogs, then compares every entry and translation with the original.
"""

import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from i18n import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("bot", "flows", "handlers", "i18n", "models")


def copy_tree(tmp_path: Path) -> Path:
    for name in COPIED:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def run_workflow(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "i18n.workflow", *args], cwd=root, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip


def entries(path: Path) -> dict:
    with open(path, "rb") as handle:
        return {str(m.id): (m.string, m.fuzzy) for m in read_po(handle) if m.id}


def po(root: Path, language: str) -> Path:
    return root / "i18n" / language / "LC_MESSAGES" / "messages.po"


def test_make_i18n_on_the_tree_is_a_no_op_and_finds_every_id(tmp_path):
    root = copy_tree(tmp_path)
    result = run_workflow(root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not named in the code" not in result.stdout, result.stdout
    for language in LANGUAGES:
        assert po(root, language).read_bytes() == po(ROOT, language).read_bytes(), language
    assert entries(root / "i18n" / "messages.pot") == entries(ROOT / "i18n" / "messages.pot"), (
        "i18n/messages.pot is not the one the code gives: run `make i18n` and commit it"
    )


def test_a_text_the_code_no_longer_names_is_kept_and_reported_not_dropped(tmp_path):
    root = copy_tree(tmp_path)
    lines = root / "flows" / "safety" / "help_lines.py"
    assert '"referral.hours_free"' in lines.read_text()
    lines.write_text(lines.read_text().replace('"referral.hours_free"', '"referral" + ".free"'))
    result = run_workflow(root)
    assert "not named in the code: referral.hours_free" in result.stdout
    for language in LANGUAGES:
        assert entries(po(root, language)) == entries(po(ROOT, language)), language


def test_a_seventh_language_is_one_command_and_a_catalog(tmp_path):
    root = copy_tree(tmp_path)
    result = run_workflow(root, "add", "de")
    assert result.returncode == 0, result.stderr
    german = entries(po(root, "de"))
    assert set(german) == set(entries(po(ROOT, "en"))) | {"language.de"}
    assert all(entries(po(root, code))["language.de"][0] == "Deutsch" for code in LANGUAGES)
    check = run_workflow(root, "check")
    assert check.returncode == 1 and "de: menu.about is not translated" in check.stdout
    languages = subprocess.run(
        [sys.executable, "-c", "import i18n; print(i18n.LANGUAGES)"], cwd=root,
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "'de'" in languages
