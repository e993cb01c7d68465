"""The service's rules, as plain async functions over the database and the caller.

Nothing here knows about HTTP or Strawberry: both transports reach these functions,
and unit tests call them directly (tests/unit/test_rules.py). Field names in errors
are the GraphQL input names.
"""
