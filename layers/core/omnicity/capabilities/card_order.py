"""A card order: the city orders a letter for the applicant's active identity card from the card producer (a new
PIN/PUK code), which mails it to the holder's registered address; the case waits for the producer's dispatch. The
steps are the card order family's (``omnicity.application.card_order``); this capability is what a procedure of
that family declares, and what clients read of it.
"""

from __future__ import annotations

from typing import Literal

from omnicity.capabilities.base import Capability, Settings, register


class CardOrderSettings(Settings):
    product: Literal["pin_puk_letter"] = "pin_puk_letter"


@register
class CardOrder(Capability[CardOrderSettings]):
    name = "card_order"
    settings_model = CardOrderSettings
