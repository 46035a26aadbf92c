"""Fault suite: the integration against a misbehaving PBX, scenario by scenario.

Each test drives the simulated PBX through one fault (reboot mid-call, lost tokens,
outages, slow or garbage answers, a changed password, a lockout caused by someone
else, a flapping network, a start while the PBX is down, two PBXs of which one
fails) and checks what the user sees, how many logins the PBX saw, that reports
arrive again afterwards, and that Home Assistant's event loop was never blocked.
"""
