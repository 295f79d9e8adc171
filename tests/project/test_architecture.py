"""The house rules a reviewer checks by hand, checked by the suite: small modules, no import
cycles (imports inside functions count: they run too), provider names only under ``providers/``,
every exception in ``errors.py``, storage never importing presentation, and test files that share
code through helpers rather than through each other. Each rule holds for the whole tree, with no
exceptions listed; the last two tests check that the finders can fail.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]  # runs as a script too, so not helpers.ROOT
PACKAGE = ROOT / "src" / "promptpaint"
MAX_LINES = 400
PROVIDER_NAMES = ("openai", "gemini")

# Layers that must not import each other: storage never imports presentation.
STORAGE = ("promptpaint.ledger", "promptpaint.store")
PRESENTATION = ("promptpaint.display", "promptpaint.studio", "promptpaint.session", "promptpaint.cli",
                "promptpaint.sweepgrid", "promptpaint.progress")


# -- reading the package ----------------------------------------------------------------------------

def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def _resolve(module: str, path: Path, node: ast.ImportFrom | ast.Import) -> set[str]:
    """The package modules one import statement loads, wherever in the file it stands."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".")
            # A package's __init__ is its own package; a plain module's package is its parent.
            if path.name != "__init__.py":
                base = base[:-1]
            base = base[:len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        # `from pkg import sub` loads pkg.sub when sub is a module, else an attribute of pkg.
        names = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in MODULES else prefix for a in node.names]
    found = set()
    for name in names:
        # `import promptpaint.ledger.sqlite` counts as an import of that module (the longest known).
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


def _runtime_nodes(tree: ast.AST):
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges = set()
        # Every import that runs: module level or inside a function. Imports under `if TYPE_CHECKING:`
        # never run (the package uses postponed annotations), so they make no cycle.
        for node in _runtime_nodes(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges |= _resolve(module, path, node)
        graph[module] = edges
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively: every component of more than one module is a cycle."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        out.append(component)
    return out


def a_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """One concrete loop through ``component``, to print: a -> b -> ... -> a."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:  # breadth first: the shortest way back to start
        node = queue.pop(0)
        for child in sorted(graph[node] & component):
            if child == start:
                return paths[node] + [start]
            if child not in paths:
                paths[child] = paths[node] + [child]
                queue.append(child)
    return sorted(component)


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def provider_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant naming a provider, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            low = node.value.lower()
            if any(name in low for name in PROVIDER_NAMES):
                hits.append((node.lineno, node.value))
    return sorted(hits)


# -- the checks -----------------------------------------------------------------------------------

def test_no_module_over_the_line_limit():
    lengths = {_rel(p): len(p.read_text(encoding="utf-8").splitlines()) for p in MODULES.values()}
    long = sorted(f"{m} ({n})" for m, n in lengths.items() if n > MAX_LINES)
    assert not long, f"over {MAX_LINES} lines (split by job): {', '.join(long)}"


def test_no_import_cycles():
    graph = import_graph()
    cycles = strongly_connected(graph)
    assert not cycles, "import cycles (imports inside functions count):\n" + "\n".join(
        "  " + " -> ".join(a_cycle(graph, c)) for c in cycles)


def test_provider_names_only_under_providers():
    found = {_rel(path): hits for module, path in MODULES.items()
             if not module.startswith("promptpaint.providers") and (hits := provider_literals(path))}
    assert not found, "provider names outside providers/ (ask the provider through its hooks):\n" + "\n".join(
        f"  {m}:{line}: {text[:60]!r}" for m, hits in sorted(found.items()) for line, text in hits)


def _exception_classes(path: Path) -> list[str]:
    """Classes in ``path`` whose bases include a builtin exception or one of errors.py's classes."""
    from promptpaint import errors

    ours = set(errors.__all__)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):  # private control flow
            for base in node.bases:
                name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
                kind = getattr(builtins, name, None)
                if name in ours or isinstance(kind, type) and issubclass(kind, BaseException):
                    found.append(node.name)
                    break
    return found


def test_every_exception_and_warning_is_defined_in_errors_py():
    stray = sorted(f"{_rel(p)}: {cls}" for m, p in MODULES.items() if m != "promptpaint.errors"
                   for cls in _exception_classes(p))
    assert not stray, f"define these in errors.py (re-export at the old path): {stray}"


def _inside(module: str, layers) -> bool:
    return any(module == layer or module.startswith(layer + ".") for layer in layers)


def test_storage_never_imports_presentation():
    graph = import_graph()
    wrong = sorted(f"{m} -> {t}" for m, targets in graph.items() if _inside(m, STORAGE)
                   for t in targets if _inside(t, PRESENTATION))
    assert not wrong, f"storage imports presentation: {wrong}"


def test_no_test_file_imports_another():
    # What two test files share lives in a helper module or a fixture; a test file imported by
    # another runs its module-level code twice and ties the two files' fixtures together.
    tests = ROOT / "tests"
    names = {p.stem for p in tests.rglob("test_*.py")}
    wrong = []
    for path in sorted(tests.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                       [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            wrong += [f"{path.relative_to(tests)}:{node.lineno} imports {t}" for t in targets
                      if t.split(".")[0] in names]
    assert not wrong, "move what they share into tests/helpers.py or a fixture:\n  " + "\n  ".join(wrong)


# -- the checker checks itself: a rule that cannot fail guards nothing -----------------------------

def test_the_cycle_finder_finds_a_loop_through_a_function_level_import(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert strongly_connected(graph) == [{"a", "b", "c"}]
    assert a_cycle(graph, {"a", "b", "c"}) == ["a", "b", "c", "a"]
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from . import ledger\n", encoding="utf-8")
    tree = ast.parse(src.read_text())
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom))
    assert _resolve("promptpaint.display", PACKAGE / "display.py", node) == {"promptpaint.ledger"}
    node = ast.parse("from ..ledger import sqlite").body[0]
    assert _resolve("promptpaint.ledger.budgets", PACKAGE / "ledger" / "budgets.py", node) == {
        "promptpaint.ledger.sqlite"}


def test_provider_literal_finder_skips_docstrings_and_comments(tmp_path):
    src = tmp_path / "m.py"
    src.write_text('"""Talks to OpenAI."""\n# gemini\ndef f():\n    """gemini"""\n    return "OpenAI"\n',
                   encoding="utf-8")
    assert provider_literals(src) == [(5, "OpenAI")]


if __name__ == "__main__":  # `python tests/project/test_architecture.py`: today's cycles and offenders, in full
    g = import_graph()
    for c in strongly_connected(g):
        print("cycle:", " -> ".join(a_cycle(g, c)), f"({len(c)} modules: {', '.join(sorted(c))})")
    for mod, p in MODULES.items():
        if not mod.startswith("promptpaint.providers"):
            for line, text in provider_literals(p):
                print(f"provider name: {_rel(p)}:{line}: {text[:60]!r}")
