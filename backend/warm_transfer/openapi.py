"""Print the OpenAPI description the console's types are generated from.

Built from fixed development settings (simulated voice, so the simulator's routes are in it),
never from a local .env, so every machine writes the same document.
"""

from __future__ import annotations

import json

from warm_transfer.config import AppEnv, Settings, VoiceMode
from warm_transfer.main import create_app


def document() -> dict[str, object]:
    settings = Settings(
        _env_file=None,
        app_env=AppEnv.development,
        voice_mode=VoiceMode.simulated,
        database_url="sqlite+aiosqlite:///:memory:",
    )
    return create_app(settings, run_worker=False).openapi()


def main() -> None:
    print(json.dumps(document(), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
