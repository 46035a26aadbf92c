"""Fixtures for the API client tests: an aiohttp session, a canned server, the simulator."""

from collections.abc import AsyncIterator

import aiohttp
import pytest

from simulator import SimulatedPBX

from .canned import CannedPBX
from .common import PASSWORD


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


@pytest.fixture
async def pbx() -> AsyncIterator[SimulatedPBX]:
    """Run a plain-HTTP simulator serving every API version."""
    async with SimulatedPBX(username="api", password=PASSWORD) as simulator:
        yield simulator
