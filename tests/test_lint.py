"""The linters are part of the suite, so a lint error or a broken import contract fails CI like
any other defect."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing_to_complain_about():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_import_contracts_in_pyproject_hold():
    """Layers bot > handlers > flows > models, i18n; inside flows the features stay apart."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    assert lint_imports.exists(), "run: pip install -c constraints.txt -e '.[dev]'"
    result = subprocess.run(
        [str(lint_imports), "--no-logo", "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
    assert "0 broken" in result.stdout
