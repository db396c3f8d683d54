"""The product never imports the experiments, and its modules import each other without loops."""

import ast
from pathlib import Path

import pytest

TRAINING = Path(__file__).resolve().parent.parent / "training"


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function (``from training import
    x`` counts as ``training.x``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def module_name(path: Path) -> str:
    """``training/steps/tta.py`` → ``training.steps.tta``."""
    return ".".join(path.relative_to(TRAINING.parent).with_suffix("").parts)


MODULES = {
    module_name(path): imports_of(path)
    for path in sorted(TRAINING.rglob("*.py"))
    if path.stem != "__init__"
}
PACKAGES = sorted(TRAINING.rglob("__init__.py"))


def test_training_is_grouped_by_stage():
    """Every module sits in its stage's package; only the release chain stays at the top."""
    top = {path.stem for path in TRAINING.glob("*.py")} - {"__init__"}
    assert top == {"release"}
    assert {module_name(path.parent) for path in PACKAGES} == {
        "training",
        "training.inputs",
        "training.fitting",
        "training.steps",
        "training.exporting",
        "training.reporting",
    }


@pytest.mark.parametrize("package", PACKAGES, ids=lambda path: module_name(path.parent))
def test_no_package_re_exports_names(package):
    """A package's ``__init__`` is its docstring only: a module is imported where it lives."""
    body = ast.parse(package.read_text()).body
    assert len(body) == 1 and isinstance(body[0], ast.Expr), package


@pytest.mark.parametrize("module", sorted(MODULES))
def test_training_never_imports_research(module):
    assert not {
        name for name in MODULES[module] if name == "research" or name.startswith("research.")
    }


def test_training_modules_import_each_other_without_loops():
    graph = {
        module: {name for name in imports if name in MODULES and name != module}
        for module, imports in MODULES.items()
    }
    loops = []

    def visit(module, path):
        for other in sorted(graph[module]):
            if other in path:
                loops.append(" → ".join(path[path.index(other) :] + [other]))
            elif other not in done:
                visit(other, path + [other])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert not loops, loops


def test_the_check_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from research.soup import main\n    import research\n")
    assert {"research", "research.soup", "research.soup.main"} <= imports_of(source)
