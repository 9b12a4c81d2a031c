"""The layer diagram of docs/architecture.md is the import graph of vcred/ (issue 16).

The ```text layers block lists the layers top (the surface) to bottom (no dependencies), each
``name: module, module …``; a module names its submodules too unless one of them is listed
itself. Every module of vcred/ is in exactly one layer, every listed module exists, and a
module imports (at module level: ``if TYPE_CHECKING`` blocks are types only) nothing from a
layer above its own. Nothing imports vcred modules inside functions (that hides cycles) but
for the one optional dependency named here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "vcred"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
#: (importer, imported) allowed inside a function, and why.
DEFERRED = {
    ("vcred.cli", "vcred._demo"): "vcred demo --library needs rich, the demo extra's",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def diagram() -> list[tuple[str, tuple[str, ...]]]:
    """The layers as documented, top first."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    block = re.search(r"```text layers\n(.*?)```", text, re.DOTALL)
    assert block, "docs/architecture.md needs its ```text layers block"
    layers = []
    for line in block.group(1).splitlines():
        if not line.strip() or line.startswith(" "):
            continue  # blank, or the wrapped description of the line before
        name, _, rest = line.partition(":")
        layers.append((name.strip(), tuple(m.strip() for m in rest.split(",") if m.strip())))
    return layers


def layer_of() -> dict[str, int]:
    """Module → its layer's depth (0: the bottom) by the longest listed prefix."""
    listed = {m: depth for depth, (_, ms) in enumerate(reversed(diagram())) for m in ms}
    found = {}
    for module in MODULES:
        # "vcred" is the package's __init__ alone; any other name covers its submodules
        prefixes = [
            m for m in listed if module == m or (m != "vcred" and module.startswith(m + "."))
        ]
        if prefixes:
            found[module] = listed[max(prefixes, key=len)]
    return found


def _resolve(module: str, node: ast.ImportFrom | ast.Import) -> set[str]:
    """The vcred modules an import statement loads (``from vcred import model`` → vcred.model)."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name.split(".")[0] == "vcred"}
    if node.level:
        is_package = MODULES[module].name == "__init__.py"
        base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
        source = ".".join([*base, *([node.module] if node.module else [])])
    else:
        source = node.module or ""
    if source.split(".")[0] != "vcred":
        return set()
    return {f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source for a in node.names}


def imports(module: str) -> tuple[set[str], set[str]]:
    """(module-level imports, imports inside functions) of ``module``'s vcred modules."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    top: set[str] = set()
    deferred: set[str] = set()

    def visit(node: ast.AST, inside: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return  # types only
        if isinstance(node, ast.Import | ast.ImportFrom):
            (deferred if inside else top).update(_resolve(module, node))
        nested = inside or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for child in ast.iter_child_nodes(node):
            visit(child, nested)

    visit(tree, False)
    return top - {module}, deferred - {module}


def test_every_module_is_in_one_documented_layer() -> None:
    layers = layer_of()
    assert sorted(set(MODULES) - set(layers)) == [], "add these modules to the layer diagram"
    listed = [m for _, ms in diagram() for m in ms]
    assert sorted(m for m in listed if m not in MODULES) == [], "the diagram names no module"
    assert len(listed) == len(set(listed)), "a module is listed in two layers"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_layer_above_its_own(module: str) -> None:
    layers = layer_of()
    names = [name for name, _ in reversed(diagram())]
    top, _ = imports(module)
    upward = sorted(m for m in top if layers.get(m, -1) > layers[module])
    assert upward == [], f"{module} ({names[layers[module]]}) imports from above: " + ", ".join(
        f"{m} ({names[layers[m]]})" for m in upward
    )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_hides_in_a_function(module: str) -> None:
    _, deferred = imports(module)
    assert sorted(m for m in deferred if (module, m) not in DEFERRED) == []


def test_only_the_domain_and_the_surface_import_the_customs_domain() -> None:
    layers = layer_of()
    domain = layers["vcred.customs"]
    importers = sorted(
        module
        for module in MODULES
        if not module.startswith("vcred.customs")
        and any(m.startswith("vcred.customs") for m in imports(module)[0])
    )
    assert all(layers[m] >= domain for m in importers), importers
    assert "vcred.verifier" not in importers and "vcred.jsonld" not in importers


def test_the_checker_sees_an_upward_import() -> None:
    """The test above can fail: the pipeline importing the domain is caught."""
    layers = layer_of()
    assert layers["vcred.verifier"] < layers["vcred.customs"] < layers["vcred.cli"]
    assert "vcred.customs.builders" in imports("vcred.trust")[0]
    assert "vcred.verifier" in imports("vcred.trust")[0]
