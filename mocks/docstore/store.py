"""Tables of items keyed by a partition key and an optional sort key, with one global
secondary index each at most; and the caller preferences they start with.

The ``caller_preferences`` table holds, per customer of the shared dataset, a ``profile``
item (phone, language, preferred channel, quiet hours, consent to record) and one
``channel#<name>`` item per contact channel (opted in or out, the address). An index
``by_phone`` finds a profile by the phone a call comes from. Some profiles carry the gaps a
long-lived store gathers: no language, no quiet hours, a channel item the profile does not
mention.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from mocks.dataset import Customer, Dataset
from mocks.docstore.values import Item

__all__ = ["PREFERENCES_TABLE", "Table", "preference_tables"]

PREFERENCES_TABLE = "caller_preferences"
_LANGUAGES = {"en_US": "en-US", "es_ES": "es-US", "vi_VN": "vi-VN", "zh_CN": "zh-CN"}
_ZONES = {
    "CA": "America/Los_Angeles",
    "WA": "America/Los_Angeles",
    "OR": "America/Los_Angeles",
    "NV": "America/Los_Angeles",
    "AZ": "America/Phoenix",
    "CO": "America/Denver",
    "UT": "America/Denver",
    "TX": "America/Chicago",
    "IL": "America/Chicago",
    "MN": "America/Chicago",
    "MO": "America/Chicago",
    "WI": "America/Chicago",
    "LA": "America/Chicago",
    "TN": "America/Chicago",
}
_QUIET = (("21:00", "08:00"), ("20:00", "09:00"), ("22:00", "07:30"))


@dataclass
class Table:
    name: str
    hash_key: str
    range_key: str | None
    index: tuple[str, str] | None = None  # (index name, its hash key)
    read_units: int = 100
    write_units: int = 50
    seeded: int = 0  # items the table started with
    items: dict[tuple[str, str], Item] = field(default_factory=dict)

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.hash_key, self.range_key) if self.range_key else (self.hash_key,)

    def slot(self, key: Item) -> tuple[str, str]:
        """The item's place; ``key`` already checked against the key schema."""
        second = key[self.range_key]["S"] if self.range_key else ""
        return key[self.hash_key]["S"], second

    def describe(self, region: str, account: str) -> dict[str, Any]:
        attributes = [{"AttributeName": k, "AttributeType": "S"} for k in self.keys]
        schema = [{"AttributeName": self.hash_key, "KeyType": "HASH"}]
        if self.range_key:
            schema.append({"AttributeName": self.range_key, "KeyType": "RANGE"})
        throughput = {"ReadCapacityUnits": self.read_units, "WriteCapacityUnits": self.write_units}
        table: dict[str, Any] = {
            "TableName": self.name,
            "TableStatus": "ACTIVE",
            "TableArn": f"arn:aws:dynamodb:{region}:{account}:table/{self.name}",
            "KeySchema": schema,
            "ItemCount": len(self.items),
            "ProvisionedThroughput": throughput,
        }
        if self.index:
            index_name, index_key = self.index
            attributes.append({"AttributeName": index_key, "AttributeType": "S"})
            table["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index_name,
                    "KeySchema": [{"AttributeName": index_key, "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                    "IndexStatus": "ACTIVE",
                    "ProvisionedThroughput": throughput,
                }
            ]
        table["AttributeDefinitions"] = attributes
        return table


def preference_tables(dataset: Dataset) -> dict[str, Table]:
    rng = random.Random(hashlib.sha256(f"docstore:{dataset.seed}".encode()).digest())
    table = Table(PREFERENCES_TABLE, "customer_id", "pref", index=("by_phone", "phone"))
    stamp = dataset.reference_now
    for customer in dataset.customers:
        for item in _preferences(rng, customer, dataset.truth.locale_of, stamp.isoformat()):
            table.items[table.slot(item)] = item
    table.seeded = len(table.items)
    return {table.name: table}


def _s(text: str) -> dict[str, str]:
    return {"S": text}


def _preferences(
    rng: random.Random, customer: Customer, locales: dict[str, str], stamp: str
) -> list[Item]:
    ident = _s(customer.customer_id)
    profile: Item = {
        "customer_id": ident,
        "pref": _s("profile"),
        "phone": _s(customer.phone_e164),
        "preferred_channel": _s(customer.preferred_channel),
        "consent_to_record": {"BOOL": rng.random() < 0.9},
        "updated_at": _s(stamp),
        "version": {"N": str(rng.randrange(1, 6))},
    }
    if rng.random() < 0.92:  # the rest were created before the field existed
        locale = locales.get(customer.customer_id, "en_US")
        profile["language"] = _s(_LANGUAGES.get(locale, "en-US"))
    if rng.random() < 0.7:
        start, end = rng.choice(_QUIET)
        zone = _ZONES.get(customer.state, "America/New_York")
        profile["quiet_hours"] = {"M": {"start": _s(start), "end": _s(end), "time_zone": _s(zone)}}
    channels = [customer.preferred_channel]
    if rng.random() < 0.3:
        channels.append("email" if customer.preferred_channel != "email" else "sms")
    items = [profile]
    for channel in channels:
        address = customer.email if channel == "email" else customer.phone_e164
        if address is None:
            continue
        items.append(
            {
                "customer_id": ident,
                "pref": _s(f"channel#{channel}"),
                "opted_in": {"BOOL": channel == customer.preferred_channel or rng.random() < 0.5},
                "address": _s(address),
                "updated_at": _s(stamp),
            }
        )
    return items
