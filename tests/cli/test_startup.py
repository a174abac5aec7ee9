"""`deepfm-gluon --help` and `deepfm-gluon COMMAND --help` import no heavy
library: checked in a fresh interpreter through sys.modules (not a timing test;
the timings are in docs/benchmarks.md, "Start-up")."""
import json
import subprocess
import sys

import pytest

HEAVY = ("mxnet", "numpy", "matplotlib", "pandas", "d2l", "scipy", "tqdm")
COMMANDS = ["train", "models", "evaluate", "predict", "prepare", "compare", "reproduce", "sweep", "launch", "bench",
            "export", "serve", "tune", "explain"]

PROBE = """
import json, sys
{code}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def heavy_modules_after(code):
    proc = subprocess.run([sys.executable, "-c", PROBE.format(code=code, heavy=HEAVY)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def help_code(argv):
    return ("import contextlib, io\nfrom deepfm_gluon.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            f"    try:\n        main({argv!r})\n    except SystemExit as done:\n"
            "        assert done.code == 0\n"
            "assert 'usage: deepfm-gluon' in out.getvalue()\n")


@pytest.mark.parametrize("argv", [["--help"], ["--version"]] + [[c, "--help"] for c in COMMANDS])
def test_help_imports_no_heavy_library(argv):
    assert heavy_modules_after(help_code(argv) if argv != ["--version"] else
                               "from deepfm_gluon.cli import main\n"
                               "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n") == []


def test_every_command_is_probed():
    from deepfm_gluon.cli.parser import build_parser
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    assert sorted(subparsers.choices) == sorted(COMMANDS)


def test_importing_the_package_is_light_and_its_classes_load_on_use():
    assert heavy_modules_after("import deepfm_gluon") == []
    assert "mxnet" in heavy_modules_after("from deepfm_gluon import DeepFM, FM, CTRDataset\n"
                                          "assert DeepFM.__name__ == 'DeepFM' and FM and CTRDataset")


def test_one_epoch_train_on_the_default_data_imports_only_what_it_uses(tmp_path):
    """pandas, d2l and tqdm (no terminal, so no progress bar) stay out of a
    1-epoch train on the default data; scipy only as far as mxnet itself loads it;
    matplotlib is used (curves.png)."""
    code = ("from deepfm_gluon.cli import main\n"
            f"main(['train', '--epochs', '1', '--no-checkpoints', '--data-dir', {str(tmp_path / 'data')!r},"
            f" '--out', {str(tmp_path / 'model')!r}])\n")
    loaded = set(heavy_modules_after(code))
    by_mxnet = set(heavy_modules_after("import mxnet"))
    assert loaded - by_mxnet <= {"matplotlib"}
    # mxnet itself imports scikit-learn (and so pandas) where it is installed (the test extra)
    assert not {"pandas", "d2l", "tqdm"} & (loaded - by_mxnet)
    assert (tmp_path / "model" / "curves.png").is_file()


def probe(code):
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_mxnet_loads_without_its_optional_libraries_under_the_package_and_they_still_import():
    """deepfm_gluon.startup.optional_imports: MXNet's optional imports of scikit-learn, SciPy's
    stats and onnx are skipped and its distutils is the standard library's (no
    setuptools; together about a third of `import mxnet`);
    a rule goes at the first import of its library by anyone else, which then
    imports as usual (before MXNet, or after it)."""
    pytest.importorskip("sklearn")
    pytest.importorskip("onnx")
    after = probe("import sys, deepfm_gluon, mxnet\n"
                  "print(*(m in sys.modules for m in ('sklearn', 'scipy.stats', 'onnx', 'setuptools')))\n"
                  "print(mxnet.model.BASE_ESTIMATOR is object)\n"
                  "import sklearn.linear_model, scipy.stats, onnx\n"
                  "print([sorted(f.rules) for f in sys.meta_path if type(f).__module__ == 'deepfm_gluon.startup.optional_imports'])\n"
                  "print(scipy.stats.norm.cdf(0.0), onnx.helper.make_tensor_value_info is not None)")
    assert after == ["False"] * 4 + ["True", "[['distutils']]", "0.5", "True"]
    first = probe("import deepfm_gluon, sklearn.base, mxnet\n"
                  "print(mxnet.model.BASE_ESTIMATOR is sklearn.base.BaseEstimator)")
    assert first == ["True"]
    as_is = probe("import deepfm_gluon.startup as s\ns.import_mxnet_as_is()\nimport sys, mxnet\n"
                  "print(*(m in sys.modules for m in ('sklearn', 'scipy.stats', 'onnx')))\n"
                  "print(any(type(f).__module__.startswith('deepfm_gluon') for f in sys.meta_path))")
    assert as_is == ["True", "True", "True", "False"]
