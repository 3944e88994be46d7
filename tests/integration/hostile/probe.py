"""What a view reads from a request, and the fields of the forms the pages render.

The sweep sends its bad values into the fields each route actually reads, so it learns
them instead of keeping a list per route (routes added later are covered too):

- :func:`record_views` mixes recording into the app's request class: its query and
  form mappings and its JSON objects note every key the view looks up, and whether
  the view took the whole mapping (``to_dict()``, iteration);
- only lookups made while a view function runs count, so the app's own hooks (CSRF,
  the NUL check) do not make every route look like it reads every field;
- :class:`FormScraper` reads a rendered page's form fields and their values: the
  baseline the sweep starts from, so a request gets past the first field it checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import wraps
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.utils import cached_property


@dataclass
class Reads:
    """The keys one request's view looked up (``query``: those of the query string)."""

    fields: set[str] = field(default_factory=set)
    query: set[str] = field(default_factory=set)
    all_fields: bool = False
    json: bool = False
    json_keys: set[str] = field(default_factory=set)
    all_json: bool = False
    status: int = 0  # the answer's


class _Recorder:
    def __init__(self) -> None:
        self.reads = Reads()
        self.in_view = False

    def field(self, key: object, query: bool) -> None:
        if self.in_view and isinstance(key, str):
            self.reads.fields.add(key)
            if query:
                self.reads.query.add(key)

    def whole(self) -> None:
        if self.in_view:
            self.reads.all_fields = True


RECORDER = _Recorder()


class RecordingMultiDict(ImmutableMultiDict[str, str]):
    """A form (or, as :class:`RecordingQuery`, a query string) that notes the keys a
    view asks for."""

    query = False

    def get(self, key: str, default: Any = None, type: Any = None) -> Any:
        RECORDER.field(key, self.query)
        return super().get(key, default, type)

    def __getitem__(self, key: str) -> str:
        RECORDER.field(key, self.query)
        return super().__getitem__(key)

    def getlist(self, key: str, type: Any = None) -> list[Any]:
        RECORDER.field(key, self.query)
        return super().getlist(key, type)

    def __contains__(self, key: object) -> bool:
        RECORDER.field(key, self.query)
        return super().__contains__(key)

    def to_dict(self, flat: bool = True) -> Any:
        RECORDER.whole()
        return super().to_dict(flat)

    def items(self, multi: bool = False) -> Any:
        RECORDER.whole()
        return super().items(multi)

    def __iter__(self) -> Iterator[str]:
        RECORDER.whole()
        return super().__iter__()


class RecordingQuery(RecordingMultiDict):
    query = True


class RecordingDict(dict[str, Any]):
    """A JSON object that notes the keys a view (or the service it calls) asks for."""

    def get(self, key: str, default: Any = None) -> Any:
        if RECORDER.in_view:
            RECORDER.reads.json_keys.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        if RECORDER.in_view:
            RECORDER.reads.json_keys.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if RECORDER.in_view and isinstance(key, str):
            RECORDER.reads.json_keys.add(key)
        return super().__contains__(key)

    def items(self) -> Any:
        if RECORDER.in_view:
            RECORDER.reads.all_json = True
        return super().items()

    def keys(self) -> Any:
        if RECORDER.in_view:
            RECORDER.reads.all_json = True
        return super().keys()


class _Recording:
    """Mixed into the app's own request class (whatever it adds stays)."""

    parameter_storage_class = RecordingMultiDict

    @cached_property
    def args(self) -> RecordingQuery:
        return RecordingQuery(super().args)

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if RECORDER.in_view:
            RECORDER.reads.json = True
        value = super().get_json(force=force, silent=silent, cache=cache)
        return RecordingDict(value) if type(value) is dict else value


def record_views(app: Flask) -> None:
    """Record what views read (see the module's docstring)."""
    app.request_class = type("RecordingRequest", (_Recording, app.request_class), {})
    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = _recording(view)


def _recording(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        RECORDER.in_view = True
        try:
            return view(*args, **kwargs)
        finally:
            RECORDER.in_view = False

    return wrapped


def recorded(run: Callable[[], Any]) -> tuple[Any, Reads]:
    """Run one request and return its answer and what its view read."""
    RECORDER.reads = Reads()
    answer = run()
    return answer, RECORDER.reads


class FormScraper(HTMLParser):
    """Form fields of a page: ``name -> values`` (inputs, checked boxes, the selected
    option of a select, textareas)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def _add(self, name: str | None, value: str | None) -> None:
        if name and name != "csrf_token":
            self.values.setdefault(name, []).append(value or "")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "input":
            kind = (attr.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attr:
                self.values.setdefault(attr.get("name") or "", [])
                return
            if kind not in ("submit", "button", "file", "image", "reset"):
                self._add(attr.get("name"), attr.get("value"))
        elif tag == "select":
            self._select, self._select_first, self._select_chosen = attr.get("name"), None, False
        elif tag == "option" and self._select is not None:
            if self._select_first is None:
                self._select_first = attr.get("value") or ""
            if "selected" in attr:
                self._add(self._select, attr.get("value"))
                self._select_chosen = True
        elif tag == "textarea":
            self._textarea, self._text = attr.get("name"), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            if not self._select_chosen and self._select_first is not None:
                self._add(self._select, self._select_first)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._add(self._textarea, "".join(self._text))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def form_fields(html: str) -> dict[str, list[str]]:
    """The fields of every form on a page with their values (first form wins a name)."""
    scraper = FormScraper()
    scraper.feed(html)
    return {name: values for name, values in scraper.values.items() if name}
