"""DynamoDB's error body and media type, and a route class that renders ``DynamoError``.

DynamoDB answers ``application/x-amz-json-1.0`` with ``{"__type": "<namespace>#<Code>",
"message": "..."}``; botocore takes the code from the part after ``#``. Client errors are
400 whatever they are (a failed condition, a throttle, a validation error); only server
errors use 5xx. Messages name the parameter at fault and never repeat its value (DynamoDB
itself often quotes it).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AMZ_JSON",
    "AmzJsonResponse",
    "DynamoError",
    "DynamoErrorBody",
    "DynamoErrorRoute",
    "dynamo_error_body",
]

AMZ_JSON = "application/x-amz-json-1.0"
DYNAMO = "com.amazonaws.dynamodb.v20120810"
CORAL = "com.amazon.coral.service"
# Codes in the service-wide namespace rather than DynamoDB's own.
_CORAL_CODES = frozenset(
    {
        "MissingAuthenticationTokenException",
        "UnknownOperationException",
        "SerializationException",
        "ExpiredTokenException",
        "UnrecognizedClientException",
        "ThrottlingException",
        "ValidationException",
        "ServiceUnavailableException",
    }
)


def dynamo_error_body(code: str, message: str) -> dict[str, Any]:
    namespace = CORAL if code in _CORAL_CODES else DYNAMO
    return {"__type": f"{namespace}#{code}", "message": message}


class AmzJsonResponse(JSONResponse):
    media_type = AMZ_JSON


class DynamoError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.body = dynamo_error_body(code, message)

    @classmethod
    def validation(cls, message: str) -> DynamoError:
        return cls("ValidationException", message)

    @classmethod
    def no_table(cls) -> DynamoError:
        return cls("ResourceNotFoundException", "Requested resource not found: Table not found")


class DynamoErrorRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def rendering_dynamo_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except DynamoError as exc:
                return AmzJsonResponse(
                    exc.body, status_code=exc.status, headers={"x-amzn-ErrorType": exc.code}
                )

        return rendering_dynamo_errors


class DynamoErrorBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    type_: str = Field(..., alias="__type", description="<namespace>#<ErrorCode>")
    message: str
