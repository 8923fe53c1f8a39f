"""The service description the core serves at ``/core/ws/CustomerService?wsdl``.

WSDL 1.1, SOAP 1.1 over HTTP, document/literal wrapped: each operation's input is one
element named after it, its output one element named ``<operation>Response``. Every
operation but Login takes the ``SessionHeader`` SOAP header with the token Login gave.
Faults carry ``FaultDetail`` (declared here so clients can read the vendor's code).
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from mocks.core.envelope import NS

__all__ = ["OPERATIONS", "SERVICE_PATH", "wsdl_document"]

SERVICE_PATH = "/ws/CustomerService"
OPERATIONS = ("Login", "Logout", "GetCustomerProfile", "GetAccountBalance", "AddContactMemo")
_WITH_SESSION = frozenset(OPERATIONS) - {"Login"}

_TYPES = """
    <xsd:schema targetNamespace="{ns}" elementFormDefault="qualified">
      <xsd:complexType name="Customer">
        <xsd:sequence>
          <xsd:element name="CustomerNumber" type="xsd:string"/>
          <xsd:element name="FirstName" type="xsd:string"/>
          <xsd:element name="LastName" type="xsd:string"/>
          <xsd:element name="Segment" type="xsd:string"/>
          <xsd:element name="KycStatus" type="xsd:string"/>
          <xsd:element name="CustomerSince" type="xsd:date"/>
          <xsd:element name="HomeBranch" type="xsd:string"/>
        </xsd:sequence>
      </xsd:complexType>
      <xsd:complexType name="Account">
        <xsd:sequence>
          <xsd:element name="AccountNumber" type="xsd:string"/>
          <xsd:element name="ProductType" type="xsd:string"/>
          <xsd:element name="Status" type="xsd:string"/>
          <xsd:element name="LedgerBalance" type="xsd:decimal"/>
          <xsd:element name="AvailableBalance" type="xsd:decimal"/>
          <xsd:element name="Currency" type="xsd:string"/>
          <xsd:element name="OpenedOn" type="xsd:date"/>
        </xsd:sequence>
      </xsd:complexType>
      <xsd:complexType name="ArrayOfAccount">
        <xsd:sequence>
          <xsd:element name="Account" type="cl:Account" minOccurs="0" maxOccurs="unbounded"/>
        </xsd:sequence>
      </xsd:complexType>
      <xsd:element name="SessionHeader">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="SessionToken" type="xsd:string"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="FaultDetail">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="ErrorCode" type="xsd:string"/>
          <xsd:element name="Message" type="xsd:string"/>
          <xsd:element name="Field" type="xsd:string" minOccurs="0"/>
          <xsd:element name="RetryAfterSeconds" type="xsd:int" minOccurs="0"/>
          <xsd:element name="WindowEndsAt" type="xsd:dateTime" minOccurs="0"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="Login">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="UserId" type="xsd:string"/>
          <xsd:element name="Password" type="xsd:string"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="LoginResponse">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="SessionToken" type="xsd:string"/>
          <xsd:element name="ExpiresAt" type="xsd:dateTime"/>
          <xsd:element name="TimeoutSeconds" type="xsd:int"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="Logout">
        <xsd:complexType><xsd:sequence/></xsd:complexType>
      </xsd:element>
      <xsd:element name="LogoutResponse">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="Status" type="xsd:string"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="GetCustomerProfile">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="CustomerNumber" type="xsd:string"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="GetCustomerProfileResponse">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="Customer" type="cl:Customer"/>
          <xsd:element name="Accounts" type="cl:ArrayOfAccount"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="GetAccountBalance">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="AccountNumber" type="xsd:string"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="GetAccountBalanceResponse">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="AccountNumber" type="xsd:string"/>
          <xsd:element name="LedgerBalance" type="xsd:decimal"/>
          <xsd:element name="AvailableBalance" type="xsd:decimal"/>
          <xsd:element name="Currency" type="xsd:string"/>
          <xsd:element name="AsOf" type="xsd:dateTime"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="AddContactMemo">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="CustomerNumber" type="xsd:string"/>
          <xsd:element name="MemoText" type="xsd:string"/>
          <xsd:element name="RequestReference" type="xsd:string"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="AddContactMemoResponse">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="MemoId" type="xsd:string"/>
          <xsd:element name="PostedAt" type="xsd:dateTime"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
    </xsd:schema>"""


def _messages() -> str:
    parts = [
        '  <wsdl:message name="SessionHeaderMessage">'
        '<wsdl:part name="SessionHeader" element="cl:SessionHeader"/></wsdl:message>',
        '  <wsdl:message name="FaultMessage">'
        '<wsdl:part name="FaultDetail" element="cl:FaultDetail"/></wsdl:message>',
    ]
    for op in OPERATIONS:
        for suffix in ("", "Response"):
            parts.append(
                f'  <wsdl:message name="{op}{suffix}Message">'
                f'<wsdl:part name="parameters" element="cl:{op}{suffix}"/></wsdl:message>'
            )
    return "\n".join(parts)


def _port_type() -> str:
    ops = "\n".join(
        f'    <wsdl:operation name="{op}"><wsdl:input message="cl:{op}Message"/>'
        f'<wsdl:output message="cl:{op}ResponseMessage"/>'
        f'<wsdl:fault name="CoreFault" message="cl:FaultMessage"/></wsdl:operation>'
        for op in OPERATIONS
    )
    return f'  <wsdl:portType name="CustomerServicePort">\n{ops}\n  </wsdl:portType>'


def _binding() -> str:
    ops = []
    for op in OPERATIONS:
        header = (
            '<soap:header message="cl:SessionHeaderMessage" part="SessionHeader" use="literal"/>'
            if op in _WITH_SESSION
            else ""
        )
        ops.append(
            f'    <wsdl:operation name="{op}">'
            f'<soap:operation soapAction="{NS}#{op}" style="document"/>'
            f'<wsdl:input><soap:body use="literal"/>{header}</wsdl:input>'
            '<wsdl:output><soap:body use="literal"/></wsdl:output>'
            '<wsdl:fault name="CoreFault"><soap:fault name="CoreFault" use="literal"/></wsdl:fault>'
            "</wsdl:operation>"
        )
    body = "\n".join(ops)
    return (
        '  <wsdl:binding name="CustomerServiceBinding" type="cl:CustomerServicePort">\n'
        '    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>\n'
        f"{body}\n  </wsdl:binding>"
    )


def wsdl_document(location: str) -> bytes:
    """The WSDL, its service address set to ``location`` (the URL it was fetched from)."""
    text = f"""<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions name="CustomerService" targetNamespace="{NS}"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:cl="{NS}">
  <wsdl:documentation>CoreLink 7 customer information file: customer master records and
    product holdings. Nightly batch window: the service refuses requests while it runs.
  </wsdl:documentation>
  <wsdl:types>{_TYPES.format(ns=NS)}
  </wsdl:types>
{_messages()}
{_port_type()}
{_binding()}
  <wsdl:service name="CustomerService">
    <wsdl:port name="CustomerServicePort" binding="cl:CustomerServiceBinding">
      <soap:address location={quoteattr(location)}/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""
    return text.encode()
