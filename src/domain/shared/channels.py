"""How a client prefers to receive documents: shared by the emails and WhatsApp domains."""

from __future__ import annotations

from enum import StrEnum

from domain.shared.errors import InvalidInput


class DeliveryChannel(StrEnum):
    EMAIL = "EMAIL"
    WHATSAPP = "WHATSAPP"
    BOTH = "BOTH"

    @classmethod
    def parse(cls, value: object, *, field: str = "channel") -> DeliveryChannel:
        try:
            return cls(str(value).strip().upper())
        except ValueError:
            raise InvalidInput(
                f"{field} must be one of {', '.join(cls)}, not {str(value)[:32]!r}", field=field
            ) from None

    @property
    def email(self) -> bool:
        return self in (DeliveryChannel.EMAIL, DeliveryChannel.BOTH)

    @property
    def whatsapp(self) -> bool:
        return self in (DeliveryChannel.WHATSAPP, DeliveryChannel.BOTH)
