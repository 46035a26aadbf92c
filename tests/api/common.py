"""Credentials, report target and client factory the client tests share."""

from typing import Any

import aiohttp

from custom_components.yeastar_s_series.api import (
    ApiVersion,
    ReportTarget,
    YeastarClient,
    hash_password,
)

PASSWORD = "secret"
PASSWORD_HASH = hash_password(PASSWORD)
# Where the PBX is told to post reports; nothing listens there in these tests.
TARGET = ReportTarget("127.0.0.1", 8260, "yeastar/report")


def make_client(
    session: aiohttp.ClientSession,
    port: int,
    version: ApiVersion = ApiVersion.V2_0_0,
    *,
    password_hash: str = PASSWORD_HASH,
    **options: Any,
) -> YeastarClient:
    """Return a plain-HTTP client for a loopback server, user `api`."""
    return YeastarClient(
        session,
        "127.0.0.1",
        username="api",
        password_hash=password_hash,
        port=port,
        https=False,
        api_version=version,
        **options,
    )
