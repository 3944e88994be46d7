"""``regulars demo``: a car service with two branches, staff and two years of history.

Every row is written through the real services, never inserted directly, so the
demo goes through the same rules, idempotency keys and guarded updates as
production and ``regulars check-ledger`` must pass on it. The same seed gives the
same history; only staff passwords (and the card numbers and referral codes the
services draw themselves) differ between runs.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from webapp.domain.actor import Actor, Role
from webapp.domain.presets import DEMO as DEMO_PROGRAM
from webapp.domain.quote import OrderDraft
from webapp.services.business import setup as businesses
from webapp.services.counter import checkout, signup
from webapp.services.customers import accounts as customers
from webapp.services.ledger import balances
from webapp.services.ledger import operations as ledger
from webapp.services.program import bonuses
from webapp.services.program import versions as programs
from webapp.services.staff import accounts as staff

BUSINESS_NAME = "Автосервис «Гараж на Лесной»"
BRANCHES = ("Лесная ул., 12", "Сущёвский Вал, 31")
# (login, role, display name, branch index or None for every branch)
STAFF = (
    ("owner", Role.OWNER, "Сергей Лесной", None),
    ("manager", Role.MANAGER, "Ольга Смирнова", None),
    ("cashier1", Role.CASHIER, "Дмитрий Орлов", 0),
    ("cashier2", Role.CASHIER, "Марина Белова", 1),
)
DAY = timedelta(days=1)
POINTS_LIFETIME = 365 * DAY
YEAR = 365 * DAY
# Which perk a visit uses: (only on this category, or any; how often when it could).
PERK_USE = {"free_diagnostics": ("diagnostics", 1.0), "free_onsite_repair": ("repair", 0.3)}
REFUND_RATE, ADJUST_RATE, REDEEM_RATE, REFERRAL_RATE = 0.04, 0.05, 0.35, 0.15

# Category: (cheapest, dearest) in roubles; weights favour routine work over repairs.
SERVICES = {
    "oil_change": (2_500, 6_000), "diagnostics": (1_500, 4_000), "tyres": (2_000, 8_000),
    "brakes": (4_000, 15_000), "suspension": (5_000, 20_000), "maintenance": (6_000, 18_000),
    "repair": (8_000, 40_000),
}
SERVICE_WEIGHTS = (26, 16, 14, 12, 10, 14, 8)
TYRE_MONTHS = {3, 4, 10, 11}  # seasonal tyre change: spring and autumn queues
ADJUSTMENTS = (
    (300, "Компенсация за задержку ремонта"),
    (500, "Бонус за отзыв о сервисе"),
    (200, "Подарок за рекомендацию друга"),
    (-150, "Исправление ошибочного начисления"),
)

MALE = ("Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья",
        "Кирилл", "Михаил", "Никита", "Роман", "Евгений", "Владимир", "Игорь", "Олег", "Павел")
FEMALE = ("Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Екатерина", "Ирина",
          "Светлана", "Юлия", "Дарья", "Ксения")
SURNAMES = ("Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов",
            "Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев",
            "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев", "Орлов",
            "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв", "Борисов")
CARS = ("Lada Vesta", "Lada Granta", "Kia Rio", "Hyundai Solaris", "Hyundai Creta",
        "Volkswagen Polo", "Skoda Octavia", "Toyota Camry", "Toyota RAV4", "Renault Logan",
        "Haval Jolion", "Chery Tiggo 7 Pro", "Geely Coolray", "Nissan Qashqai")
MOBILE_CODES = ("903", "905", "909", "915", "916", "917", "925", "926", "929", "977", "985",
                "999")
PLATE_LETTERS = "АВЕКМНОРСТУХ"  # only Cyrillic letters that look Latin are allowed
PLATE_REGIONS = ("77", "97", "99", "177", "197", "199", "777", "797", "799", "50", "150", "750")


@dataclass(frozen=True)
class DemoResult:
    business_id: int
    business_name: str
    logins: list[tuple[str, str, str]]  # (login, password, role): passwords shown once
    customers: int
    orders: int
    try_phone: str | None = None  # a regular's phone, to try the customer app with


@dataclass(frozen=True)
class _Profile:
    """How a kind of customer visits: how often, and how long ago the last time."""

    visits: tuple[int, int]
    last_days_ago: tuple[float, float]
    keeps_points: bool  # nothing spent or refunded at the last visit: points stay on the card


PROFILES = {  # name: (share of customers, profile)
    "regular": (12, _Profile((10, 20), (2, 45), keeps_points=False)),
    "occasional": (50, _Profile((1, 3), (5, 700), keeps_points=False)),
    "sleeping": (16, _Profile((2, 5), (95, 180), keeps_points=True)),  # remind them
    "expiring": (10, _Profile((1, 3), (336, 360), keeps_points=True)),  # expire within 30 days
    "newcomer": (12, _Profile((1, 1), (1, 30), keeps_points=False)),
}
EARLIEST_DAYS_AGO = 725  # a little inside two years, so the history starts after it


def generate(session: Session, *, customers: int = 200, seed: int = 7,
             progress: Callable[[int], None] = lambda n: None,
             now: datetime | None = None) -> DemoResult:
    """Build the demo business and its history ending at ``now``; commits as it goes."""
    if customers < 0:
        raise ValueError("customers must not be negative")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    demo = _Demo(session, random.Random(seed), seed, now.astimezone(UTC))
    for _ in range(customers):
        demo.customer()
        progress(1)
    ledger.expire_due(session, demo.system, demo.now)
    bonuses.birthdays(session, demo.system, demo.now)
    return DemoResult(demo.system.business_id, BUSINESS_NAME, demo.logins, customers,
                      demo.orders, demo.try_phone)


class _Demo:
    """The generator's state: the business, its staff, the seeded dice and counters."""

    def __init__(self, session: Session, rng: random.Random, seed: int, now: datetime) -> None:
        self.session, self.rng, self.seed, self.now = session, rng, seed, now
        self.orders = 0
        self.try_phone: str | None = None
        self._try_is_regular = False
        self._keys = 0
        self._phones: set[str] = set()
        self._plates: set[str] = set()
        self._referrers: list[tuple[datetime, str]] = []  # (joined at, referral code)
        self._last_order = (0, 0)  # (order id, total in kopecks), for a refund
        business = businesses.create_business(
            session, name=BUSINESS_NAME, currency="RUB", timezone="Europe/Moscow",
            locale="ru", phone_region="RU", branches=list(BRANCHES))
        self.system = Actor.system(business.id)
        self.branch_ids: list[int] = []
        self.cashiers: list[Actor] = []
        self.manager = self.system
        self.logins: list[tuple[str, str, str]] = []
        for login, role, name, branch in STAFF:
            password = secrets.token_urlsafe(12)  # never from the seeded generator
            member = staff.create_staff(
                session, business_id=business.id, login=login, password=password,
                role=role.value, display_name=name,
                branch_ids=None if branch is None else [self.branch_ids[branch]])
            if not self.branch_ids:  # create_business gives no branch ids; the owner
                # (first in STAFF) works at every branch, so the owner's row tells us
                self.branch_ids = sorted(b.id for b in member.branches)
            actor = Actor.staff(business.id, member.id, role,
                                frozenset(b.id for b in member.branches))
            if role is Role.OWNER:
                self.owner = actor
            if role is Role.MANAGER:
                self.manager = actor
            elif role is Role.CASHIER:
                self.cashiers.append(actor)
            self.logins.append((login, password, role.value))

        # The demo program has been in force since before the first visit.
        programs.save(session, self.owner, self.key(), settings=DEMO_PROGRAM,
                      preset_name="service_tiers", now=now - 2 * YEAR - 30 * DAY)

    def key(self) -> str:
        self._keys += 1
        return f"demo-{self.seed}-{self._keys:06d}"

    # -- one customer's life --------------------------------------------------------------

    def customer(self) -> None:
        rng = self.rng
        names = list(PROFILES)
        kind = rng.choices(names, [PROFILES[n][0] for n in names])[0]
        profile = PROFILES[kind][1]
        visits = self._visit_times(profile)
        joined_at = visits[0] - timedelta(minutes=rng.randint(5, 30))  # signed up at the desk
        customer_id, asset_id, phone = self._join(joined_at)
        # The card worth showing: the first regular's (tiers, stamps, history), else anyone's.
        if self.try_phone is None or (kind == "regular" and not self._try_is_regular):
            self.try_phone, self._try_is_regular = phone, kind == "regular"
        home = 0 if rng.random() < 0.6 else 1  # people stick to the branch near home or work
        for i, at in enumerate(visits):
            last = i == len(visits) - 1
            keep = last and profile.keeps_points
            branch = home if rng.random() < 0.85 else 1 - home
            self._order(customer_id, asset_id, branch, at, redeem=not keep)
            until = self.now if last else visits[i + 1]
            roll = rng.random()
            if keep or until - at < 2 * DAY:
                continue
            if roll < REFUND_RATE:
                self._refund(at + rng.uniform(0.1, 1.5) * DAY)
            elif roll < REFUND_RATE + ADJUST_RATE:
                self._adjust(customer_id, at + (until - at) * rng.uniform(0.2, 0.8))

    def _visit_times(self, profile: _Profile) -> list[datetime]:
        rng = self.rng
        last = rng.uniform(*profile.last_days_ago)
        count = rng.randint(*profile.visits)
        ago = [last] + [rng.uniform(last, EARLIEST_DAYS_AGO) for _ in range(count - 1)]
        times = []
        for days in sorted(ago, reverse=True):
            # Open 9:00-20:00 Moscow time (UTC+3); at least a day ago, so before ``now``.
            day = self.now - max(days, 1.0) * DAY
            times.append(day.replace(hour=rng.randint(6, 16), minute=rng.randrange(0, 60, 5),
                                     second=0, microsecond=0))
        for i in range(1, len(times)):  # two visits on one day: keep them in order
            times[i] = max(times[i], times[i - 1] + timedelta(hours=1))
        return times

    def _join(self, at: datetime) -> tuple[int, int | None, str]:
        rng = self.rng
        male = rng.random() < 0.7  # car services see more men than women at the counter
        surname = rng.choice(SURNAMES)
        name = f"{rng.choice(MALE)} {surname}" if male else f"{rng.choice(FEMALE)} {surname}а"
        phone = self._unique(self._phones, lambda: (
            f"+7{rng.choice(MOBILE_CODES)}{rng.randrange(10**7):07d}"))
        birthday = (date(rng.randint(1962, 2004), rng.randint(1, 12), rng.randint(1, 28))
                    if rng.random() < 0.4 else None)
        consent = rng.random() < 0.6
        earlier = [code for joined, code in self._referrers if joined < at]
        referral = rng.choice(earlier) if earlier and rng.random() < REFERRAL_RATE else None
        joined = customers.join(self.session, self.system, phone=phone, name=name,
                                birthday=birthday, marketing_consent=consent,
                                referral_code=referral, now=at)
        customer_id = joined.customer.id
        self._referrers.append((at, joined.customer.referral_code))
        # Signed up at the desk: the consents the customer ticked on the cashier's screen.
        cashier = self.cashiers[len(self._phones) % len(self.cashiers)]
        signup.record_consents(self.session, cashier, customer_id, advertising=consent, now=at,
                               details={"created": True})
        asset_id = None
        if rng.random() < 0.7:
            plate = self._unique(self._plates, lambda: (
                f"{rng.choice(PLATE_LETTERS)}{rng.randint(1, 999):03d}"
                f"{rng.choice(PLATE_LETTERS)}{rng.choice(PLATE_LETTERS)}"
                f"{rng.choice(PLATE_REGIONS)}"))
            asset_id = customers.add_asset(self.session, self.system, customer_id=customer_id,
                                           kind="plate", value=plate,
                                           label=rng.choice(CARS)).id
        return customer_id, asset_id, phone

    @staticmethod
    def _unique(seen: set[str], draw: Callable[[], str]) -> str:
        value = draw()
        while value in seen:
            value = draw()
        seen.add(value)
        return value

    def _order(self, customer_id: int, asset_id: int | None, branch: int, at: datetime,
               *, redeem: bool) -> None:
        rng = self.rng
        weights = [w * (3 if c == "tyres" and at.month in TYRE_MONTHS else 1)
                   for c, w in zip(SERVICES, SERVICE_WEIGHTS, strict=True)]
        category = rng.choices(list(SERVICES), weights)[0]
        low, high = SERVICES[category]
        total_minor = rng.randint(low // 50, high // 50) * 50 * 100  # round 50 ₽, in kopecks
        cashier = self.cashiers[branch]
        draft = OrderDraft(total_minor, category, asset_id)
        offer = checkout.quote_order(self.session, cashier, customer_id=customer_id,
                                     draft=draft, now=at)
        redeem_points = 0
        if redeem and rng.random() < REDEEM_RATE:
            redeem_points = min(offer.max_redeem_points, self._usable(customer_id, at))
        perks = tuple(p.code for p in offer.entitlements if p.remaining
                      and PERK_USE.get(p.code, (None, 1.0))[0] in (None, category)
                      and rng.random() < PERK_USE.get(p.code, (None, 1.0))[1])
        result = checkout.close(
            self.session, cashier, self.key(), customer_id=customer_id,
            branch_id=self.branch_ids[branch],
            draft=replace(draft, redeem_points=redeem_points, use=perks), now=at,
            phone_present=True)  # demo customers show their app's live code
        self.orders += 1
        self._last_order = int(result["order_id"]), total_minor

    def _usable(self, customer_id: int, at: datetime) -> int:
        """Points spendable at ``at``: the stored balance may still hold expired lots
        (expiry runs at the end), but every demo lot expires, so the lots expiring
        after ``at`` are exactly what can be spent."""
        balance = balances.balance(self.session, self.system, customer_id, now=at,
                                   horizon=POINTS_LIFETIME + DAY)
        return balance.expiring_total

    def _refund(self, at: datetime) -> None:
        order_id, total_minor = self._last_order
        share = self.rng.choice((100, 100, 50, 30))  # whole order, or part of the work
        ledger.reverse(self.session, self.manager, self.key(), order_id=order_id,
                       refund_minor=total_minor * share // 100,
                       expires_at=at + POINTS_LIFETIME, now=at)

    def _adjust(self, customer_id: int, at: datetime) -> None:
        points, reason = self.rng.choice(ADJUSTMENTS)
        if points < 0 and self._usable(customer_id, at) < -points:
            points, reason = ADJUSTMENTS[0]  # nothing to correct: compensate instead
        ledger.adjust(self.session, self.manager, self.key(), customer_id=customer_id,
                      points=points, reason=reason,
                      expires_at=at + POINTS_LIFETIME if points > 0 else None, now=at)
