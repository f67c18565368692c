"""`warm-transfer`: migrate (with dev seeding), and agents add / list / remove."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from warm_transfer.cli import app
from warm_transfer.config import get_settings


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "APP_ENV", "VOICE_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_migrate_seeds_the_dev_agents_once(runner: CliRunner) -> None:
    first = runner.invoke(app, ["migrate"])
    assert first.exit_code == 0, first.output
    assert "seeded dev agent agent1" in first.output
    again = runner.invoke(app, ["migrate"])
    assert again.exit_code == 0 and "seeded" not in again.output
    listed = runner.invoke(app, ["agents", "list"])
    assert [line.split("\t")[0] for line in listed.output.splitlines()] == ["agent1", "agent2"]


def test_agents_add_list_remove(runner: CliRunner) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    added = runner.invoke(
        app, ["agents", "add", "agent3", "--name", "Grace", "--password", "s3cret-pass"]
    )
    assert added.exit_code == 0, added.output
    assert "agent3\tGrace\taway" in runner.invoke(app, ["agents", "list"]).output

    duplicate = runner.invoke(
        app, ["agents", "add", "agent3", "--name", "Grace", "--password", "s3cret-pass"]
    )
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output

    assert runner.invoke(app, ["agents", "remove", "agent3"]).exit_code == 0
    assert "agent3" not in runner.invoke(app, ["agents", "list"]).output
    missing = runner.invoke(app, ["agents", "remove", "agent3"])
    assert missing.exit_code == 1 and "not found" in missing.output


@pytest.mark.parametrize(("agent_id", "password"), [("bad id", "long-enough"), ("agent9", "short")])
def test_agents_add_refuses_bad_input(runner: CliRunner, agent_id: str, password: str) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    result = runner.invoke(app, ["agents", "add", agent_id, "--name", "X", "--password", password])
    assert result.exit_code == 2
    assert agent_id not in runner.invoke(app, ["agents", "list"]).output


@pytest.mark.parametrize("reload", [False, True])
def test_serve_freezes_the_long_lived_heap_before_serving(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, reload: bool
) -> None:
    """Frozen, the modules' objects stay out of full collections (a 60 ms stall under load);
    with --reload the serving process is another one, so nothing is frozen here."""
    import gc

    import uvicorn

    served: list[int] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_a, **_k: served.append(gc.get_freeze_count()))
    gc.unfreeze()
    try:
        result = runner.invoke(app, ["serve", *(["--reload"] if reload else [])])
        assert result.exit_code == 0, result.output
        assert len(served) == 1
        assert (served[0] > 10_000) is not reload  # the app's modules and what they import
    finally:
        gc.unfreeze()
