"""What a program change does to the customers a business already has, before it is saved.

:func:`impact` takes the program in force, the new settings and each customer's paid
order history and balance, and says who changes tier (up or down, and who falls out of
the tiers altogether), which perks customers lose, and which points are at stake: a
switch to a program without points strands the balance, a new point value changes what
it is worth, a shorter expiry applies to new points only (points already earned keep
their dates). Tiers derive from order history (I10), so the same history gives each
customer's tier under either program. Pure: standard library and the domain only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from webapp.domain import wording as w
from webapp.domain.money import format_money
from webapp.domain.program import ProgramSettings, Tier
from webapp.domain.tiers import PaidOrder, tier_index
from webapp.domain.wording import format_points
from webapp.domain.words import Words

NAMED = 5  # customers named on the page among those who lose their tier


@dataclass(frozen=True)
class Customer:
    """A current customer as the change sees them."""

    id: int
    label: str  # the name, or the card number without one
    orders: Sequence[PaidOrder]
    points: int  # available and pending


@dataclass(frozen=True)
class TierLoss:
    customer_id: int
    label: str
    before: str
    after: str | None  # None: no tier at all under the new program


@dataclass(frozen=True)
class Impact:
    customers: int
    up: int  # customers whose tier rises
    down: int  # customers whose tier falls or goes
    losses: tuple[TierLoss, ...]  # the first NAMED of them, highest tier first
    perks_lost: tuple[tuple[str, int], ...]  # (perk, customers who lose it)
    points: int  # points customers hold now
    holders: int  # customers holding them
    stranded: bool  # the new program has no points: the balance can no longer be spent
    value_before: int  # what the points are worth now, minor units
    value_after: int  # ... and under the new program (0 when stranded)
    expiry_before: int | None  # months; None: points never expire
    expiry_after: int | None

    @property
    def changes_anything(self) -> bool:
        return bool(self.up or self.down or self.perks_lost or self.stranded
                    or self.value_before != self.value_after
                    or (self.points and self.expiry_before != self.expiry_after))


def impact(old: ProgramSettings | None, new: ProgramSettings, customers: Sequence[Customer],
           now: datetime) -> Impact:
    """The change from ``old`` (None: no program yet) to ``new`` for these customers."""
    up = down = 0
    losses: list[tuple[int, TierLoss]] = []
    perks_lost: dict[str, int] = {}
    for c in customers:
        before = _tier(old, c.orders, now)
        after = _tier(new, c.orders, now)
        direction = _direction(old, new, before, after)
        if direction > 0:
            up += 1
        elif direction < 0:
            down += 1
            assert old is not None and before is not None
            losses.append((before, TierLoss(c.id, c.label, old.tiers[before].name,
                                            new.tiers[after].name if after is not None
                                            else None)))
        kept = _perks(new.tiers[after] if after is not None else None)
        for perk in _perks(old.tiers[before] if old and before is not None else None):
            if perk not in kept:
                perks_lost[perk] = perks_lost.get(perk, 0) + 1
    holders = [c for c in customers if c.points > 0]
    points = sum(c.points for c in holders)
    earned_before = old is not None and old.earns_points
    stranded = earned_before and not new.earns_points and points > 0
    value_before = value_after = 0
    if old is not None and earned_before:
        value_before = points * old.point_value
        value_after = points * new.point_value if new.earns_points else 0
    losses.sort(key=lambda item: (-item[0], item[1].customer_id))
    return Impact(
        customers=len(customers), up=up, down=down,
        losses=tuple(loss for _, loss in losses[:NAMED]),
        perks_lost=tuple(sorted(perks_lost.items(), key=lambda item: (-item[1], item[0]))),
        points=points, holders=len(holders), stranded=stranded,
        value_before=value_before, value_after=value_after,
        expiry_before=old.expiry_months if old is not None else None,
        expiry_after=new.expiry_months)


def _tier(settings: ProgramSettings | None, orders: Sequence[PaidOrder],
          now: datetime) -> int | None:
    return tier_index(settings, orders, now) if settings is not None else None


def _direction(old: ProgramSettings | None, new: ProgramSettings, before: int | None,
               after: int | None) -> int:
    """+1 up, -1 down, 0 the same. A tier of the same name is the same level; otherwise
    levels compare by their place in the list (the first tier is the lowest)."""
    if before is None or after is None or old is None:
        return (after is not None) - (before is not None)
    name = old.tiers[before].name
    same = _index_of(new.tiers, name)
    if same is not None:
        return (after > same) - (after < same)
    return (after > before) - (after < before)


def _index_of(tiers: Sequence[Tier], name: str) -> int | None:
    return next((i for i, t in enumerate(tiers) if t.name == name), None)


def _perks(tier: Tier | None) -> list[str]:
    """A tier's perks by title: its plain perks and its counted ones."""
    if tier is None:
        return []
    titles = [*tier.perks, *(e.title for e in tier.entitlements)]
    return list(dict.fromkeys(titles))


