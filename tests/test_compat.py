"""The private trio and Hypothesis hooks determinism rests on (faultlab/_compat.py): present in the installed
releases, a loud failure when one is gone, and explorations that do not depend on which local modules are loaded."""

from __future__ import annotations

import importlib
import sys

import pytest

from faultlab import _compat
from faultlab.explore import explore
from faultlab.registry import get_protocol


def test_every_hook_exists_in_the_installed_releases():
    _compat.check()


@pytest.mark.parametrize(("module", "attribute"), [
    ("trio._core._run", "_ALLOW_DETERMINISTIC_SCHEDULING"),
    ("hypothesis.internal.conjecture.providers", "_get_local_constants"),
])
def test_a_missing_hook_fails_loudly_naming_the_release(monkeypatch, module, attribute):
    monkeypatch.delattr(importlib.import_module(module), attribute)
    with pytest.raises(_compat.IncompatibleRelease, match=r"(trio|hypothesis) [\d.]+ has no usable .*install"):
        _compat.check()


def test_while_faultlab_explores_hypothesis_draws_no_literal_of_a_loaded_local_module(tmp_path, monkeypatch):
    """Hypothesis mixes into its generation integer literals of loaded local modules (not test files), so which
    modules a process loaded would change the schedules a seed explores; faultlab turns that off while it explores
    and leaves Hypothesis as it was afterwards."""
    from hypothesis.internal.conjecture import providers

    (tmp_path / "many_literals.py").write_text("NUMBERS = [3000000001, 3000007920]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("many_literals")
    try:
        assert 3000000001 in providers._get_local_constants().set_for_type("integer")
        with _compat.hypothesis_without_local_constants():
            assert not providers._get_local_constants().set_for_type("integer")
            assert not providers.CONSTANTS_CACHE.cache
        assert 3000000001 in providers._get_local_constants().set_for_type("integer")
    finally:
        sys.modules.pop("many_literals", None)


def test_explore_runs_with_local_literals_turned_off(monkeypatch):
    from hypothesis.internal.conjecture import providers

    import faultlab.explore

    during = []
    real = faultlab.explore.simulate

    def spy(*args, **kwargs):
        during.append(len(providers._get_local_constants().set_for_type("integer")))
        return real(*args, **kwargs)

    monkeypatch.setattr(faultlab.explore, "simulate", spy)
    qr = get_protocol("quorum-register")
    explore(qr, qr.make_config({}), examples=5, seed=0, shrink=False)
    assert during and set(during) == {0}


def test_no_engine_module_binds_a_name_attrs_generated_methods_look_up():
    """attrs compiles __repr__ and friends against the defining module's globals and reads ``_compat`` there; a module
    that imported faultlab._compat under that name broke every repr of its classes (RunSettings() raised)."""
    import pkgutil

    import faultlab

    for info in pkgutil.walk_packages(faultlab.__path__, "faultlab."):
        module = importlib.import_module(info.name)
        assert getattr(module, "_compat", None) is not _compat, f"{info.name} binds faultlab._compat as `_compat`"
    from faultlab.runtime import RunSettings
    assert repr(RunSettings()).startswith("RunSettings(")
