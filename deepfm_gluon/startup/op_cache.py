"""MXNet's operator functions, compiled once per installation (start-up).

At ``import mxnet``, MXNet 1.9.1 writes the Python source of one function per
operator for ``mx.nd``, ``mx.sym`` and their numpy namespaces (about 2,300),
builds each docstring from the operator's registration and compiles each
source with ``exec``: about 1.3 s of a 2.1 s ``import mxnet``. The source
depends only on the operator's registration in libmxnet, except for one
number: the operator's handle, an address that changes with every process.

``cache_mxnet_op_functions`` keeps each function's compiled definition and
docstring in one file per MXNet installation and Python bytecode version
(``cache_file``). At the next ``import mxnet`` it runs the cached definition
with this process's handle in place of the recorded one: the function MXNet
would make (same code, defaults, docstring, module), without generating or
compiling anything. An operator it does not know, or an entry it cannot
use, is generated and compiled as MXNet does and added to the file; another
MXNet build or Python gets its own file; an unreadable file is rewritten.
After ``import mxnet`` the hook steps aside (operators that
``mx.library.load`` adds later are made by MXNet alone).
The file holds code that is run, so, like Python's own ``__pycache__``, it
is read only if this user owns it and no one else can write it.
``DEEPFM_GLUON_OP_CACHE=0`` turns it off; ``DEEPFM_GLUON_CACHE_DIR`` says
where the file lives (default ``$XDG_CACHE_HOME/deepfm-gluon`` or
``~/.cache/deepfm-gluon``).
"""
import importlib.machinery
import marshal
import os
import sys
import types

from .meta_path import remove_finder, remove_finders_of

FORMAT = 1  # bump when what a cache entry holds changes
# MXNet's function makers -> (the code generator each calls, the __module__ it gives)
MAKERS = {
    ("mxnet.ndarray.register", "_make_ndarray_function"): ("_generate_ndarray_function_code", "mxnet.ndarray"),
    ("mxnet.symbol.register", "_make_symbol_function"): ("_generate_symbol_function_code", "mxnet.symbol"),
}


def cache_dir():
    """Where cache files live: $DEEPFM_GLUON_CACHE_DIR, else the user's cache folder."""
    configured = os.environ.get("DEEPFM_GLUON_CACHE_DIR")
    if configured:
        return configured
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "deepfm-gluon")


# MXNet's Python files the generated code and docstrings come from (relative to the mxnet package)
GENERATOR_FILES = ("base.py", "ndarray/register.py", "symbol/register.py", "ndarray_doc.py", "symbol_doc.py",
                   "_numpy_op_doc.py")


def cache_file(lib_path, mxnet_version, mxnet_dir):
    """The cache file of one MXNet build (libmxnet's path, size and time, the
    generators' files, the version) and one Python (bytecode version, -O level)."""
    import hashlib  # start-up: needed only when MXNet is imported, not by `deepfm-gluon --help`
    import importlib.util  # start-up: as above
    stats = []
    for path in [lib_path] + [os.path.join(mxnet_dir, name) for name in GENERATOR_FILES]:
        try:
            info = os.stat(path)
        except FileNotFoundError:  # a generator file this MXNet does not have
            continue
        stats.append((os.path.realpath(path), info.st_size, info.st_mtime_ns))
    identity = repr((FORMAT, stats, mxnet_version, importlib.util.MAGIC_NUMBER, sys.implementation.cache_tag,
                     sys.flags.optimize))
    digest = hashlib.sha1(identity.encode()).hexdigest()[:16]
    return os.path.join(cache_dir(), f"mxnet-op-functions-{digest}.marshal")


class OpFunctionCache:
    """Compiled op-function definitions by (maker, operator name, function name).

    An entry is ``(module code, index of the function's code in it, index of
    the handle in the function's constants, the recorded handle, docstring)``.
    """

    def __init__(self, path):
        self.path = path
        self.entries = _read(path)
        self.added = False
        self.closed = False  # after import mxnet: every maker is MXNet's own again

    def wrap(self, make_op_func):
        """``make_op_func`` with this cache in front, or itself if it is not one
        of MXNet's two makers."""
        maker = MAKERS.get((getattr(make_op_func, "__module__", None), getattr(make_op_func, "__name__", None)))
        generate = getattr(make_op_func, "__globals__", {}).get(maker[0]) if maker else None
        if self.closed or generate is None:
            return make_op_func
        namespace, module = make_op_func.__globals__, maker[1]

        def make_from_cache(handle, name, func_name):
            if self.closed:
                return make_op_func(handle, name, func_name)
            try:
                return self._make(make_op_func.__name__, generate, namespace, module, handle, name, func_name)
            except Exception:  # noqa: BLE001  (a cache must never break import mxnet: MXNet makes it)
                return make_op_func(handle, name, func_name)
        return make_from_cache

    def _make(self, maker_name, generate, namespace, module, handle, name, func_name):
        key = (maker_name, name, func_name)
        entry = self.entries.get(key)
        function = _define(entry, handle.value, namespace, func_name) if entry else None
        if function is None:
            source, doc = generate(handle, name, func_name)
            entry = _entry(compile(source, "<string>", "exec"), handle.value, doc)
            if entry is None:
                raise LookupError(f"no single handle constant in {name}'s code")
            self.entries[key], self.added = entry, True
            function = _define(entry, handle.value, namespace, func_name)
        function.__name__, function.__doc__, function.__module__ = func_name, entry[4], module
        return function

    def close(self):
        """Save, free the entries (the functions keep their own code) and step aside."""
        self.save()
        self.entries, self.closed = {}, True

    def save(self):
        """Write the file if anything was added: atomically (other processes may
        read or write it at the same time); a cache that cannot be written is
        only a slower start."""
        if not self.added:
            return
        from ..atomic import atomic_write  # start-up: needed only to write the file, once per installation

        def write(tmp):
            with open(tmp, "wb") as out:
                marshal.dump(self.entries, out)
            os.chmod(tmp, 0o600)  # its code is run: only this user may write it (_read)
        try:
            atomic_write(self.path, write)
        except (OSError, ValueError):
            pass
        self.added = False


