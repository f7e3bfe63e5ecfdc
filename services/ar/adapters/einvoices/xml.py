"""Reading XML safely (no DTD, no entity, no network) and the small queries the CII and UBL readers share."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeAlias

from lxml import etree

from ar.domain.einvoice import EInvoiceUnreadable

Element: TypeAlias = Any  # lxml's _Element (lxml ships no type hints)

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                         huge_tree=False, remove_comments=True)


def parse(content: bytes) -> Element:
    """The document's root element; a DTD (the door to entity expansion) is refused outright."""
    try:
        root = etree.fromstring(content, PARSER)
    except etree.XMLSyntaxError as e:
        raise EInvoiceUnreadable(f"the document is not well-formed XML: {e.msg} (line {e.lineno})",
                                 field="document") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise EInvoiceUnreadable("an e-invoice has no DTD (entities are not resolved)", field="document")
    return root


def local(element: Element) -> str:
    name: str = etree.QName(element).localname
    return name


class Reader:
    """Queries on one document with its namespaces; `name` is what an error calls the element (its local path)."""

    def __init__(self, root: Element, namespaces: dict[str, str]) -> None:
        self.root, self.ns = root, namespaces

    def all(self, path: str, under: Element | None = None) -> list[Element]:
        found = (self.root if under is None else under).xpath(path, namespaces=self.ns)
        return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []

    def first(self, path: str, under: Element | None = None) -> Element | None:
        found = self.all(path, under)
        return found[0] if found else None

    def text(self, path: str, under: Element | None = None) -> str | None:
        element = self.first(path, under)
        if element is None or element.text is None or not element.text.strip():
            return None
        value: str = element.text.strip()
        return value

    def required(self, path: str, under: Element | None = None) -> str:
        value = self.text(path, under)
        if value is None:
            raise EInvoiceUnreadable(f"{_name(path)} is missing", field=_name(path))
        return value


def _name(path: str) -> str:
    return "/".join(step.split(":")[-1].split("[")[0] for step in path.split("/") if step and step != ".")


def iso_date(text: str, element: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise EInvoiceUnreadable(f"{element} is not a date (YYYY-MM-DD): {text!r}", field=element) from None


def compact_date(text: str, element: str) -> date:
    """A CII date (format 102: YYYYMMDD)."""
    if len(text) != 8 or not text.isdigit():
        raise EInvoiceUnreadable(f"{element} is not a date in format 102 (YYYYMMDD): {text!r}", field=element)
    return iso_date(f"{text[:4]}-{text[4:6]}-{text[6:]}", element)
