"""Caller preferences in a DynamoDB-shaped document store (JSON 1.0 over POST, one operation
per ``X-Amz-Target``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from mocks.docstore.errors import DynamoError, dynamo_error_body
from mocks.docstore.expressions import Expressions, Node, get_path, holds
from mocks.docstore.store import Table, preference_tables
from mocks.docstore.throughput import Bucket
from mocks.docstore.updates import apply_update
from mocks.docstore.values import Item, check_item
from mocks.platform.service import AuthFailure, MockService, SystemContext

__all__ = ["OPERATIONS", "TARGET_PREFIX", "DocstoreService"]

TARGET_PREFIX = "DynamoDB_20120810."
READS = ("GetItem", "Query", "DescribeTable", "ListTables")
WRITES = ("PutItem", "UpdateItem", "DeleteItem")
OPERATIONS = (*READS, *WRITES)
REGION, ACCOUNT = "us-east-1", "000000000000"
MAX_QUERY_LIMIT = 1000
MAX_NEW_ITEMS = 100_000  # a bound on the mock's memory, not DynamoDB's (it has none)
_LEGACY = ("Expected", "AttributeUpdates", "KeyConditions", "QueryFilter", "AttributesToGet")
_THROTTLED = (
    "The level of configured provisioned throughput for the table was exceeded. Consider "
    "increasing your provisioning level with the UpdateTable API."
)
_RETURNS = {
    "PutItem": ("NONE", "ALL_OLD"),
    "DeleteItem": ("NONE", "ALL_OLD"),
    "UpdateItem": ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"),
}


class DocstoreService(MockService):
    name = "docstore"
    title = "Document store"
    vendor = "Amazon DynamoDB API 2012-08-10"
    summary = (
        "Caller preferences (language, contact channel, quiet hours, consent) in a DynamoDB-"
        "shaped store: POST /docstore/ with X-Amz-Target DynamoDB_20120810.<Operation> and "
        "a JSON 1.0 body. GetItem, PutItem, UpdateItem, DeleteItem, Query (and the by_phone "
        "index), DescribeTable, ListTables; condition, update, key-condition, filter and "
        "projection expressions; ConditionalCheckFailedException and "
        "ProvisionedThroughputExceededException as 400s with AWS's {__type, message}. "
        "SigV4 headers must be present; signatures are not verified."
    )
    error_media_type = "application/x-amz-json-1.0"

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        self.tables = preference_tables(ctx.dataset)
        self.buckets = self._buckets()

    def _buckets(self) -> dict[str, tuple[Bucket, Bucket]]:
        clock = self.ctx.clock
        return {
            name: (Bucket(clock, table.read_units), Bucket(clock, table.write_units))
            for name, table in self.tables.items()
        }

    def reset(self) -> None:
        super().reset()
        self.tables = preference_tables(self.ctx.dataset)
        self.buckets = self._buckets()

    def set_throughput(self, table_name: str, reads: int | None, writes: int | None) -> None:
        table = self.tables[table_name]
        table.read_units = reads or table.read_units
        table.write_units = writes or table.write_units
        self.buckets[table_name] = (
            Bucket(self.ctx.clock, table.read_units),
            Bucket(self.ctx.clock, table.write_units),
        )

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        """SigV4's headers must be there; the signature itself is not checked (any access
        key and secret work, as with DynamoDB Local)."""
        authorization = headers.get("authorization", "")
        signed = authorization.startswith("AWS4-HMAC-SHA256 ") and "Credential=" in authorization
        if signed and headers.get("x-amz-date"):
            return None
        return AuthFailure(400, "missing_token", "Request is missing Authentication Token")

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> Any:
        if reason == "missing_token":
            return dynamo_error_body("MissingAuthenticationTokenException", message)
        if reason == "unauthorized":
            return dynamo_error_body(
                "ExpiredTokenException", "The security token included in the request is expired"
            )
        if reason == "rate_limited":
            return dynamo_error_body(
                "ThrottlingException", "Rate of requests exceeds the allowed throughput."
            )
        if reason == "not_found":
            return dynamo_error_body("UnknownOperationException", "No operation serves this path")
        if reason in ("invalid_request", "payload_too_large"):
            where = f" ({field})" if field else ""
            return dynamo_error_body("SerializationException", f"{message}{where}")
        if status >= 500:
            code = "ServiceUnavailableException" if status == 503 else "InternalServerError"
            return dynamo_error_body(code, message)
        return dynamo_error_body("ValidationException", message)

    # -- the one entry point --------------------------------------------------------

    def handle(self, target: str | None, raw: bytes) -> dict[str, Any]:
        operation = (target or "").removeprefix(TARGET_PREFIX)
        if not target or not target.startswith(TARGET_PREFIX) or operation not in OPERATIONS:
            raise DynamoError(
                "UnknownOperationException", "The operation is not one this store serves"
            )
        body = _body(raw)
        for name in _LEGACY:
            if name in body:
                raise DynamoError.validation(
                    f"{name} is a legacy parameter; this store takes expressions only"
                )
        method: Callable[[dict[str, Any]], dict[str, Any]] = getattr(self, f"_{operation}")
        return method(body)

    def _table(self, body: Mapping[str, Any], writing: bool) -> Table:
        name = body.get("TableName")
        if not isinstance(name, str) or not 3 <= len(name) <= 255:
            raise DynamoError.validation("TableName must be text of 3 to 255 characters")
        table = self.tables.get(name)
        if table is None:
            raise DynamoError.no_table()
        if not self.buckets[name][1 if writing else 0].take():
            self.ctx.chaos.stats.count_fault(self.name, "throughput_exceeded")
            raise DynamoError("ProvisionedThroughputExceededException", _THROTTLED)
        return table

    # -- reads ----------------------------------------------------------------------

    def _ListTables(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"TableNames": sorted(self.tables)}

    def _DescribeTable(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"Table": self._table(body, False).describe(REGION, ACCOUNT)}

    def _GetItem(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body, False)
        names = Expressions.of(body)
        projection = _projection(names, body)
        names.finish()
        item = table.items.get(table.slot(_key(table, body)))
        answer = _consumed(table, body)
        if item is not None:
            answer["Item"] = _projected(item, projection)
        return answer

    def _Query(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body, False)
        context = Expressions.of(body)
        key_name, sort_name = table.keys[0], table.range_key
        index = body.get("IndexName")
        if index is not None:
            if not table.index or index != table.index[0]:
                raise DynamoError.validation("The table does not have the specified index")
            key_name, sort_name = table.index[1], None
        key_condition = context.condition(
            body.get("KeyConditionExpression"), "KeyConditionExpression"
        )
        _check_key_condition(key_condition, key_name, sort_name)
        filtering = body.get("FilterExpression")
        filter_node = context.condition(filtering, "FilterExpression") if filtering else None
        projection = _projection(context, body)
        context.finish()
        limit = _limit(body.get("Limit"))
        backwards = body.get("ScanIndexForward") is False
        matched = sorted(
            (item for item in table.items.values() if holds(key_condition, item)),
            key=table.slot,
            reverse=backwards,
        )
        matched = _after(table, matched, body.get("ExclusiveStartKey"), backwards)
        page = matched[:limit]
        kept = [item for item in page if filter_node is None or holds(filter_node, item)]
        answer = _consumed(table, body) | {"Count": len(kept), "ScannedCount": len(page)}
        if body.get("Select") != "COUNT":
            answer["Items"] = [_projected(item, projection) for item in kept]
        if len(matched) > limit and page:
            answer["LastEvaluatedKey"] = {k: page[-1][k] for k in table.keys}
        return answer

    # -- writes: DynamoDB's own safety is the conditional write -----------------------

    def _PutItem(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body, True)
        item = check_item(body.get("Item"), "Item")
        key = _key(table, {"Key": {k: item[k] for k in table.keys if k in item}})
        return self._write(table, body, key, lambda _old, _actions: dict(item))

    def _UpdateItem(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body, True)
        key = _key(table, body)

        def updated(old: Item | None, actions: list[Node]) -> Item:
            return apply_update({**(old or {}), **key}, actions, table.keys)

        return self._write(table, body, key, updated, "UpdateItem")

    def _DeleteItem(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self._table(body, True)
        key = _key(table, body)
        return self._write(table, body, key, lambda _old, _actions: {}, "DeleteItem")

    def _write(
        self,
        table: Table,
        body: dict[str, Any],
        key: Item,
        change: Callable[[Item | None, list[Node]], Item],
        operation: str = "PutItem",
    ) -> dict[str, Any]:
        returns = body.get("ReturnValues", "NONE")
        if returns not in _RETURNS[operation]:
            raise DynamoError.validation(
                f"ReturnValues must be one of {', '.join(_RETURNS[operation])} for {operation}"
            )
        context = Expressions.of(body)
        actions = context.update(body.get("UpdateExpression")) if operation == "UpdateItem" else []
        condition_text = body.get("ConditionExpression")
        condition: Node | None = None
        if condition_text is not None:
            condition = context.condition(condition_text)
        context.finish()
        slot = table.slot(key)
        old = table.items.get(slot)
        if condition is not None and not holds(condition, old or {}):
            raise _condition_failed(body, old)
        new = change(old, actions)
        if new and old is None and len(table.items) >= table.seeded + MAX_NEW_ITEMS:
            raise DynamoError.validation(
                f"This mock keeps at most {MAX_NEW_ITEMS} new items a table; reset it to add more"
            )
        if new:
            check_item(new, "Item")
            table.items[slot] = new
        else:
            table.items.pop(slot, None)
        self.ledger.record(
            operation, "/".join(part for part in slot if part), None, table=table.name
        )
        return _consumed(table, body) | _returned(returns, old, new)


def _body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DynamoError("SerializationException", "The request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise DynamoError("SerializationException", "The request body must be a JSON object")
    return body


def _key(table: Table, body: Mapping[str, Any]) -> Item:
    key = body.get("Key")
    if not isinstance(key, dict) or set(key) != set(table.keys):
        raise DynamoError.validation("The provided key element does not match the schema")
    for name in table.keys:
        value = key[name]
        if not isinstance(value, dict) or list(value) != ["S"] or not isinstance(value["S"], str):
            raise DynamoError.validation("The provided key element does not match the schema")
        if not 0 < len(value["S"]) <= 2048:
            raise DynamoError.validation(
                "One or more parameter values are not valid: a key string takes 1 to 2048 "
                "characters"
            )
    return dict(key)


def _check_key_condition(node: Node, key_name: str, sort_name: str | None) -> None:
    parts = [node[1], node[2]] if node[0] == "and" else [node]
    keyed = [p for p in parts if p[0] == "cmp" and p[1] == "=" and p[2] == ("path", (key_name,))]
    others = [p for p in parts if p not in keyed[:1]]
    sorted_ok = all(
        sort_name is not None
        and p[0] in ("cmp", "between", "begins_with")
        and (p[2] if p[0] == "cmp" else p[1]) == ("path", (sort_name,))
        and (p[0] != "cmp" or p[1] != "<>")
        for p in others
    )
    if len(parts) > 2 or not keyed or not sorted_ok:
        raise DynamoError.validation(
            "Query condition missed key schema element: the partition key needs an equality, "
            "and only the sort key may have one more condition"
        )


def _projection(context: Expressions, body: Mapping[str, Any]) -> list[tuple[Any, ...]] | None:
    text = body.get("ProjectionExpression")
    return None if text is None else context.projection(text)


def _projected(item: Item, paths: list[tuple[Any, ...]] | None) -> Item:
    if paths is None:
        return item
    return {str(p[0]): item[str(p[0])] for p in paths if get_path(item, p) is not None}


def _limit(value: Any) -> int:
    if value is None:
        return MAX_QUERY_LIMIT
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUERY_LIMIT:
        raise DynamoError.validation(f"Limit must be a whole number from 1 to {MAX_QUERY_LIMIT}")
    return value


def _after(table: Table, items: list[Item], start: Any, backwards: bool) -> list[Item]:
    """The items past ``ExclusiveStartKey`` (the last key of the previous page)."""
    if start is None:
        return items
    slot = table.slot(_key(table, {"Key": start}))
    return [
        item
        for item in items
        if (table.slot(item) < slot if backwards else table.slot(item) > slot)
    ]


def _consumed(table: Table, body: Mapping[str, Any]) -> dict[str, Any]:
    if body.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES"):
        return {"ConsumedCapacity": {"TableName": table.name, "CapacityUnits": 1.0}}
    return {}


def _returned(returns: str, old: Item | None, new: Item) -> dict[str, Any]:
    if returns == "ALL_OLD" and old:
        return {"Attributes": old}
    if returns == "ALL_NEW" and new:
        return {"Attributes": new}
    if returns in ("UPDATED_OLD", "UPDATED_NEW"):
        before, after = old or {}, new
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        source = before if returns == "UPDATED_OLD" else after
        kept = {k: source[k] for k in changed if k in source}
        return {"Attributes": kept} if kept else {}
    return {}


def _condition_failed(body: Mapping[str, Any], old: Item | None) -> DynamoError:
    error = DynamoError("ConditionalCheckFailedException", "The conditional request failed")
    if body.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old:
        error.body["Item"] = old
    return error
