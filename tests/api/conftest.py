"""Fixtures for the API client tests."""

from collections.abc import AsyncIterator

import aiohttp
import pytest

from .canned import CannedPBX


@pytest.fixture(autouse=True)
def _allow_loopback_sockets(socket_enabled: None) -> None:
    """Let the client reach servers on 127.0.0.1 (the Home Assistant plugin blocks sockets)."""


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """Lend the client an aiohttp session, closed after the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def canned() -> AsyncIterator[CannedPBX]:
    """Run a loopback server answering API calls with fixed JSON."""
    async with CannedPBX() as server:
        yield server
