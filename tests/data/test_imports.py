"""data/ depends on nothing above it and has no import cycle, counting every
import statement (function-level ones included), read from the source."""
import ast
import os

import deepfm_gluon

PACKAGE_ROOT = os.path.dirname(deepfm_gluon.__file__)
ABOVE_DATA = ("training", "distributed", "experiments", "serving", "cli", "bench", "models")


def module_name(path):
    rel = os.path.relpath(path, os.path.dirname(PACKAGE_ROOT))[:-3].replace(os.sep, ".")
    return rel[:-len(".__init__")] if rel.endswith(".__init__") else rel


def modules(folder):
    for root, _, files in os.walk(folder):
        for name in files:
            if name.endswith(".py"):
                yield module_name(os.path.join(root, name)), os.path.join(root, name)


def imports(name, path, known):
    """deepfm_gluon modules that ``name`` imports anywhere in its source."""
    package = name if path.endswith("__init__.py") else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(open(path).read(), path)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            submodules = {f"{base}.{a.name}" for a in node.names} & set(known)
            found.update(submodules)
            if len(submodules) < len(node.names):  # names defined in ``base`` itself
                found.add(base)
    return {m for m in found if m.startswith("deepfm_gluon")}


def graph(folder):
    known = dict(modules(PACKAGE_ROOT))
    return {name: imports(name, path, known) for name, path in modules(folder)}


def find_cycle(edges):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt in edges and nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_data_has_no_import_cycle():
    edges = graph(os.path.join(PACKAGE_ROOT, "data"))
    assert "deepfm_gluon.data.table.cache" in edges and edges["deepfm_gluon.data.sources"]
    assert find_cycle(edges) is None


def test_data_imports_nothing_above_it():
    for name, targets in graph(os.path.join(PACKAGE_ROOT, "data")).items():
        upward = [t for t in targets if t.split(".")[1] in ABOVE_DATA]
        assert not upward, f"{name} imports {upward}"


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
