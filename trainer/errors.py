"""The one error type of the service: an HTTP status, a machine code and a message saying what, where and how to fix."""

from __future__ import annotations

from typing import Any, Dict


class ApiError(Exception):
    """Becomes the JSON body {error: code, message, **extra} with `status`."""

    def __init__(self, status: int, code: str, message: str, headers: Dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra
        self.headers = headers or {}

    def body(self) -> Dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)
