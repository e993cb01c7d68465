"""Statement parameters bound by name, so that a statement's SQL text is the same for any
values: compiled reads (app.compiler) build and compile such a statement once per shape
and bind only the values per request."""

from typing import Any

import sqlalchemy as sa


class Binds:
    """The named parameters a statement is built with, their values, and its shape.

    Whatever changes the statement's text records itself here: each parameter by name
    (the call), each term that has no value by `term`. Two statements built by the same
    code with equal `shape`s therefore have the same text, whatever the `values`.
    `prefix` keeps apart the parameters of two pages one statement reads. No name ends
    in `_` and digits, the form of SQLAlchemy's anonymous parameters (`status_1`), which
    a parameter of the same name would clash with.
    """

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.values: dict[str, Any] = {}
        self.shape: list[str] = []

    def __call__(
        self, name: str, type_: sa.types.TypeEngine[Any], value: Any
    ) -> sa.BindParameter[Any]:
        """`value`, bound as `type_` (a column's type, so that it is processed as the
        column's values are) under `prefix` + `name`."""
        key = self.prefix + name
        self.values[key] = value
        self.shape.append(name)
        return sa.bindparam(key, value, type_=type_)

    def term(self, name: str) -> None:
        """A term without a value: only its presence is in the text."""
        self.shape.append(name)