def _read(path):
    """The entries of ``path``; none unless the file is this user's own and no
    one else can write it (its code is run: the trust of a __pycache__ file)."""
    try:
        if not _own_and_private(path):
            return {}
        with open(path, "rb") as cached:
            entries = marshal.loads(cached.read())  # loads(read()): marshal.load on a file is ~8x slower
        return entries if isinstance(entries, dict) else {}
    except (OSError, ValueError, EOFError, TypeError):
        return {}


def _own_and_private(path):
    info = os.stat(path)
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def _entry(module_code, handle, doc):
    """Where ``handle`` sits in the compiled definition: a constant of the
    function's own code, exactly once in the whole definition; else None."""
    places = [(function_index, handle_index)
              for function_index, function_code in enumerate(module_code.co_consts)
              if hasattr(function_code, "co_consts")
              for handle_index, constant in enumerate(function_code.co_consts)
              if type(constant) is int and constant == handle]
    if len(places) != 1 or _count(module_code, handle) != 1:
        return None
    return (module_code, *places[0], handle, doc)


def _count(code, value):
    """How many constants of ``code`` and the code nested in it are the int ``value``."""
    return sum(_count(c, value) if hasattr(c, "co_consts") else int(type(c) is int and c == value)
               for c in code.co_consts)


def _define(entry, handle, namespace, func_name):
    """Run the cached definition with ``handle`` in place of the recorded one;
    None if the entry does not have the recorded shape."""
    try:
        module_code, function_index, handle_index, recorded, doc = entry
        if not (isinstance(module_code, types.CodeType) and isinstance(doc, str)):
            return None
        if handle != recorded:
            function_code = module_code.co_consts[function_index]
            constants = list(function_code.co_consts)
            if constants[handle_index] != recorded:
                return None
            constants[handle_index] = handle
            module_constants = list(module_code.co_consts)
            module_constants[function_index] = function_code.replace(co_consts=tuple(constants))
            module_code = module_code.replace(co_consts=tuple(module_constants))
        defined = {}
        exec(module_code, namespace, defined)  # pylint: disable=exec-used  (what MXNet's maker does)
        function = defined.get(func_name)
        return function if isinstance(function, types.FunctionType) else None
    except (ValueError, TypeError, IndexError, AttributeError, KeyError):
        return None


class _CacheMxnetOpFunctions:
    """A meta-path finder that, once ``mxnet.base`` has run, puts the cache in
    front of MXNet's op-function makers, and saves it when ``mxnet`` is imported."""

    def __init__(self):
        self.cache = None

    def find_spec(self, name, path=None, target=None):
        if name not in ("mxnet", "mxnet.base"):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module
        after = self._use_cache if name == "mxnet.base" else self._save

        def exec_module(module):
            try:
                run(module)
            except BaseException:
                remove_finder(self)  # MXNet's own error is the one to see; nothing cached
                raise
            try:
                after(module)
            except Exception:  # noqa: BLE001  (the cache is only a faster start)
                remove_finder(self)
        spec.loader.exec_module = exec_module
        return spec

    def _use_cache(self, base):
        self.cache = OpFunctionCache(cache_file(base._LIB._name, base.__version__, os.path.dirname(base.__file__)))
        init_op_module, init_np_op_module, cache = base._init_op_module, base._init_np_op_module, self.cache

        def _init_op_module(root_namespace, module_name, make_op_func):
            return init_op_module(root_namespace, module_name, cache.wrap(make_op_func))

        def _init_np_op_module(root_module_name, np_module_name, mx_module_name, make_op_func):
            return init_np_op_module(root_module_name, np_module_name, mx_module_name, cache.wrap(make_op_func))
        base._init_op_module, base._init_np_op_module = _init_op_module, _init_np_op_module

    def _save(self, _mxnet):
        remove_finder(self)
        if self.cache is not None:
            self.cache.close()


def cache_mxnet_op_functions():
    """Install the finder unless MXNet is loaded already or the cache is off."""
    if ("mxnet" in sys.modules or os.environ.get("DEEPFM_GLUON_OP_CACHE", "1") == "0"
            or any(isinstance(f, _CacheMxnetOpFunctions) for f in sys.meta_path)):
        return
    sys.meta_path.insert(0, _CacheMxnetOpFunctions())


def import_mxnet_without_cache():
    """Remove the finder: MXNet makes its functions as it would without this package."""
    remove_finders_of(_CacheMxnetOpFunctions)
