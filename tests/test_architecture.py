"""The package's dependencies point one way, without cycles.

Walks every import statement in deepfm_gluon/ with ``ast`` (module-level and
inside functions), builds the module graph and checks:
- no import cycle (importing a.b.c also runs a/__init__ and a/b/__init__,
  so those count as edges too);
- no import against the layer order
      __main__, package facade > cli > {experiments, d2l}
      > {training, distributed, serving, bench} > {data, models, reference}
      > bottom utilities (errors, atomic, version, gluon_compat, limits, startup),
  and no import between two packages of one layer, except the few listed in
  SIDEWAYS with their reason;
- an import inside a function says, in a comment on its line or just above,
  that it is there to keep start-up fast ("start-up").
Entries in PENDING are known problems in code owned elsewhere; each must
still occur, so the list shrinks as they are fixed.
"""
import ast
import os

import pytest

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "deepfm_gluon")
PACKAGE = "deepfm_gluon"

LAYERS = {
    "__main__": 7, "": 6,  # "" is the package facade, deepfm_gluon/__init__.py
    "cli": 5,
    "experiments": 4,
    "d2l": 4,  # the chapters' `d2l` names for their cells: built from data and training, used by notebooks
    "training": 3, "distributed": 3, "serving": 3, "bench": 3,
    "data": 2, "models": 2, "reference": 2,
    "errors": 1, "discovery": 1, "atomic": 1, "version": 1, "gluon_compat": 1, "limits": 1, "startup": 1,
}
# Imports between two packages of one layer that are part of the design.
SIDEWAYS = {
    ("distributed", "training"): "a worker is a Fitter driven by the training loop",
    ("bench", "training"): "the benchmarks time the package's own training loop",
    ("startup", "atomic"): "the op-function cache writes its file the way the package writes every file",
    ("serving", "training"): "serving scores with the evaluation code training reports with "
                             "(predict_logits, metrics)",
}
# Known problems in code other engineers own (issue 11), to be removed as they land.
PENDING_CYCLES = set()
PENDING_FUNCTION_IMPORTS = set()
START_UP = "start-up"


def module_files():
    """{dotted module name: path} for every .py file of the package."""
    found = {}
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                parts = os.path.relpath(path, os.path.dirname(ROOT))[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                found[".".join(parts)] = path
    return found


MODULES = module_files()


def is_package(module):
    return MODULES.get(module, "").endswith("__init__.py")


def resolve(module, node):
    """The absolute module names an Import/ImportFrom node in ``module`` loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_package(module) else module.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module
    targets = []
    for alias in node.names:
        sub = f"{source}.{alias.name}"
        targets.append(sub if sub in MODULES else source)  # `from pkg import submodule` or a name
    return targets


def function_level(tree):
    """Yield (node, inside_function) for every import in ``tree``."""
    def walk(node, inside):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, inside
            yield from walk(child, inside or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                ast.Lambda)))
    yield from walk(tree, False)


def collect():
    """(edges {module: {module}}, function-level imports [(module, target, lineno, comment ok)])."""
    edges, inner = {m: set() for m in MODULES}, []
    for module, path in MODULES.items():
        with open(path) as f:
            source = f.read()
        lines = source.splitlines()
        for node, inside in function_level(ast.parse(source, path)):
            for target in resolve(module, node):
                if inside:
                    inner.append((module, target, node.lineno, has_start_up_comment(lines, node.lineno)))
                if target.split(".")[0] != PACKAGE:
                    continue
                edges[module].add(target)
                parts = target.split(".")
                for i in range(1, len(parts)):  # importing a.b.c runs a/__init__, a/b/__init__
                    parent = ".".join(parts[:i])
                    if not (module == parent or module.startswith(parent + ".")):
                        edges[module].add(parent)
    return edges, inner


def has_start_up_comment(lines, lineno):
    line = lines[lineno - 1]
    if "#" in line and START_UP in line.split("#", 1)[1]:
        return True
    above = lineno - 2  # the comment may head a block of imports
    while above >= 0 and lines[above].strip().startswith(("#", "from ", "import ")):
        if "#" in lines[above] and START_UP in lines[above].split("#", 1)[1]:
            return True
        above -= 1
    return False


def component(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


EDGES, INNER = collect()


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1 or v in edges.get(v, ()):
                found.append(frozenset(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_walk_sees_the_whole_package():
    assert len(MODULES) > 40 and "deepfm_gluon.training.loop" in MODULES
    assert "deepfm_gluon.training.loop" in EDGES["deepfm_gluon.training.driver"]
    assert any(m == "deepfm_gluon" for m, *_ in INNER)  # the facade's lazy imports


def test_every_module_has_a_layer():
    assert sorted({component(m) for m in MODULES} - set(LAYERS)) == []


def test_no_import_cycles():
    found = set(cycles(EDGES))
    assert sorted(sorted(c) for c in found - PENDING_CYCLES) == []
    assert sorted(sorted(c) for c in PENDING_CYCLES - found) == [], "fixed: remove from PENDING_CYCLES"


def test_imports_point_down_the_layers():
    wrong = []
    for module, targets in EDGES.items():
        for target in targets:
            a, b = component(module), component(target)
            if a == b or LAYERS[a] > LAYERS[b] or (a, b) in SIDEWAYS:
                continue
            wrong.append(f"{module} -> {target}")
    assert sorted(wrong) == []


def test_training_does_not_reach_into_distributed_or_above():
    above = {c for c, rank in LAYERS.items() if rank > LAYERS["training"]} | {"distributed"}
    reach = {t for m, ts in EDGES.items() if component(m) == "training" for t in ts}
    assert sorted(t for t in reach if component(t) in above) == []


def test_function_level_imports_say_they_keep_start_up_fast():
    missing = {(module, target) for module, target, _, ok in INNER if not ok}
    assert sorted(missing - PENDING_FUNCTION_IMPORTS) == []
    assert sorted(PENDING_FUNCTION_IMPORTS - missing) == [], "fixed: remove from PENDING_FUNCTION_IMPORTS"


def test_detects_a_cycle_and_an_upward_import():
    """The checks themselves: a made-up graph with both faults."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("module, target", [
    ("deepfm_gluon.training.checkpoint", "deepfm_gluon.gluon_compat"),
    ("deepfm_gluon.cli.launch_cmd", "deepfm_gluon.cli.parser"),
    ("deepfm_gluon.experiments.runner", "deepfm_gluon.distributed.worker"),
])
def test_resolves_relative_imports(module, target):
    assert target in EDGES[module]
