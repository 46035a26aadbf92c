"""Who may make the PBX spend money: calls and messages to outside numbers."""

from homeassistant.auth.permissions.const import POLICY_CONTROL
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import Unauthorized, UnknownUser


async def async_require_admin(hass: HomeAssistant, context: Context | None) -> None:
    """Refuse a user who is no administrator; automations and scripts (no user) pass."""
    if context is None or not (user_id := context.user_id):
        return
    user = await hass.auth.async_get_user(user_id)
    if user is None:
        raise UnknownUser(context=context)
    if not user.is_admin:
        raise Unauthorized(context=context, permission=POLICY_CONTROL)
