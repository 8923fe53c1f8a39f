"""SOAP 1.1 envelopes in and out, read safely.

In: a request body is parsed by lxml with entities unresolved, no DTD loaded, no network
and no huge trees, after a size check; a ``<!DOCTYPE`` anywhere is refused outright (no
entity expansion, internal or external, can happen). A body that is not a SOAP 1.1
envelope with one operation in its Body is a ``SoapFault`` naming what is wrong, never
repeating what was sent.

Out: answers are built with lxml (text is escaped by the serializer) in the service's
namespace; a fault carries the vendor's detail block:

    <soap:Fault><faultcode>soap:Client</faultcode><faultstring>...</faultstring>
      <detail><cl:FaultDetail><cl:ErrorCode>CL-SEC-0102</cl:ErrorCode>
        <cl:Message>...</cl:Message><cl:Field>...</cl:Field>
        <cl:RetryAfterSeconds>...</cl:RetryAfterSeconds></cl:FaultDetail></detail>
    </soap:Fault>
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

__all__ = [
    "MAX_ENVELOPE_BYTES",
    "NS",
    "SOAP_ENV",
    "XML_MEDIA_TYPE",
    "Envelope",
    "SoapFault",
    "fault_xml",
    "parse_envelope",
    "response_xml",
]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "urn:corelink:cif:v7"  # the service's own namespace (types, operations, faults)
XML_MEDIA_TYPE = "text/xml; charset=utf-8"
MAX_ENVELOPE_BYTES = 64 * 1024  # the core's message limit: no request of ours comes near
_MAX_DEPTH = 24
_DOCTYPE = re.compile(rb"<!\s*doctype", re.IGNORECASE)
_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


@dataclass(eq=False)
class SoapFault(Exception):
    """A SOAP fault: ``code`` is the vendor's error code (``CL-SEC-0102``), ``side`` the
    SOAP 1.1 faultcode (``Client`` or ``Server``), ``status`` the HTTP status it goes with."""

    status: int
    code: str
    message: str
    side: str = "Client"
    field: str | None = None
    retry_after_s: int | None = None
    extra: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)} if self.retry_after_s else {}


@dataclass(frozen=True, slots=True)
class Envelope:
    operation: str  # the local name of the Body's first element
    body: etree._Element
    header: etree._Element | None

    def text(self, name: str, *, required: bool = True, max_length: int = 64) -> str | None:
        """The text of the operation's child ``name`` (any namespace), stripped and bounded."""
        node = _child(self.body, name)
        value = (node.text or "").strip() if node is not None else ""
        if not value:
            if required:
                raise SoapFault(400, "CL-REQ-0202", f"{name} is required", field=name)
            return None
        if len(value) > max_length:
            raise SoapFault(
                400, "CL-REQ-0202", f"{name} is longer than {max_length} characters", field=name
            )
        return value

    def header_text(self, block: str, name: str) -> str | None:
        if self.header is None:
            return None
        holder = _child(self.header, block)
        node = _child(holder, name) if holder is not None else None
        value = (node.text or "").strip() if node is not None else ""
        return value[:256] or None


def _child(parent: etree._Element, name: str) -> etree._Element | None:
    for child in parent:
        if isinstance(child.tag, str) and etree.QName(child).localname == name:
            return child
    return None


def _malformed(message: str) -> SoapFault:
    return SoapFault(400, "CL-REQ-0201", message, field="Envelope")


def parse_envelope(raw: bytes) -> Envelope:
    """The operation a SOAP 1.1 request asks for, or a ``SoapFault`` saying why not."""
    if not raw.strip():
        raise _malformed("the request has no body; send a SOAP 1.1 envelope")
    if len(raw) > MAX_ENVELOPE_BYTES:
        raise SoapFault(
            413, "CL-REQ-0413", f"the envelope is larger than {MAX_ENVELOPE_BYTES} bytes"
        )
    if _DOCTYPE.search(raw):
        raise _malformed("document type declarations are not accepted")
    try:
        root = etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else 1
        raise _malformed(f"the request is not well-formed XML (line {line})") from None
    except ValueError:  # a str with an encoding declaration, or bytes lxml cannot take
        raise _malformed("the request is not well-formed XML") from None
    if _deeper_than(root, _MAX_DEPTH):
        raise _malformed(f"the envelope nests deeper than {_MAX_DEPTH} levels")
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise _malformed("the root element is not a SOAP 1.1 Envelope")
    header = root.find(f"{{{SOAP_ENV}}}Header")
    body = root.find(f"{{{SOAP_ENV}}}Body")
    if body is None:
        raise _malformed("the Envelope has no Body")
    operations = [child for child in body if isinstance(child.tag, str)]
    if len(operations) != 1:
        raise _malformed("the Body must hold exactly one operation element")
    operation = operations[0]
    if etree.QName(operation).namespace != NS:
        raise SoapFault(400, "CL-REQ-0203", f"the operation is not in the {NS} namespace")
    return Envelope(etree.QName(operation).localname, operation, header)


def _deeper_than(root: etree._Element, limit: int) -> bool:
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in node)
    return False


def _element(parent: etree._Element, name: str, value: Any) -> None:
    """``value`` as ``<cl:name>``: a mapping becomes children, a list repeats the element's
    children (``{"Account": [...]}``), None is left out."""
    if value is None:
        return
    node = etree.SubElement(parent, f"{{{NS}}}{name}")
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if isinstance(inner, list):
                for item in inner:
                    _element(node, key, item)
            else:
                _element(node, key, inner)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    else:
        node.text = str(value)


def _envelope() -> tuple[etree._Element, etree._Element]:
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "cl": NS})
    return root, etree.SubElement(root, f"{{{SOAP_ENV}}}Body")


def _bytes(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def response_xml(operation: str, content: Mapping[str, Any]) -> bytes:
    """``<cl:{operation}Response>`` holding ``content`` (document/literal wrapped)."""
    root, body = _envelope()
    _element(body, f"{operation}Response", dict(content))
    return _bytes(root)


def fault_xml(fault: SoapFault) -> bytes:
    root, body = _envelope()
    node = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(node, "faultcode").text = f"soap:{fault.side}"
    etree.SubElement(node, "faultstring").text = fault.message
    detail = etree.SubElement(node, "detail")
    _element(
        detail,
        "FaultDetail",
        {
            "ErrorCode": fault.code,
            "Message": fault.message,
            "Field": fault.field,
            "RetryAfterSeconds": fault.retry_after_s,
            **fault.extra,
        },
    )
    return _bytes(root)
