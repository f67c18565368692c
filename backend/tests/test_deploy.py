"""The deployment files: docker-compose.yml as the real Compose program reads it, and the basics
of the Dockerfiles and the proxy configuration (no Docker engine needed)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import compose
import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = Path(compose.__file__).parent / "docker-compose"
DOCKERFILES = [ROOT / "backend" / "Dockerfile", ROOT / "frontend" / "Dockerfile"]


def compose_config(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(COMPOSE),
            "--project-directory",
            str(ROOT),
            "-f",
            str(ROOT / "docker-compose.yml"),
            "config",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "POSTGRES_PASSWORD": "s3cret"},
        check=False,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = compose_config(tmp_path_factory.mktemp("compose"), "--format", "json")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_compose_validates(tmp_path: Path) -> None:
    result = compose_config(tmp_path, "--quiet")
    assert result.returncode == 0, result.stderr


def test_compose_rejects_a_broken_file(tmp_path: Path) -> None:
    """The check can fail: the same program refuses an invalid file."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  backend:\n    depends_on: {db: {condition: sometimes}}\n")
    result = subprocess.run(
        [str(COMPOSE), "-f", str(broken), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode != 0


def test_the_stack_wires_database_backend_and_proxy(stack: dict[str, Any]) -> None:
    services = stack["services"]
    assert set(services) == {"db", "backend", "frontend"}
    db, backend, frontend = services["db"], services["backend"], services["frontend"]
    assert db["healthcheck"]["test"][0] == "CMD-SHELL"
    assert any(volume["target"] == "/var/lib/postgresql/data" for volume in db["volumes"])
    assert backend["depends_on"]["db"]["condition"] == "service_healthy"
    url = backend["environment"]["DATABASE_URL"]
    assert url == "postgresql+asyncpg://warm_transfer:s3cret@db:5432/warm_transfer"
    assert backend["environment"]["APP_ENV"] == "production"
    assert "ports" not in backend  # reached only through the proxy
    assert frontend["depends_on"]["backend"]["condition"] == "service_healthy"
    assert frontend["ports"][0]["target"] == 80


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfile_basics(dockerfile: Path) -> None:
    lines = [line.strip() for line in dockerfile.read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    images = [line.split()[1] for line in instructions if line.startswith("FROM ")]
    assert images, "no FROM"
    for image in images:
        _, _, tag = image.partition(":")
        assert tag and tag != "latest", f"{image}: pin a version tag"
    assert any(line.startswith("HEALTHCHECK") for line in instructions)
    assert not any(re.match(r"ADD\s+https?://", line) for line in instructions)
    cmd = next(line for line in instructions if line.startswith("CMD"))
    assert cmd.startswith("CMD ["), "exec form, so signals reach the process"
    ignore = (dockerfile.parent / ".dockerignore").read_text().split()
    assert {"node_modules"} <= set(ignore) or {".venv"} <= set(ignore)


def test_the_backend_image_runs_as_a_user() -> None:
    instructions = (ROOT / "backend" / "Dockerfile").read_text().splitlines()
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")


def test_the_proxy_streams_events_unbuffered() -> None:
    config = (ROOT / "frontend" / "nginx.conf").read_text()
    events = re.search(r"location = /api/events \{(.*?)\}", config, re.S)
    assert events is not None
    assert "proxy_buffering off" in events.group(1)
    for path in ("/api/", "/conference/"):
        assert f"location {path} {{ proxy_pass http://backend; }}" in config
