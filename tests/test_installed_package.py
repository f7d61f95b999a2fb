"""`pip install .` (not editable), as the container image does, speaks every language.

The project is installed into a fresh virtual environment and asked for texts from a folder
outside the source tree, so nothing can come from the checkout.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = textwrap.dedent(
    """
    import json
    from pathlib import Path
    import flows.safety, i18n
    from i18n import LANGUAGES, translate
    print(json.dumps({
        "catalogs": str(i18n.CATALOG_DIR),
        "texts": {code: translate(code, "menu.about") for code in LANGUAGES},
        "plural": translate("pl", "safety.flood_notice", {"seconds": 2}),
        "directory": sorted(p.name for p in (Path(flows.safety.__file__).parent / "data"
                                            / "directory").glob("*.yaml")),
    }))
    """
)


@pytest.mark.skipif(os.environ.get("PEERLINE_SKIP_INSTALL_TEST") == "1", reason="asked to skip")
def test_an_installed_copy_speaks_every_language_outside_the_source_tree(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # The dependencies come from this environment's folder (a plain path: its editable link
    # to the checkout is a .pth file there, which a plain path does not run).
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".*", "build", "dist", "*.egg-info", "__pycache__", "*.db", "*.key", "tests", "bench",
    ))  # fmt: skip
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", str(source)],
        check=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    shutil.rmtree(source)
    result = subprocess.run(
        [python, "-I", "-c", PROBE], check=True, capture_output=True, text=True, cwd=tmp_path,
        timeout=60,
    )  # fmt: skip
    found = json.loads(result.stdout)
    assert not Path(found["catalogs"]).is_relative_to(ROOT), found["catalogs"]
    texts = found["texts"]
    assert all(text != "menu.about" for text in texts.values()), texts
    assert len(set(texts.values())) == len(texts), texts  # each in her own language
    assert "2 sekundy" in found["plural"]
    assert found["directory"] == ["pl.yaml"]
