"""A session's fields are declared once, in the model; every other list follows it or
fails here when it drifts.

The GraphQL type is the one list written out by hand besides the model (it carries the
descriptions), so these tests hold it, and the input types, to the model's columns.
"""

import sqlalchemy as sa
from graphql import (
    GraphQLInputObjectType,
    GraphQLNonNull,
    GraphQLObjectType,
    build_schema,
)

from app.models import Session
from app.schema import sdl

SCHEMA = build_schema(sdl())
COLUMNS: dict[str, sa.Column] = {column.key: column for column in Session.__table__.columns}  # type: ignore[attr-defined]
# Bookkeeping of the waitlist's order, never shown to a client.
INTERNAL_COLUMNS = {"waitlist_tickets"}
# Fields that are the caller's view of a session rather than a column of it.
VIEW_FIELDS = {"isRegistered", "registrationStatus", "waitlistPosition"}
# Fields made from the id, not stored: where the session's calendar file is.
DERIVED_FIELDS = {"calendarUrl"}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def object_type(name: str) -> GraphQLObjectType:
    found = SCHEMA.type_map[name]
    assert isinstance(found, GraphQLObjectType)
    return found


def input_type(name: str) -> GraphQLInputObjectType:
    found = SCHEMA.type_map[name]
    assert isinstance(found, GraphQLInputObjectType)
    return found


def test_every_public_column_is_a_session_field_with_the_same_nullability() -> None:
    fields = object_type("Session").fields
    for name, column in COLUMNS.items():
        if name in INTERNAL_COLUMNS:
            assert camel(name) not in fields
            continue
        field = fields[camel(name)]
        assert isinstance(field.type, GraphQLNonNull) == (not column.nullable), name


def test_the_session_type_adds_only_the_callers_view_and_derived_urls_to_the_columns() -> None:
    columns = {camel(name) for name in COLUMNS}

    assert set(object_type("Session").fields) - columns == VIEW_FIELDS | DERIVED_FIELDS


def test_create_and_update_inputs_set_columns_and_match_the_rules_data() -> None:
    from dataclasses import fields

    from app.resolvers.sessions import NewSession, SessionChanges

    for graphql_name, data in (
        ("CreateSessionInput", NewSession),
        ("UpdateSessionInput", SessionChanges),
    ):
        names = [spec.name for spec in fields(data)]
        assert set(input_type(graphql_name).fields) == {camel(name) for name in names}
        assert set(names) <= set(COLUMNS)


def test_an_update_may_clear_exactly_the_nullable_columns() -> None:
    update = input_type("UpdateSessionInput").fields
    clearable = {name for name, column in COLUMNS.items() if column.nullable}

    assert {name for name in COLUMNS if camel(name) in update} & clearable == {"category"}
