"""The funders' report and CSV from the real `peerline` command, opened in headless Chromium.

Chromium (Debian's `chromium`) is installed here when it is missing and this runs as root; only
where it cannot be installed is the browser check skipped, saying so.
"""

import asyncio
import json
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import TEST_SECRET, running_service
from tests.test_statistics import SECRETS, seed

PEERLINE = Path(sys.executable).with_name("peerline")
PROBE = """<pre id="probe"></pre><script>
const charts = [...document.querySelectorAll("svg.chart")].map(svg => {
  const box = svg.getBoundingClientRect();
  const bars = [...svg.querySelectorAll("rect.bar:not(.hidden)")].map(r => r.getBBox());
  return {width: box.width, height: box.height, bars: bars.filter(b => b.width > 0 &&
          b.height > 0).length, texts: svg.querySelectorAll("text").length};
});
document.getElementById("probe").textContent = JSON.stringify(charts);
</script>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], env=env,
                       capture_output=True, timeout=900, check=False)  # fmt: skip
        found = shutil.which("chromium")
        if found:
            return found
    pytest.skip("Chromium is not installed and cannot be installed here (apt-get install "
                "chromium needs root); the HTML was still checked without a browser")  # fmt: skip


def headless(browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", "--hide-scrollbars", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def peerline(database_url: str, cwd: Path, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET, "ENV": "test"}
    process = await asyncio.create_subprocess_exec(
        str(PEERLINE), *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    return out.decode()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s.casefold() in text.casefold()]


async def test_report_and_csv_hold_only_protected_aggregates(database_url, tmp_path):
    async with running_service(database_url) as service:
        await seed(service)
    period = ("--from", "2026-11-02", "--to", "2026-11-15")
    printed = await peerline(database_url, tmp_path, "stats", *period)
    assert "19" in printed and "<5" in printed and not leaks(printed)
    await peerline(database_url, tmp_path, "report", *period, "--out", "r.html", "--csv", "csv",
                   "--language", "pl")  # fmt: skip
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert not leaks(html)
    assert 'lang="pl"' in html and "Prośby według tematu" in html
    # Self-contained: nothing to fetch, no script, no link out.
    assert not re.search(r"<script|<link|<img|src=|href=|@import|url\(", html)
    assert not re.sub(r'xmlns="http://www.w3.org/2000/svg"', "", html).count("http")
    files = sorted(p.name for p in (tmp_path / "csv").iterdir())
    assert "summary.csv" in files and "requests_by_topic.csv" in files
    for path in (tmp_path / "csv").iterdir():
        text = path.read_text(encoding="utf-8")
        assert text.startswith("key,label,value\n") and not leaks(text), path.name
    topic_rows = (tmp_path / "csv" / "requests_by_topic.csv").read_text(encoding="utf-8")
    assert "housing,Mieszkanie,10" in topic_rows and "violence,Strach lub przemoc w domu,<5" in (
        topic_rows
    )


@pytest.mark.parametrize("language", ["en", "fa"])
async def test_the_report_renders_in_headless_chromium(language, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/report.db"
    async with running_service(url) as service:
        await seed(service)
    await peerline(url, tmp_path, "report", "--from", "2026-11-02", "--to", "2026-11-15",
                   "--out", "report.html", "--language", language)  # fmt: skip
    report = tmp_path / "report.html"
    browser = chromium()
    shot = tmp_path / "report.png"
    result = await asyncio.to_thread(
        headless, browser, f"--screenshot={shot}", "--window-size=1000,2400", report.as_uri()
    )
    assert shot.exists(), result.stderr[-2000:]
    width, height = png_size(shot)
    assert (width, height) == (1000, 2400) and shot.stat().st_size > 20_000
    probed = tmp_path / "probe.html"
    probed.write_text(report.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                      encoding="utf-8")  # fmt: skip
    result = await asyncio.to_thread(headless, browser, "--dump-dom", probed.as_uri())
    found = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.S)
    assert found, result.stderr[-2000:]
    charts = json.loads(found.group(1))
    assert len(charts) == 14  # thirteen figures and the seeded campaign's delivery
    assert all(c["width"] > 300 and c["height"] > 40 and c["texts"] for c in charts)
    # Charts with published figures draw real bars: weeks, topics, outcome, waits and more.
    assert sum(1 for c in charts if c["bars"]) >= 6
