"""Faster stand-ins for trafilatura's two hottest steps, with identical results.

Profiled (py-spy on the web bench, cProfile on 1,201 real and sample pages) most of trafilatura's
CPU went to two places that are not the extraction algorithm itself:

* jusText's ``classify_paragraphs`` looks its stoplist up through ``functools.lru_cache``, and
  trafilatura hands it a *tuple* of the 154,484 words of every jusText stoplist. A tuple does not
  keep its hash, so every call on a page that reaches jusText hashed all of it (3.5 ms a call):
  about 12 % of extraction CPU on 1,201 sample and real pages. :class:`_HashedStoplist` is the
  same tuple with its hash computed once, so the cache answers with the same frozenset.
* ``OVERALL_DISCARD_XPATH`` (boilerplate by id / class / style, run on every page twice) makes
  libxml2 visit every element and call back into Python's ``re`` for each ``re:test``
  (lxml's EXSLT regex functions): about 0.4 ms and 1.0 ms a page. :class:`_DiscardBoilerplate`
  and :class:`_DiscardHidden` pick the candidates with a plain XPath (elements that carry one of
  the attributes the predicate reads) and test the same regular expressions in Python: the same
  elements in the same document order (the second in a third to a half of the time). Both
  changes together: extraction CPU 5.74 → 4.08 s on those pages.

Both are installed by :func:`install` when ``corpus.text.extraction`` is imported. A stand-in
replaces an XPath only when its text, with the regular expressions masked, is exactly the one
written here; the expressions themselves are read from trafilatura's XPath, so a new token list
upstream flows through, and a changed structure leaves trafilatura's own XPath in place
(:func:`installed` says which). ``tests/web/test_trafilatura_fast.py`` checks element-for-element
equality on every real page under ``../shared/data`` and the sample, and equal extractions.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura import external, xpaths

_RE_TEST = re.compile(r"(re:test\([^,]+, )'([^']*)'\)")


def _shape(path: str) -> tuple[str, list[str]]:
    """(the XPath with whitespace collapsed and each ``re:test`` pattern replaced by ``?``,
    the patterns in order)."""
    norm = re.sub(r"\s+", " ", path).strip()
    return _RE_TEST.sub(r"\1?)", norm), [m.group(2) for m in _RE_TEST.finditer(norm)]


def _first(el: HtmlElement, a: str, b: str) -> str:
    """XPath's string value of ``@a|@b``: the first of the two in the element's source order
    (libxml2 sorts attribute nodes of one element by their position), ``''`` when neither."""
    for key, value in el.attrib.items():
        if key == a or key == b:
            return value
    return ""


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.UNICODE)  # the flags lxml's re:test compiles with


class _StandIn:
    """An XPath's stand-in: the elements of ``_CANDIDATES(tree)`` that :meth:`matches`, in
    document order, as a list (what calling an lxml ``XPath`` returns)."""

    SHAPE: str
    _CANDIDATES: XPath

    def __call__(self, tree: HtmlElement) -> list[HtmlElement]:
        return [el for el in self._CANDIDATES(tree) if self.matches(el)]

    def matches(self, el: HtmlElement) -> bool:
        raise NotImplementedError


class _DiscardBoilerplate(_StandIn):
    """``OVERALL_DISCARD_XPATH[0]``: div/item/list/p/section/span elements marked as navigation,
    sharing, consent, footer, ads ... by ``id`` / ``class`` / ``role``."""

    SHAPE = (
        ".//*[self::div or self::item or self::list or self::p or self::section or self::span][ "
        "@data-lp-replacement-content or contains(translate(@role, 'N', 'n'), 'nav') or "
        "contains(@data-component, 'MostPopularStories') or re:test(@id|@class, ?) or "
        "re:test(@id, ?) or re:test(@class, ?)]"
    )
    _CANDIDATES = XPath(
        ".//*[self::div or self::item or self::list or self::p or self::section or self::span]"
        "[@data-lp-replacement-content or @role or @data-component or @id or @class]"
    )

    def __init__(self, patterns: list[str]) -> None:
        self.id_or_class, self.id, self.cls = (_compile(p).search for p in patterns)

    def matches(self, el: HtmlElement) -> bool:
        get = el.get
        role, component, ident, cls = get("role"), get("data-component"), get("id"), get("class")
        return bool(
            get("data-lp-replacement-content") is not None
            or (role is not None and "nav" in role.replace("N", "n"))
            or (component is not None and "MostPopularStories" in component)
            or self.id_or_class(_first(el, "id", "class"))
            or (ident is not None and self.id(ident))
            or (cls is not None and self.cls(cls))
        )


class _DiscardHidden(_StandIn):
    """``OVERALL_DISCARD_XPATH[1]``: hidden elements, comment titles and reply widgets."""

    SHAPE = (
        ".//*[@class='comments-title' or starts-with(@id|@class, 'reply-') or "
        "re:test(@id|@style, ?) or contains(@style, 'display:none') or "
        "contains(@style, 'display: none') or re:test(@id, ?) or re:test(@class, ?) or "
        "@aria-hidden='true']"
    )
    _CANDIDATES = XPath(".//*[@class or @id or @style or @aria-hidden]")

    def __init__(self, patterns: list[str]) -> None:
        self.id_or_style, self.id, self.cls = (_compile(p).search for p in patterns)

    def matches(self, el: HtmlElement) -> bool:
        get = el.get
        cls, ident, style = get("class"), get("id"), get("style")
        return bool(
            cls == "comments-title"
            or _first(el, "id", "class").startswith("reply-")
            or self.id_or_style(_first(el, "id", "style"))
            or (style is not None and ("display:none" in style or "display: none" in style))
            or (ident is not None and self.id(ident))
            or (cls is not None and self.cls(cls))
            or get("aria-hidden") == "true"
        )


class _HashedStoplist(tuple):
    """trafilatura's jusText stoplist tuple, hashing in O(1): equal to the original, same hash."""

    _hash: int

    def __new__(cls, words: tuple[str, ...]) -> _HashedStoplist:
        self = super().__new__(cls, words)
        self._hash = tuple.__hash__(self)
        return self

    def __hash__(self) -> int:
        return self._hash


