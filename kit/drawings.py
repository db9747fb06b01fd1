"""img/make_samples.py's generator as a module (img/ is not a package): tests and benchmarks
draw field photos with it, with seeds of their own, so they are other pictures than img/'s."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from settings import PROJECT_ROOT

GENERATOR = PROJECT_ROOT / "img" / "make_samples.py"


def generator() -> ModuleType:
    """img/make_samples.py, loaded once."""
    if "make_samples" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_samples", GENERATOR)
        sys.modules["make_samples"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["make_samples"])
    return sys.modules["make_samples"]
