"""Every route of the URL map, sent bad values as every kind of visitor: never a 5xx,
and a refused request writes nothing.

The routes come from ``app.url_map``, so routes added later are swept too. Each is
first probed with a plausible request (the fields of the forms the pages render,
learnt from a first pass over the GET pages) while the app records which query, form
and JSON keys its view reads (probe.py). Then the fields the view read get the bad
values of corpus.py: all at once, then each alone with the others plausible (so a
check of the first field does not hide the second; a field read only once the others
pass joins in). JSON routes also get bodies of the wrong shape, 5,000 levels deep
among them. URL parameters are the shop's real ids; string ones get bad values too.

The visitors: a stranger (half-way through a phone sign-in), a cashier, a manager, the
owner and a signed-in customer, each with a valid CSRF token, so requests reach the
views' parsing rather than stop at CSRF. Each request runs in a savepoint rolled back
afterwards, with the visitor's cookies given back: every one starts from the same
world. After each: no 5xx; and if it was refused (4xx, or sent to sign-in without
being signed out) the database is as before (writes.py: what may change anyway).
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule
from werkzeug.routing.converters import NumberConverter

from tests.integration.hostile import corpus, writes
from tests.integration.hostile.conftest import ROLES, World, next_address
from tests.integration.hostile.probe import Reads, form_fields, recorded

pytestmark = pytest.mark.slow

# Field values that must not be the page's own: never the confirmation that deletes
# the account, never the real customer's phone.
FIXED = {"confirm": "no", "phone": "+79169990000", "code": "000000",
         "password": "correct horse battery staple", "password2": "correct horse battery staple"}
DEFAULTS = {"total": "1500", "redeem": "0"}  # where a form leaves the field empty (else "1")
# A new value every request: idempotency keys, and a login that is nobody's (so the
# limit on wrong passwords per login never stops the sweep before the view).
FRESH = ("key", "idempotency_key", "login")
STRING_VALUES = ["²", "\x00", "x" * 5000]  # for <string:...> URL parameters
MANY_FIELDS = 8  # above this, a field gets a rotating few of the bad values...
PER_ROUTE = 100  # ...so that the route takes about this many requests
_keys = itertools.count(1)


@dataclass
class Sweep:
    world: World
    baseline: dict[str, list[str]] = field(default_factory=dict)
    query_names: set[str] = field(default_factory=set)  # ever read from a query string
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    before: dict[str, str] = field(default_factory=dict)
    swept: set[tuple[Any, ...]] = field(default_factory=set)  # see seen()
    last_error: str = ""

    def __post_init__(self) -> None:
        self.counter = writes.WriteCounter(self.world.connection)
        self.before = writes.snapshot(self.world.app.test_session())
        self.world.app.test_session.remove()

    # -- one request ------------------------------------------------------------------

    def send(self, role: str, method: str, url: str, *, fields: dict[str, Any] | None = None,
             json_body: str | None = None, what: str = "") -> Reads:
        """One request as ``role``, in a savepoint rolled back afterwards; checks the
        answer and the database; returns what the view read."""
        visitor = self.world.visitors[role]
        fields = fields or {}
        # A GET's fields go in its query string; a POST's in its form, and those a view
        # reads from the query string in both.
        query = fields if method == "GET" else {n: v for n, v in fields.items()
                                                if n in self.query_names}
        kwargs: dict[str, Any] = {
            "headers": {"X-CSRFToken": visitor.token, **self.world.headers},
            "environ_base": {"REMOTE_ADDR": next_address()}, "query_string": _pairs(query)}
        if json_body is not None:
            kwargs.update(data=json_body.encode(), content_type="application/json")
        elif method != "GET":
            kwargs["data"] = MultiDict([*_pairs(fields), ("csrf_token", visitor.token)])
        self.last_error = ""
        visitor.restore()
        savepoint = self.world.connection.begin_nested()
        self.counter.written.clear()
        try:
            answer, reads = recorded(lambda: visitor.client.open(url, method=method, **kwargs))
            answer.close()  # a static file's answer holds the file open until closed
            reads.status = answer.status_code
            self.requests += 1
            self.query_names |= reads.query
            self.check(role, f"{role} {method} {url[:100]} {what}", answer,
                       written=set(self.counter.written))
        finally:
            savepoint.rollback()
        return reads

    def check(self, role: str, what: str, answer: Any, *, written: set[str]) -> None:
        status = answer.status_code
        if status >= 500:
            self.failures.append(f"{what} -> {status} {self.last_error}")
        if not written or status < 300:
            return
        after = writes.snapshot(self.world.app.test_session(), written)
        self.world.app.test_session.remove()
        differs = writes.changed(self.before, after)
        # Sent to sign-in is a refusal, unless the request signed its visitor out.
        refused = status >= 400 or (
            status < 400 and "sign-in" in answer.headers.get("Location", "")
            and self.still_signed_in(role))
        if differs and refused:
            self.failures.append(f"{what} -> {status} but wrote {differs}")

    def still_signed_in(self, role: str) -> bool:
        client, business_id = self.world.visitors[role].client, self.world.ids["business_id"]
        if role == "customer":
            return bool(client.get(f"/c/{business_id}/profile").status_code == 200)
        page = client.get(f"/b/{business_id}/staff/account")
        return role == "stranger" or page.status_code == 200

    # -- the sweep of one route ------------------------------------------------------

    def plausible(self, names: set[str] | None = None) -> dict[str, Any]:
        """Values a page would send for ``names`` (every field the sweep knows if None):
        the forms' own (or a sensible one where the form leaves a field empty), a few
        fixed ones, fresh idempotency keys."""
        values: dict[str, Any] = {
            name: list(found) if any(found) else [DEFAULTS.get(name, "1")]
            for name, found in self.baseline.items()}
        values.update({name: [value] for name, value in {**FIXED, **self.world.query}.items()})
        values.update({name: [f"sweep-{next(_keys):08d}"] for name in FRESH})
        if names is None:
            return values
        return {name: values.get(name, ["1"]) for name in names}

    def route(self, role: str, method: str, url: str, *, deep: bool) -> None:
        """Probe ``url`` and sweep what its view reads; ``deep`` False: probe only."""
        reads = self.send(role, method, url, fields=self.plausible(), what="(probe)")
        if not deep:
            return
        json_reads = Reads()
        if method == "GET":
            self.send(role, method, url, fields={}, what="(nothing)")
        else:  # the deep JSON is also the request without any form field
            json_reads = self.send(role, method, url, json_body=_json(self.plausible()),
                                   what="(JSON probe)")
            self.send(role, method, url, json_body=corpus.deep_json(), what="(deep JSON)")
        # A view that takes the whole form (the program page) may read any field.
        names = reads.fields | (set(self.baseline) if reads.all_fields else set())
        if names:
            self.fields(role, method, url, names, reads.status)
        else:  # the app's own hooks (CSRF, the NUL check) read every field
            some = set(sorted(self.baseline)[:3])
            for value in ("\x00", "x" * 100_000):
                self.send(role, method, url, what=f"({', '.join(some)} = {_short(value)})",
                          fields=dict.fromkeys(some, value))
        if json_reads.json:
            keys = json_reads.json_keys | (set(self.baseline) if json_reads.all_json
                                           else set())
            self.json(role, method, url, keys, json_reads.status)

    def seen(self, *key: Any) -> bool:
        """Whether an earlier visitor's probe of this route read the same fields and got
        the same answer: then its field-by-field sweep holds for this visitor too, who
        gets the all-at-once values only (a few of each kind)."""
        if key in self.swept:
            return True
        self.swept.add(key)
        return False

    def fields(self, role: str, method: str, url: str, names: set[str], status: int) -> None:
        """All read fields bad at once; then each field alone, the others plausible. A
        request that gets further than the probe may read more fields: they join in."""
        seen = self.seen(method, url, frozenset(names), status)
        for value in corpus.FORM_VALUES_SHORT if seen else corpus.FORM_VALUES:
            if value is corpus.MISSING or (
                    isinstance(value, str) and len(value) * len(names) > 500_000):
                continue  # all missing: "(nothing)"; too large: refused as such, see below
            self.send(role, method, url, what=f"(all fields = {_short(value)})",
                      fields=dict.fromkeys(names, value))
        if seen:
            return
        done: set[str] = set()
        while todo := sorted(names - done):
            for name in todo:
                done.add(name)
                for value in _values_for(len(done), len(names), corpus.FORM_VALUES,
                                         corpus.FORM_VALUES_SHORT):
                    reads = self.send(role, method, url, what=f"({name} = {_short(value)})",
                                      fields={**self.plausible(names), name: value})
                    if not reads.all_fields:
                        names |= reads.fields

    def json(self, role: str, method: str, url: str, keys: set[str], status: int) -> None:
        """Bodies of the wrong shape; then each key read with each bad JSON value."""
        for body in corpus.JSON_BODIES:
            self.send(role, method, url, json_body=body, what=f"(JSON body {body[:20]!r})")
        if self.seen(method, url, "json", frozenset(keys), status):
            return
        for index, key in enumerate(sorted(keys)):
            for value in _values_for(index, len(keys), corpus.JSON_VALUES,
                                     corpus.JSON_VALUES_SHORT):
                body = {**_flat(self.plausible(keys)), key: value}
                if value is corpus.MISSING:
                    body.pop(key)
                self.send(role, method, url, json_body=json.dumps(body),
                          what=f"(JSON {key} = {_short(value)})")


def _values_for(index: int, count: int, full: list[Any], short: list[Any]) -> list[Any]:
    """Every value when a route reads a few fields; else a share of ``short`` that keeps
    the route to about :data:`PER_ROUTE` requests, rotated so each value lands somewhere."""
    if count <= MANY_FIELDS:
        return full
    share = max(1, min(len(short), PER_ROUTE // count))
    return [short[(index + step) % len(short)] for step in range(share)]


def _pairs(fields: dict[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        if value is corpus.MISSING:
            continue
        if value is corpus.REPEATED:
            pairs += [(name, "1"), (name, "²")]
        elif isinstance(value, list):
            pairs += [(name, v) for v in value]
        else:
            pairs.append((name, str(value)))
    return pairs


def _flat(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value[-1] if isinstance(value, list) and value else ""
            for name, value in fields.items()}


def _json(fields: dict[str, Any]) -> str:
    return json.dumps(_flat(fields))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 30 else f"{text[:20]}…({len(text)})"


def _urls(rule: Rule, world: World) -> list[tuple[str, bool]]:
    """The rule's URL with the shop's real ids (to sweep), then, to probe only, with bad
    strings for its string parameters and the largest id a URL may carry."""
    real: dict[str, Any] = {}
    strings = []
    for name, converter in rule._converters.items():
        if isinstance(converter, NumberConverter):
            real[name] = world.ids.get(name, 1)
        else:
            real[name] = world.strings.get(name, "x")
            strings.append(name)
    urls = [(_build(rule, real), True)]
    urls += [(_build(rule, {**real, name: bad}), False)
             for name in strings for bad in STRING_VALUES]
    if len(strings) < len(real):
        urls.append((_build(rule, {n: v if n in strings else 2**31 - 1
                                   for n, v in real.items()}), False))
    return urls


def _build(rule: Rule, values: dict[str, Any]) -> str:
    built = rule.build(values, append_unknown=False)
    assert built is not None, rule
    return built[1]


class _LastError(logging.Handler):
    """Keeps the exception behind the last 500, for the failure's message."""

    def __init__(self, sweep: Sweep) -> None:
        super().__init__(logging.ERROR)
        self.sweep = sweep

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            self.sweep.last_error = f"{type(error).__name__}: {str(error)[:200]}"


