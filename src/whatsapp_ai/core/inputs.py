"""The one rule for text that comes in through the API: no control characters.

NUL cannot be stored in PostgreSQL text, and the other C0/C1 control characters are never part
of a name, an e-mail or a note: each is a 422 naming the field. Free text (message bodies,
notes, descriptions, reasons) may also hold new lines and tabs: ``Annotated[str, FREE_TEXT]``.

Every request body derives from :class:`Input`, whose one validator checks every text inside
it (lists and mappings included); :func:`plain_query_and_path`, a dependency of the whole
application, holds query and path values to the same rule, and :data:`PlainText` form fields.
"""

from __future__ import annotations

import functools
import re
import typing
from typing import Annotated, Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo, field_validator

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_EXCEPT_LAYOUT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # \t and \n allowed


class _FreeTextMarker:
    """Marks a text field where new lines and tabs are welcome."""

    def __repr__(self) -> str:
        return "FreeText"


FREE_TEXT = _FreeTextMarker()


def check_text(value: str, *, free_text: bool = False) -> str:
    """``value`` when it holds no control character (\\t and \\n allowed in free text)."""
    found = (_CONTROL_EXCEPT_LAYOUT if free_text else _CONTROL).search(value)
    if found is None:
        return value
    where = "" if free_text else " (new lines and tabs only in free text)"
    raise ValueError(f"control character U+{ord(found.group()):04X} is not allowed{where}")


def _check_any(value: Any, free_text: bool) -> None:
    if isinstance(value, str):
        check_text(value, free_text=free_text)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_any(key, False)
            _check_any(item, free_text)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_any(item, free_text)
    elif isinstance(value, BaseModel) and not isinstance(value, Input):
        # A shape from elsewhere (e.g. a provider's settings) inside a request body.
        for item in value.__dict__.values():
            _check_any(item, False)


def _marked(annotation: Any) -> bool:
    if typing.get_origin(annotation) is Annotated and any(
        meta is FREE_TEXT for meta in annotation.__metadata__
    ):
        return True
    return any(_marked(arg) for arg in typing.get_args(annotation))


@functools.cache
def _is_free_text(model: type[BaseModel], field: str) -> bool:
    info = model.model_fields[field]
    return any(meta is FREE_TEXT for meta in info.metadata) or _marked(info.annotation)


class Input(BaseModel):
    """A request body: unknown fields refused, no control characters in any text."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        # Nested models are Inputs themselves and checked by their own validator.
        if info.field_name is not None:
            _check_any(value, _is_free_text(cls, info.field_name))
        return value


# The same rule for a text that is no JSON field (a multipart form's field).
PlainText = Annotated[str, AfterValidator(check_text)]


async def plain_query_and_path(request: Request) -> None:
    """No control characters in query or path values either: a 422 naming each one."""
    sent = [("path", name, value) for name, value in request.path_params.items()]
    sent += [("query", name, value) for name, value in request.query_params.multi_items()]
    errors = []
    for where, name, value in sent:
        try:
            check_text(str(value))
        except ValueError as exc:
            errors.append({"loc": (where, name), "msg": str(exc), "type": "value_error"})
    if errors:
        raise RequestValidationError(errors)
