"""Placeholders for packages that ModelScope imports at module level but never runs for mPLUG.

ModelScope's `preprocessors/multi_modal.py`, the module of the mPLUG preprocessor that the
image-text-retrieval pipeline uses, imports its OFA preprocessors, and their speech recogniser
imports fairseq and librosa at load time. fairseq 0.12 does not install on Python 3.11 (its
dataclasses are rejected) and librosa needs NumPy 2, which Debian's torch 1.13 cannot load. The
retrieval pipeline never calls either. `install()` registers import-time placeholders for
exactly these two packages: importing them succeeds, and calling anything from them raises, so
a code path that did use them could not pass silently.
"""
import importlib.abc
import importlib.machinery
import sys
import types

ROOTS = ("fairseq", "librosa")


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        module = types.ModuleType(spec.name)

        def missing(attr, _name=spec.name):
            if attr.startswith("__"):
                raise AttributeError(attr)

            def absent(*args, **kwargs):
                raise RuntimeError(f"{_name}.{attr}: {_name.split('.')[0]} is not installed (upstream/absent.py)")
            return absent
        module.__getattr__ = missing
        return module

    def exec_module(self, module):
        module.__path__ = []


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ROOTS:
            return importlib.machinery.ModuleSpec(name, _Loader(), is_package=True)
        return None


def install():
    """Registers the placeholders (idempotent); real packages, when installed, take precedence."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
