"""The image and the compose layout, on a real Docker engine (`make docker-test`).

Skipped, saying so, where no engine answers. Builds the image, runs it, checks /healthz and a
console message answered in Polish, then the compose layout's health endpoints and how fast
the worker stops.
"""

import json
import shutil
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "peerline:test"


def engine_runs() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


pytestmark = pytest.mark.skipif(
    not engine_runs(), reason="no Docker engine answers here: the image and compose are not tested"
)


def docker(*args: str, check: bool = True, timeout: float = 600) -> str:
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {result.stderr[-2000:]}")
    return result.stdout


def wait_http(url: str, within: float = 60) -> int:
    deadline = time.monotonic() + within
    while True:
        try:
            return urllib.request.urlopen(url, timeout=3).status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture(scope="module")
def image() -> str:
    docker("build", "-t", IMAGE, ".", timeout=1800)
    return IMAGE


def test_the_image_is_lean_and_answers_in_polish(image):
    listing = docker("run", "--rm", "--entrypoint", "sh", image, "-c",
                     "command -v pip; ls /app /src 2>/dev/null; python -c "
                     "'import i18n,pathlib;print(len(list(pathlib.Path(i18n.__file__).parent"
                     ".glob(\"*/LC_MESSAGES/messages.mo\"))))'", check=False)  # fmt: skip
    assert listing.strip().splitlines()[-1] == "6" and "pip" not in listing
    name = f"peerline-test-{uuid.uuid4().hex[:8]}"
    # The console is loopback-only, so it is spoken to from inside the container.
    docker("run", "-d", "--name", name, "-e", "ENV=development", "-e", "HOST=127.0.0.1",
           image, "peerline", "run", "--console", "--no-chat")  # fmt: skip
    try:
        ask = (
            "import httpx,time;c=httpx.Client(base_url='http://127.0.0.1:8080');"
            "[time.sleep(0.5) for _ in range(60) if c.get('/livez').status_code!=200];"
            "c.post('/console/messages',json={'as':'t','text':'/start'});"
            "c.get('/console/poll',params={'as':'t','wait':5});"
            "c.post('/console/messages',json={'as':'t','text':'2'});"
            "print(c.get('/console/poll',params={'as':'t','wait':10}).json())"
        )
        answer = docker("exec", name, "python", "-c", ask)
        assert any(letter in answer for letter in "ąęłńśżź"), answer
        probe = (
            "import urllib.request as u;print(u.urlopen('http://127.0.0.1:8080/healthz').read())"
        )
        health = docker("exec", name, "python", "-c", probe)
        assert json.loads(health)["ok"] is True
    finally:
        docker("rm", "-f", name, check=False)


def test_the_compose_layout_is_healthy_and_the_worker_stops_at_once(image):
    project = f"peerline{uuid.uuid4().hex[:6]}"
    compose = ["compose", "-p", project]
    docker(*compose, "up", "-d", "--build", timeout=1800)
    try:
        assert wait_http("http://127.0.0.1:8080/healthz", 120) == 200
        assert wait_http("http://127.0.0.1:8081/readyz", 120) == 200
        started = time.monotonic()
        docker(*compose, "stop", "worker")
        assert time.monotonic() - started < 1.5  # docker's own round trips included
    finally:
        docker(*compose, "down", "-v", check=False)
