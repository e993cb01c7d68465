"""The API's name for a Python name: the GraphQL schema's own conversion (camelCase).

The schema is built with this converter (app.schema.build_schema), so an error naming
`hostId`, a REST key translated to a variable and the schema's field all agree.
"""

from strawberry.schema.name_converter import NameConverter

NAMES = NameConverter()


def api_name(python_name: str) -> str:
    return NAMES.apply_naming_config(python_name)
