"""Refusals of the WhatsApp domain, each with a stable code; ``field`` names the input at fault."""

from __future__ import annotations

from domain.shared.errors import Conflict, InvalidInput, NotFound


class TextTooLong(InvalidInput):
    code = "TEXT_TOO_LONG"


class CaptionTooLong(InvalidInput):
    code = "CAPTION_TOO_LONG"


class TemplateParameterCount(InvalidInput):
    """The template is registered with another number of body parameters (error 132000, caught early)."""

    code = "TEMPLATE_PARAMETER_COUNT"


class WindowClosed(Conflict):
    """Outside the 24-hour customer service window only approved templates may be sent."""

    code = "WINDOW_CLOSED"


class NotConnected(Conflict):
    code = "WHATSAPP_NOT_CONNECTED"


class NeedsReauth(Conflict):
    """The Graph API said the access token is no longer valid (error 190): connect again."""

    code = "WHATSAPP_NEEDS_REAUTH"


class PhoneNumberIdTaken(Conflict):
    code = "PHONE_NUMBER_ID_TAKEN"


class MessageNotFound(NotFound):
    code = "NOT_FOUND"