def customers_from(histories: Mapping[int, Sequence[PaidOrder]], points: Mapping[int, int],
                   labels: Mapping[int, str]) -> list[Customer]:
    """Customers from per-customer order histories, balances and labels (by customer id)."""
    return [Customer(cid, labels.get(cid, str(cid)), histories.get(cid, ()),
                     points.get(cid, 0)) for cid in sorted(labels)]


def impact_text(found: Impact, words: Words, currency: str) -> list[str]:
    """The impact in sentences, in the reader's language: what the owner reads before
    saving."""
    _ = words.gettext

    def of(n: int) -> str:  # "у 3 клиентов"
        return w.count(words, n, _("%(n)s клиента"), _("%(n)s клиентов"),
                       _("%(n)s клиентов"))

    if not found.customers:
        return [_("Клиентов пока нет: изменение никого не затронет.")]
    lines: list[str] = []
    if found.up:
        lines.append(_("Уровень повысится у %(customers)s.") % {"customers": of(found.up)})
    if found.down:
        lines.append(_("Уровень понизится или пропадёт у %(customers)s.") % {
            "customers": of(found.down)})
    for loss in found.losses:
        if loss.after is None:
            lines.append(_("%(customer)s: «%(before)s» → без уровня.") % {
                "customer": loss.label, "before": loss.before})
        else:
            lines.append(_("%(customer)s: «%(before)s» → «%(after)s».") % {
                "customer": loss.label, "before": loss.before, "after": loss.after})
    for perk, n in found.perks_lost:
        lines.append(_("Привилегии «%(perk)s» больше не будет у %(customers)s.") % {
            "perk": w.clean(perk), "customers": of(n)})
    if found.points:
        held = {"points": format_points(found.points, words), "customers": of(found.holders),
                "before": format_money(found.value_before, currency, words.lang),
                "after": format_money(found.value_after, currency, words.lang)}
        if found.stranded:
            lines.append(_("На счетах %(customers)s — %(points)s (%(before)s): в программе без"
                           " баллов их нельзя будет потратить.") % held)
        elif found.value_before != found.value_after:
            lines.append(_("%(points)s на счетах %(customers)s будут стоить %(after)s вместо"
                           " %(before)s.") % held)
        if found.expiry_before != found.expiry_after and not found.stranded:
            lines.append(_("Новый срок жизни баллов — %(after)s вместо %(before)s — только для"
                           " новых начислений: уже начисленные %(points)s сгорят в прежние"
                           " сроки.") % {**held, "before": _months(found.expiry_before, words),
                                         "after": _months(found.expiry_after, words)})
    if not lines:
        lines.append(_("Для %(customers)s уровни, привилегии и баллы не меняются.") % {
            "customers": w.count(words, found.customers, _("%(n)s клиента"),
                                 _("%(n)s клиентов"), _("%(n)s клиентов"))})
    return lines


def _months(months: int | None, words: Words) -> str:
    _ = words.gettext
    if months is None:
        return _("без срока")
    return w.count(words, months, _("%(n)s месяц"), _("%(n)s месяца"), _("%(n)s месяцев"))
