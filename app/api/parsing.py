"""Reading JSON request bodies: malformed or too deeply nested JSON is a 400, never a 500.

Python's json module gives up on deep nesting (1,000 `[`) with a RecursionError, which is no
ValueError: left alone it escapes every "invalid JSON" handler as a 500. Both readers of
request JSON (flask-smorest's argument parser for the API, Flask's `request.get_json` for the
rest, such as the rate limits' key) turn it into invalid JSON here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Blueprint
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import BadRequest

INVALID_JSON = "The request body is not valid JSON (or nests arrays and objects too deeply)."


def loads_body(data: bytes | str, loads: Callable[..., Any] = core.parse_json, **kwargs) -> Any:
    """Decode a request body with `loads`. Raises json.JSONDecodeError (a ValueError) for
    what it cannot decode, including nesting too deep to decode."""
    try:
        return loads(data, **kwargs)
    except RecursionError as exc:
        raise json.JSONDecodeError("Nested too deeply", "<body>", 0) from exc


class BodyJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading through loads_body: `request.get_json()` answers 400 (and
    `get_json(silent=True)` None) for a body nested too deeply."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_body(s, super().loads, **kwargs)


class ArgumentsParser(FlaskParser):
    """webargs' Flask parser, reading bodies with loads_body and saying what went wrong."""

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return core.missing
        return loads_body(req.get_data(cache=True))

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        exc = BadRequest(INVALID_JSON)
        exc.data = {"messages": {"json": [INVALID_JSON]}}
        raise exc from error


class ApiBlueprint(Blueprint):
    """A flask-smorest blueprint whose @arguments read JSON through ArgumentsParser."""

    ARGUMENTS_PARSER = ArgumentsParser()
