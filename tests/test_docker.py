"""The image and the compose layout, on a real Docker engine (`make docker-test`).

Skipped, saying why, where no engine answers or no base image can be had. The base image is
`PEERLINE_BASE_IMAGE` (default peerline-base:bookworm, made by `.ci/docker-base` from this
machine's Debian mirror when absent). Builds the image, runs it, checks /healthz and a console
message answered in Polish, then brings up the compose layout (web, worker, PostgreSQL built
from Debian's packages on the same base), checks both health endpoints, and stops the worker:
it must end on its own SIGTERM handling, not by the engine's kill ten seconds later.

Everything runs on the host's network (the engine here may have no bridge), on free ports.
"""

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from tests.support import TEST_SECRET

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "peerline:test"
POSTGRES_IMAGE = "peerline-postgres:test"
BASE = os.environ.get("PEERLINE_BASE_IMAGE", "peerline-base:bookworm")
# Classic builds, on the host's network (where the engine has no bridge, a build still fetches).
BUILD_ENV = {**os.environ, "DOCKER_BUILDKIT": "0"}


def engine_runs() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        return False


pytestmark = pytest.mark.skipif(
    not engine_runs(), reason="no Docker engine answers here: the image and compose are not tested"
)


def docker(*args: str, check: bool = True, timeout: float = 600) -> str:
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=BUILD_ENV
    )
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {result.stderr[-2000:]}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
def base() -> str:
    if docker("image", "inspect", BASE, check=False, timeout=60):
        return BASE
    made = subprocess.run(
        [str(ROOT / ".ci" / "docker-base"), BASE], capture_output=True, text=True, timeout=1800
    )
    if made.returncode == 3:  # it cannot be made on this machine, and says why
        pytest.skip(f"no base image {BASE}: {made.stderr.strip().splitlines()[-1]}")
    assert made.returncode == 0, made.stderr[-2000:]
    return BASE


@pytest.fixture(scope="module")
def image(base: str) -> str:
    docker("build", "--network=host", "--build-arg", f"BASE={base}", "-t", IMAGE, ".",
           timeout=1800)  # fmt: skip
    return IMAGE


def test_the_image_is_lean_and_answers_in_polish(image):
    listing = docker("run", "--rm", "--network=none", "--entrypoint", "sh", image, "-c",
                     "command -v pip pip3 apt-get >/dev/null && echo pip-or-apt-left;"
                     " ls /app /src 2>/dev/null; python -c 'import ensurepip' 2>/dev/null"
                     " && echo ensurepip-left; python -c 'import i18n,pathlib;print(len(list("
                     "pathlib.Path(i18n.__file__).parent.glob(\"*/LC_MESSAGES/messages.mo\"))))'",
                     check=False)  # fmt: skip
    assert listing.strip().splitlines()[-1] == "6", listing
    assert "pip" not in listing and "ensurepip" not in listing, listing
    size = int(docker("image", "inspect", "--format", "{{.Size}}", image))
    print(f"image size {size / 1e6:.0f} MB")
    name = f"peerline-test-{uuid.uuid4().hex[:8]}"
    # The console is loopback-only, so it is spoken to from inside the container.
    docker("run", "-d", "--network=none", "--name", name, "-e", "ENV=development",
           "-e", "HOST=127.0.0.1", image, "peerline", "run", "--console", "--no-chat")  # fmt: skip
    try:
        ask = "\n".join([
            "import httpx, time",
            "c = httpx.Client(base_url='http://127.0.0.1:8080', timeout=30)",
            "for _ in range(240):",
            "    try:",
            "        if c.get('/livez').status_code == 200: break",
            "    except httpx.TransportError: pass",
            "    time.sleep(0.5)",
            "c.post('/console/messages', json={'as': 't', 'text': '/start'})",
            "c.get('/console/poll', params={'as': 't', 'wait': 5})",
            "c.post('/console/messages', json={'as': 't', 'text': '2'})",
            "print(c.get('/console/poll', params={'as': 't', 'wait': 10}).json())",
        ])  # fmt: skip
        answer = docker("exec", name, "python", "-c", ask)
        assert any(letter in answer for letter in "ąęłńśżź"), answer
        probe = (
            "import urllib.request as u;"
            "print(u.urlopen('http://127.0.0.1:8080/healthz').read().decode())"
        )
        health = docker("exec", name, "python", "-c", probe)
        assert json.loads(health)["ok"] is True
    finally:
        docker("rm", "-f", name, check=False)


