"""Prepare a Home Assistant configuration folder that loads this working tree's integration."""

import json
import os
from pathlib import Path
import socket

REPO = Path(__file__).resolve().parent.parent
INTEGRATION = REPO / "custom_components" / "yeastar_s_series"
CONFIGURATION_YAML = REPO / "config" / "configuration.yaml"


def prepare_config_dir(config_dir: Path, *, host: str, port: int) -> None:
    """Link the integration into ``config_dir`` and make Home Assistant listen on host:port.

    Since 2026.10 Home Assistant reads its HTTP settings from ``.storage/http``, not
    from YAML (an ``http:`` section is migrated once, as a trial that reverts itself
    after five minutes, and ignored afterwards). Writing the stored settings before
    each start is the only way to choose the address and port every time.
    """
    links = config_dir / "custom_components"
    links.mkdir(parents=True, exist_ok=True)
    link = links / INTEGRATION.name
    link.unlink(missing_ok=True)
    # Relative when it can be, so that the repository may move.
    link.symlink_to(os.path.relpath(INTEGRATION, links), target_is_directory=True)

    storage = config_dir / ".storage"
    storage.mkdir(exist_ok=True)
    stable = {
        "server_host": [host],
        "server_port": port,
        "cors_allowed_origins": ["https://cast.home-assistant.io"],
        "login_attempts_threshold": -1,
        "ip_ban_enabled": True,
        "ssl_profile": "modern",
        "use_x_frame_options": True,
        "created_at": "2026-01-01T00:00:00+00:00",
        "error": None,
        "error_message": None,
    }
    prepare_editor_files(config_dir)
    (storage / "http").write_text(
        json.dumps(
            {
                "version": 2,
                "minor_version": 2,
                "key": "http",
                "data": {
                    "stable": stable,
                    "pending": None,
                    "yaml_migration_done": True,
                },
            },
            indent=2,
        )
    )


# What the automation, script and scene editors save to (configuration.yaml includes them).
EDITOR_FILES = {"automations.yaml": "[]\n", "scripts.yaml": "", "scenes.yaml": "[]\n"}
# Onboarding's location step would add weather, radio and text-to-speech integrations
# that need packages this project does not install (they fail at every start).
# Marked done before the first start: location and units are set in Settings later.
ONBOARDING = {
    "version": 4,
    "minor_version": 1,
    "key": "onboarding",
    "data": {"done": ["core_config"]},
}


def prepare_editor_files(config_dir: Path) -> None:
    """Create the files the UI editors write to, and the onboarding state, if missing."""
    for name, empty in EDITOR_FILES.items():
        if not (config_dir / name).exists():
            (config_dir / name).write_text(empty)
    onboarding = config_dir / ".storage" / "onboarding"
    if not onboarding.exists():
        onboarding.write_text(json.dumps(ONBOARDING, indent=2))


def check_port_free(host: str, port: int) -> None:
    """Raise OSError with a readable message when something already listens on host:port."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as err:
        reason = os.strerror(err.errno) if err.errno else str(err)
        raise OSError(f"cannot listen on {host}:{port}: {reason}") from err
