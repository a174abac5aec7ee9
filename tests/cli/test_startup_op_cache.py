"""deepfm_gluon.startup.op_cache: the operator functions MXNet makes at import,
made from the cache, are the ones MXNet makes itself.

The oracle is a second process that imports MXNet without the package. Each
process describes every function MXNet compiled at import (``co_filename ==
"<string>"``), in every ``mxnet.*`` module: names, module, docstring,
signature, defaults, bytecode, names, and constants with each operator handle
written as the name of the operator it belongs to in that process (handles
are addresses, different in every process). Equal descriptions mean each
function calls the right operator with the same arguments.
"""
import json
import marshal
import os
import subprocess
import sys

import pytest

DESCRIBE = r"""
import ctypes, inspect, json, sys, types
{imports}
from mxnet.base import _LIB, check_call, OpHandle, py_str, c_str

size, names = ctypes.c_uint(), ctypes.POINTER(ctypes.c_char_p)()
check_call(_LIB.MXListAllOpNames(ctypes.byref(size), ctypes.byref(names)))
op_of_handle = {{}}
for i in range(size.value):
    handle = OpHandle()
    check_call(_LIB.NNGetOpHandle(c_str(py_str(names[i])), ctypes.byref(handle)))
    op_of_handle[handle.value] = py_str(names[i])

def constants(code):
    out = []
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out.append([c.co_code.hex(), list(c.co_names), list(c.co_varnames), constants(c)])
        elif type(c) is int and c in op_of_handle:
            out.append("operator " + op_of_handle[c])
        else:
            out.append(repr(c))
    return out

described = {{}}
for module_name, module in sorted(sys.modules.items()):
    if not module_name.startswith("mxnet") or module is None:
        continue
    for attr, f in sorted(vars(module).items()):
        code = getattr(f, "__code__", None)
        if code is None or code.co_filename != "<string>":
            continue
        described[module_name + ":" + attr] = [
            f.__name__, f.__qualname__, f.__module__, f.__globals__["__name__"], f.__doc__, str(inspect.signature(f)),
            repr(f.__defaults__), repr(f.__kwdefaults__), code.co_code.hex(), list(code.co_names),
            list(code.co_varnames), code.co_argcount, code.co_kwonlyargcount, code.co_flags, constants(code)]
# each namespace's functions at work: mx.nd, mx.sym (bound and run), mx.np
a = mx.nd.array([[1.0, 2.0], [3.0, 4.0]])
x = mx.sym.var("x")
executor = mx.sym.FullyConnected(x, num_hidden=1, no_bias=True, flatten=False).bind(
    mx.cpu(), {{"x": a, "fullyconnected0_weight": mx.nd.array([[0.5, -1.0]])}})
computed = [mx.nd.dot(a, a).asnumpy().tolist(), executor.forward()[0].asnumpy().tolist(),
            mx.np.cumsum(mx.np.array([1.0, 2.0, 3.0])).asnumpy().tolist()]
dot = OpHandle()
check_call(_LIB.NNGetOpHandle(c_str("dot"), ctypes.byref(dot)))
print(json.dumps({{"functions": described, "computed": computed, "dot_handle": dot.value}}))
"""
PACKAGE_FIRST = "import deepfm_gluon, mxnet as mx"
MXNET_ALONE = "import mxnet as mx\nassert 'deepfm_gluon' not in sys.modules"
COMPUTED = [[[7.0, 10.0], [15.0, 22.0]], [[-1.5], [-2.5]], [1.0, 3.0, 6.0]]


def describe(imports, cache_dir, **env):
    inherited = {k: v for k, v in os.environ.items() if k != "DEEPFM_GLUON_OP_CACHE"}  # on unless told
    environment = {**inherited, "DEEPFM_GLUON_CACHE_DIR": str(cache_dir), **env}
    proc = subprocess.run([sys.executable, "-c", DESCRIBE.format(imports=imports)], capture_output=True,
                          text=True, timeout=300, env=environment)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cache_files(cache_dir):
    return sorted(p.name for p in cache_dir.iterdir()) if cache_dir.exists() else []


@pytest.fixture(scope="module")
def mxnet_alone(tmp_path_factory):
    """MXNet's own functions: the oracle."""
    return describe(MXNET_ALONE, tmp_path_factory.mktemp("unused-cache"))