def test_no_route_answers_5xx_or_writes_when_refusing(world: World) -> None:
    started = time.monotonic()
    app = world.app
    sweep = Sweep(world)
    app.logger.addHandler(_LastError(sweep))
    rules = sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
    # The pages as each visitor sees them: their forms give the plausible values.
    for role in ROLES:
        for rule in rules:
            if "GET" in (rule.methods or ()) and rule.endpoint != "static":
                url = _urls(rule, world)[0][0]
                visitor = world.visitors[role]
                visitor.restore()
                savepoint = world.connection.begin_nested()
                page = visitor.client.get(url)
                savepoint.rollback()
                if page.mimetype == "text/html":
                    for name, values in form_fields(page.get_data(as_text=True)).items():
                        sweep.baseline.setdefault(name, values)
                page.close()
    assert {"total", "redeem", "points", "role", "branch_ids"} <= set(sweep.baseline)
    for role in ROLES:
        for rule in rules:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                for url, real in _urls(rule, world):
                    sweep.route(role, method, url, deep=real)
    elapsed = time.monotonic() - started
    print(f"\nhostile-input sweep: {len(rules)} routes, {sweep.requests} requests,"
          f" {elapsed:.1f} s")
    assert not sweep.failures, f"{len(sweep.failures)} failures:\n" + "\n".join(
        sweep.failures[:80])
