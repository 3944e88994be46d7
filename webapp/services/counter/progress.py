"""Where a customer stands, in the words the counter shows on the panel and the receipt:
the way to the next tier (or keeping the current one), and the stamp cards.

A stamp card counted per vehicle or device (``StampCard.per_asset``) has one line for
each of the customer's vehicles or devices, each with its own "N из M"
(:func:`webapp.domain.tiers.stamp_status` with that asset), instead of one line for
the customer. The other lines are the quote's own, so the panel, the close and the
customer's card say the same. Helpers of the counter's read services: they run in the
caller's scope.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from webapp.catalogue import words_for
from webapp.domain.quote import Quote
from webapp.domain.quote_text import render
from webapp.domain.tiers import stamp_status
from webapp.services.program import versions as programs
from webapp.services.program.standing import customer_state

TIER_LINES = ("next_tier", "keep_tier")


def lines(session: Session, version: programs.Version, program: Quote, *, business_id: int,
          customer_id: int, assets: Sequence[tuple[int, str]], lang: str, currency: str,
          asset_id: int | None = None) -> list[str]:
    """The tier and stamp lines of ``program`` (an empty order's quote) in ``lang``.

    ``assets`` are the customer's vehicles or devices (id, label); with ``asset_id``
    (the receipt of an order for one car) a per-vehicle card shows that one only.
    """
    words = words_for(lang)
    _ = words.gettext
    per_asset = {card.title: card for card in version.settings.stamp_cards if card.per_asset}
    orders = (customer_state(session, business_id, customer_id, 0).orders
              if per_asset else ())
    shown: list[str] = []
    for line in program.lines:
        if line.code in TIER_LINES:
            shown.append(render(line, words, currency))
        elif line.code == "stamps":
            card = per_asset.get(line.params["title"])
            if card is None:
                shown.append(render(line, words, currency))
                continue
            mine = [(aid, label) for aid, label in assets
                    if asset_id is None or aid == asset_id]
            counted = [(label, stamp_status(card, orders, aid)) for aid, label in mine]
            unassigned = stamp_status(card, orders, None)  # orders that named no vehicle
            if unassigned.have and asset_id is None:
                counted.append((_("без автомобиля"), unassigned))
            shown.extend(_("%(title)s, %(asset)s: %(have)s из %(every)s.") % {
                "title": card.title, "asset": label, "have": status.have,
                "every": status.every} for label, status in counted)
            if not counted:
                shown.append(_("%(title)s: штампы считаются по каждому автомобилю или"
                               " устройству — добавьте его клиенту.") % {"title": card.title})
    return shown
