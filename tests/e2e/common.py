"""Matchers both end-to-end suites use to find the integration's entities by id."""

# The PBX is "Yeastar S100" in the simulator: its entity ids start with the name.
PBX_ENTITY_PREFIX = "yeastar_s100_"


def calls_entity(entity_id: str) -> bool:
    """Match the PBX-wide call event entity (each extension has a *Calls* entity too)."""
    return entity_id == f"event.{PBX_ENTITY_PREFIX}calls"
