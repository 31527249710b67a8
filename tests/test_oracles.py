"""Every problem's oracle tests: the ``test_*`` functions of ``reference/oracles/*.py``.

A problem's oracle module (``reference/oracles/ID.py``, with ``-`` as ``_``, as
``reference/ID.py``) checks that its reference and the answers the judge expects are
right: against PyTorch or an independent computation on the judge's own cases, and by
properties drawn with hypothesis. Each of its ``test_*`` functions is collected here
as ``test_<module>__<name>`` (``test_sdpa__reference_matches_torch[...]``), with its
marks and parameters (and the module's ``pytestmark``); it may use pytest's fixtures
and those of ``tests/conftest.py``. The modules are imported as
``mhajudge_reference.oracles.<module>``, the way the judge imports ``reference/``, so
they reach other reference modules through ``bank.reference_module`` or as
``mhajudge_reference.NAME``.

A module that does not import gets one test, ``test_<module>``, instead of its own:
skipped when it skips itself (``torch = pytest.importorskip("torch")``), failed with
the error otherwise. Either way the other modules are collected as usual.
"""

import importlib
import inspect
import traceback

import pytest

from mhajudge import bank

PACKAGE = "mhajudge_reference.oracles"
ORACLES = bank.reference_dir() / "oracles"

pytest.register_assert_rewrite(PACKAGE)   # their failed asserts show values, as in a test module


def _skipped(name, reason):
    @pytest.mark.skip(reason=f"reference/oracles/{name}.py: {reason}")
    def test():
        pass
    return test


def _broken(name, message):
    def test():
        pytest.fail(f"reference/oracles/{name}.py: {message}", pytrace=False)
    return test


def oracle_tests(name):
    """{test name here: test function} for the oracle module ``name``."""
    try:
        bank._reference_package()
        module = importlib.import_module(f"{PACKAGE}.{name}")
    except pytest.skip.Exception as exc:
        return {f"test_{name}": _skipped(name, exc.msg)}
    except Exception as exc:
        return {f"test_{name}": _broken(name, "does not import:\n" + "".join(traceback.format_exception(exc)))}
    marks = getattr(module, "pytestmark", [])
    marks = marks if isinstance(marks, list) else [marks]
    tests = {}
    for attr, obj in vars(module).items():
        if attr.startswith("test_") and inspect.isfunction(obj):
            for mark in marks:
                obj = mark(obj)
            tests[f"test_{name}__{attr[len('test_'):]}"] = obj
        elif attr.startswith("Test") and inspect.isclass(obj):
            tests[f"test_{name}__{attr}"] = _broken(name, f"class {attr}: write its tests as test_* functions, "
                                                          "classes are not collected")
    return tests


for _path in sorted(ORACLES.glob("*.py")):
    globals().update(oracle_tests(_path.stem))
