"""app.library_internals: the one place that reaches inside Strawberry and graphql-core.

What keeps it true: the installed libraries, pyproject.toml's bounds and
constraints.txt's pins are the releases the module was checked against; no other
module in app/ imports a private or unexported name or reads a private attribute;
the tests its docstring cites exist; and graphql-core still calls the methods the
plain-field shortcut overrides with the arguments the overrides take.
"""

import ast
import importlib
import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

import app.library_internals
from app.library_internals import CHECKED, GeneralExecutionContext
from app.schema.execution import PlainFieldsExecutionContext

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
INTERNALS = APP / "library_internals.py"
LIBRARIES = ("strawberry", "graphql")
# Strawberry's schema builder and type machinery: whatever their `__all__` says, the
# shortcuts depend on how they work inside, so they are imported in one place only.
INTERNAL_MODULES = (
    "strawberry.schema.schema",
    "strawberry.schema.schema_converter",
    "strawberry.types.arguments",
    "strawberry.types.base",
    "strawberry.types.enum",
    "strawberry.types.field",
)


def _next_minor(minor: str) -> str:
    major, number = minor.split(".")
    return f"{major}.{int(number) + 1}"


@pytest.mark.parametrize("library", sorted(CHECKED))
def test_the_installed_library_is_the_minor_the_internals_were_checked_against(
    library: str,
) -> None:
    minor, release = CHECKED[library]
    installed = Version(version(library))
    assert f"{installed.major}.{installed.minor}" == minor
    assert installed >= Version(release)


@pytest.mark.parametrize("library", sorted(CHECKED))
def test_pyproject_bounds_the_library_to_the_checked_minor(library: str) -> None:
    minor, release = CHECKED[library]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(line) for line in project["dependencies"]]
    declared = [r for r in requirements if r.name == library]
    assert len(declared) == 1, f"{library} is not declared once in pyproject.toml"
    bounds = {str(specifier) for specifier in declared[0].specifier}
    assert bounds == {f">={release}", f"<{_next_minor(minor)}"}


@pytest.mark.parametrize("library", sorted(CHECKED))
def test_constraints_pin_the_checked_release(library: str) -> None:
    _, release = CHECKED[library]
    pins = (ROOT / "constraints.txt").read_text().split()
    assert f"{library}=={release}" in pins


def _library_imports(tree: ast.Module) -> list[tuple[int, str, str]]:
    """(line, module, name) for every name imported from Strawberry or graphql-core."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in LIBRARIES:
                found += [(node.lineno, node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in LIBRARIES:
                    module, _, name = alias.name.rpartition(".")
                    found.append((node.lineno, module or name, name))
    return found


def _refusal(module_name: str, name: str) -> str | None:
    if any(part.startswith("_") for part in [*module_name.split("."), name]):
        return "private"
    if module_name in INTERNAL_MODULES:
        return "from Strawberry's internals"
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    if exported is not None and name != module_name and name not in exported:
        return "unexported"
    return None


def _private_attributes(tree: ast.Module) -> list[tuple[int, str]]:
    """`x._name` where x is not self or cls: another object's private attribute."""
    return [
        (node.lineno, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"})
    ]


def test_no_other_module_imports_a_private_or_unexported_library_name() -> None:
    offences = []
    for path in sorted(APP.rglob("*.py")):
        if path == INTERNALS:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        where = path.relative_to(ROOT)
        for line, module, name in _library_imports(tree):
            refusal = _refusal(module, name)
            if refusal:
                offences.append(f"{where}:{line}: {module}.{name} is {refusal}")
        offences += [f"{where}:{line}: reads {attr}" for line, attr in _private_attributes(tree)]
    assert offences == [], "import these through app.library_internals"


def test_the_check_refuses_what_the_internals_module_imports() -> None:
    """The rule above is not vacuous: the module's own imports would break it."""
    tree = ast.parse(INTERNALS.read_text())
    refused = {name for _, module, name in _library_imports(tree) if _refusal(module, name)}
    assert {
        "StrawberryGraphQLCoreExecutionContext",
        "DEFAULT_ALLOWED_OPERATION_TYPES",
        "EnterLeaveVisitor",
        "ConnectionRejectionError",
        "StrawberryMaybe",
    } <= refused
    assert [attribute for _, attribute in _private_attributes(tree)] == ["_schema"]


def test_every_test_the_docstring_cites_exists() -> None:
    doc = app.library_internals.__doc__ or ""
    cited = re.findall(r"(tests/[\w/]+\.py)::(\w+)", doc)
    assert {path for path, _ in cited} >= {
        "tests/unit/test_plain_fields.py",
        "tests/api/test_plain_fields_api.py",
        "tests/unit/test_input_plans.py",
    }
    for path, name in cited:
        source = (ROOT / path).read_text()
        assert re.search(rf"^(async )?def {name}\(", source, re.MULTILINE), f"{path}::{name}"


@pytest.mark.parametrize("method", ["execute_fields", "execute_field"])
def test_the_shortcut_overrides_take_the_arguments_graphql_core_passes(method: str) -> None:
    general = inspect.signature(getattr(GeneralExecutionContext, method))
    shortcut = inspect.signature(getattr(PlainFieldsExecutionContext, method))
    assert list(shortcut.parameters) == list(general.parameters)