def test_the_first_and_the_cached_import_make_mxnets_own_functions(mxnet_alone, tmp_path):
    assert len(mxnet_alone["functions"]) > 2000  # ~2,300 operators in mx.nd, mx.sym and their numpy namespaces
    assert mxnet_alone["computed"] == COMPUTED
    cache_dir = tmp_path / "cache"
    first = describe(PACKAGE_FIRST, cache_dir)  # nothing cached: MXNet generates, the cache records
    files = cache_files(cache_dir)
    assert len(files) == 1 and files[0].startswith("mxnet-op-functions-")
    recorded = (cache_dir / files[0]).stat().st_mtime_ns
    cached = describe(PACKAGE_FIRST, cache_dir)  # every function from the cache
    assert first["functions"] == mxnet_alone["functions"] and first["computed"] == COMPUTED
    assert cached["functions"] == mxnet_alone["functions"] and cached["computed"] == COMPUTED
    assert (cache_dir / files[0]).stat().st_mtime_ns == recorded  # nothing new: not rewritten
    if cached["dot_handle"] == first["dot_handle"]:
        pytest.skip("operator handles were the same in both processes (no address randomization): "
                    "the cached functions matched, but the handle swap was not exercised")


def test_a_damaged_cache_file_is_replaced_and_changes_nothing(mxnet_alone, tmp_path):
    cache_dir = tmp_path / "cache"
    describe(PACKAGE_FIRST, cache_dir)
    [name] = cache_files(cache_dir)
    data = (cache_dir / name).read_bytes()
    (cache_dir / name).write_bytes(data[:len(data) // 2])  # cut mid-way, as by a full disk
    assert describe(PACKAGE_FIRST, cache_dir)["functions"] == mxnet_alone["functions"]
    rewritten = marshal.loads((cache_dir / name).read_bytes())  # whole again
    assert sorted(rewritten) == sorted(marshal.loads(data))


def test_the_cache_can_be_turned_off_and_an_unwritable_folder_is_only_slower(mxnet_alone, tmp_path):
    off = tmp_path / "off"
    assert describe(PACKAGE_FIRST, off, DEEPFM_GLUON_OP_CACHE="0")["functions"] == mxnet_alone["functions"]
    assert cache_files(off) == []
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    assert describe(PACKAGE_FIRST, blocked / "cache")["functions"] == mxnet_alone["functions"]
    read_only = tmp_path / "read-only"
    read_only.mkdir(mode=0o555)
    if not os.access(read_only, os.W_OK):  # root writes anywhere
        assert describe(PACKAGE_FIRST, read_only)["functions"] == mxnet_alone["functions"]
        assert cache_files(read_only) == []


def test_entries_that_are_not_the_recorded_shape_are_made_again(mxnet_alone, tmp_path):
    """A file that unmarshals but holds something else under the right keys
    (another tool's, or edited): every such function is generated again."""
    cache_dir = tmp_path / "cache"
    describe(PACKAGE_FIRST, cache_dir)
    [name] = cache_files(cache_dir)
    entries = marshal.loads((cache_dir / name).read_bytes())
    bad = compile("def dot(*a, **k):\n    return 'not the operator'\n", "<string>", "exec")
    (cache_dir / name).write_bytes(marshal.dumps({key: (bad, 0, 0, 0, "doc") for key in entries}))
    damaged = describe(PACKAGE_FIRST, cache_dir)
    assert damaged["functions"] == mxnet_alone["functions"] and damaged["computed"] == COMPUTED


def test_a_file_others_can_write_is_not_read_but_replaced(mxnet_alone, tmp_path):
    """The file's code is run: one that anyone else could have written is
    ignored (and replaced by the user's own, mode 0600)."""
    cache_dir = tmp_path / "cache"
    describe(PACKAGE_FIRST, cache_dir)
    [name] = cache_files(cache_dir)
    entries = marshal.loads((cache_dir / name).read_bytes())
    planted = compile("def dot(*a, **k):\n    return ['planted', 123456789]\n", "<string>", "exec")
    handle_at = planted.co_consts[0].co_consts.index(123456789)  # an entry of the shape the cache uses
    (cache_dir / name).write_bytes(marshal.dumps({**entries, ("_make_ndarray_function", "dot", "dot"):
                                                  (planted, 0, handle_at, 123456789, "planted")}))
    os.chmod(cache_dir / name, 0o600)
    used = subprocess.run([sys.executable, "-c", "import deepfm_gluon, mxnet as mx\nprint(mx.nd.dot(1, 2))"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "DEEPFM_GLUON_CACHE_DIR": str(cache_dir)})
    assert "planted" in used.stdout, used.stderr[-2000:]  # the user's own file is used, as it is
    (cache_dir / name).write_bytes(marshal.dumps({**entries, ("_make_ndarray_function", "dot", "dot"):
                                                  (planted, 0, handle_at, 123456789, "planted")}))
    os.chmod(cache_dir / name, 0o666)
    again = describe(PACKAGE_FIRST, cache_dir)
    assert again["functions"] == mxnet_alone["functions"] and again["computed"] == COMPUTED
    assert (cache_dir / name).stat().st_mode & 0o777 == 0o600