def compose_command() -> list[str] | None:
    """Compose v2 (`docker compose`) where it is installed, else v1 (`docker-compose`)."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def layout_here(pg_port: int, web_port: int, worker_port: int) -> dict:
    """docker-compose.yml as it is, with what this machine needs: the images built above, the
    host's network on free ports, and instead of `.env` only a key (nothing reaches outside)."""
    layout = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = layout["services"]
    assert {"db", "migrate", "web", "worker"} <= set(services)
    url = f"postgresql+asyncpg://peerline:peerline@127.0.0.1:{pg_port}/peerline"
    for name, service in services.items():
        service.pop("ports", None)
        service.pop("env_file", None)
        service["network_mode"] = "host"
        if name == "db":
            service["image"] = POSTGRES_IMAGE
            service["environment"] = {**service["environment"], "PGPORT": str(pg_port),
                                      "LISTEN_ADDRESSES": "127.0.0.1"}  # fmt: skip
            service["healthcheck"]["test"] = [
                "CMD", "pg_isready", "-h", "127.0.0.1", "-p", str(pg_port), "-U", "peerline"
            ]  # fmt: skip
            continue
        assert "build" in service, f"{name} is built from this repository's Dockerfile"
        service.pop("build")
        service["image"] = IMAGE
        assert service["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")
        service["environment"] = {
            **service["environment"], "DATABASE_URL": url, "SECRET_KEY": TEST_SECRET,
            "HOST": "127.0.0.1", "PORT": str(web_port), "WORKER_PORT": str(worker_port),
        }  # fmt: skip
    return layout


def test_the_compose_layout_is_healthy_and_the_worker_stops_at_once(image, base, tmp_path):
    compose = compose_command()
    if compose is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    docker("build", "--network=host", "--build-arg", f"BASE={base}", "-t", POSTGRES_IMAGE,
           "-f", "tests/docker/postgres.Dockerfile", "tests/docker", timeout=1800)  # fmt: skip
    pg_port, web_port, worker_port = free_port(), free_port(), free_port()
    layout = tmp_path / "docker-compose.json"  # JSON is YAML: both Compose versions read it
    layout.write_text(json.dumps(layout_here(pg_port, web_port, worker_port)))
    project = f"peerline{uuid.uuid4().hex[:6]}"

    def run(*args: str, timeout: float = 600) -> str:
        result = subprocess.run(
            [*compose, "-p", project, "-f", str(layout), *args],
            capture_output=True, text=True, timeout=timeout, env=BUILD_ENV,
        )  # fmt: skip
        assert result.returncode == 0, f"compose {' '.join(args)}: {result.stderr[-3000:]}"
        return result.stdout

    try:
        try:
            run("up", "-d", timeout=900)
        except AssertionError as error:
            logs = subprocess.run([*compose, "-p", project, "-f", str(layout), "logs"],
                                  capture_output=True, text=True, timeout=120)  # fmt: skip
            raise AssertionError(f"{error}\n{logs.stdout[-3000:]}") from None
        assert wait_http(f"http://127.0.0.1:{web_port}/healthz", 180) == 200
        assert wait_http(f"http://127.0.0.1:{worker_port}/readyz", 180) == 200
        assert wait_http(f"http://127.0.0.1:{worker_port}/livez", 30) == 200
        worker = run("ps", "-q", "worker").strip()
        started = time.monotonic()
        docker("stop", "--time", "10", worker, timeout=60)
        took = time.monotonic() - started
        state = json.loads(docker("inspect", "--format", "{{json .State}}", worker))
        print(f"docker stop of the worker: {took:.2f} s, exit code {state['ExitCode']}")
        # Ended by its own SIGTERM handling (0, or 143 for the signal's default), not killed
        # (137) when the ten seconds ran out.
        assert state["Running"] is False
        assert state["ExitCode"] in (0, 143) and not state["OOMKilled"], state
    finally:
        subprocess.run(
            [*compose, "-p", project, "-f", str(layout), "down", "-v", "-t", "5"],
            capture_output=True, timeout=300,
        )  # fmt: skip
