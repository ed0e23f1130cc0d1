"""CompressAI's layers and entropy models without the cost of its package `__init__`.

`import compressai` imports every dataset, model zoo and transform registry, torch_geometric
(and torchvision) included: about 3-4 s of every `lvc` command's start-up, for modules the codec
never uses. lvcodec needs only `compressai.layers`, `.entropy_models`, `.ops` and `._CXX`, which
import nothing else of the package. `install()` registers the package without running its
`__init__`, so those import on their own; the first access to any other attribute of
`compressai` runs the real `__init__` then, so code that uses the whole package still gets it.
Until then the package answers the two entropy-coder queries its entropy models make when they
are built (`available_entropy_coders`, `get_entropy_coder`: CompressAI's default, "ans"; lvc
codes with constriction and never calls these coders).
"""

import importlib
import importlib.util
import sys

__all__ = ["install"]


def install() -> None:
    if "compressai" in sys.modules:  # imported already (in full, or by an earlier install)
        return
    spec = importlib.util.find_spec("compressai")
    if spec is None or spec.loader is None:
        return  # not installed: the import that needs it reports that
    pkg = importlib.util.module_from_spec(spec)

    def __getattr__(name):
        if not name.startswith("__") and importlib.util.find_spec(f"compressai.{name}"):
            return importlib.import_module(f"compressai.{name}")  # a submodule: just that one
        del pkg.__getattr__  # once: the real __init__, in place, defines the rest
        spec.loader.exec_module(pkg)
        if name in pkg.__dict__:
            return pkg.__dict__[name]
        raise AttributeError(f"module 'compressai' has no attribute {name!r}")

    pkg.__getattr__ = __getattr__
    pkg.available_entropy_coders = lambda: ["ans"]
    pkg.get_entropy_coder = lambda: "ans"
    sys.modules["compressai"] = pkg
