"""Development tools: run a real Home Assistant against the PBX simulator.

Shared by ``scripts/develop`` and the end-to-end tests (``tests/e2e``), so both set up
Home Assistant the same way and talk to it only through its public HTTP APIs.
"""