_STAND_INS: list[type[_StandIn]] = [_DiscardBoilerplate, _DiscardHidden]
_ORIGINAL: list[Callable] = list(getattr(xpaths, "OVERALL_DISCARD_XPATH", []))


def install() -> dict[str, bool]:
    """Put the stand-ins in place (idempotent); returns :func:`installed`. The XPath list is
    changed in place because trafilatura's modules imported the list object itself. Whatever
    this trafilatura version does not have in the expected shape stays as it is."""
    for i, stand_in in enumerate(_STAND_INS[: len(_ORIGINAL)]):
        current = xpaths.OVERALL_DISCARD_XPATH[i]
        if isinstance(current, XPath):
            shape, patterns = _shape(current.path)
            if shape == stand_in.SHAPE:
                xpaths.OVERALL_DISCARD_XPATH[i] = stand_in(patterns)
    if hasattr(external, "jt_stoplist_init") and not isinstance(external.JT_STOPLIST, _HashedStoplist):
        words = external.JT_STOPLIST or external.jt_stoplist_init()
        if isinstance(words, tuple):
            external.JT_STOPLIST = _HashedStoplist(words)
    return installed()


def uninstall() -> None:
    """trafilatura's own XPaths and stoplist tuple again (for equivalence tests and benches)."""
    if _ORIGINAL:
        xpaths.OVERALL_DISCARD_XPATH[:] = _ORIGINAL
    if isinstance(getattr(external, "JT_STOPLIST", None), _HashedStoplist):
        external.JT_STOPLIST = tuple(external.JT_STOPLIST)


def installed() -> dict[str, bool]:
    """Which stand-ins are active: ``{"OVERALL_DISCARD_XPATH[0]": True, ..., "stoplist": True}``."""
    current = getattr(xpaths, "OVERALL_DISCARD_XPATH", [])
    state = {
        f"OVERALL_DISCARD_XPATH[{i}]": i < len(current) and isinstance(current[i], stand_in)
        for i, stand_in in enumerate(_STAND_INS)
    }
    state["stoplist"] = isinstance(getattr(external, "JT_STOPLIST", None), _HashedStoplist)
    return state
