"""The package's layers point down only: bitstream/entropy/io/rd -> nets -> codec -> eval/train -> cli."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "lvcodec"
# Each layer may import its own and the ones listed before it.
LAYERS = [
    {"_compressai", "errors", "device", "bitstream", "entropy", "io", "rd"},
    {"nets"},
    {"weights"},
    {"codec"},
    {"eval", "train", "cli_options"},  # cli_options: click options shared by every command
    {"cli", "__main__"},
]


def _layer(module: str) -> int:
    top = module.split(".")[1] if module.startswith("lvcodec.") else module
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module}: in no layer of tests/layout/test_layers.py")


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lvcodec."):
            yield node.module, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("lvcodec."):
                    yield alias.name, node.lineno


def test_no_module_imports_from_a_higher_layer():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(rel.parts)
        if module == "lvcodec.__init__":
            continue
        own = _layer(module if rel.parts[1:] else "lvcodec.__init__")
        for target, line in _imports(path):
            if _layer(target) > own:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    # eval and train share a layer, but neither leans on the other.
    for path in sorted((PACKAGE / "eval").rglob("*.py")):
        wrong += [f"{path}:{line} imports {t}" for t, line in _imports(path)
                  if t.startswith("lvcodec.train") and "bench_learning" not in path.name]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("module", ["lvcodec.codec.api"])
def test_the_codec_imports_with_training_and_evaluation_blocked(module):
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[:2] in (['lvcodec', 'train'], ['lvcodec', 'eval'],"
        " ['lvcodec', 'cli']):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"import {module}\n"
        "from lvcodec.codec.api import encode_file, decode_file\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]


def _module_graph() -> dict:
    """Module-level imports (those run at import time) between lvcodec's modules."""
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.parts[-1] == "__init__" else rel.parts
        deps = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lvcodec"):
                deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("lvcodec")}
        graph[".".join(parts)] = deps
    # An import of a package also runs its __init__; of a name, the module that defines it.
    return {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}


def test_no_import_cycles():
    graph = _module_graph()
    state, cycle = {}, []

    def visit(m, stack):
        state[m] = "open"
        for d in sorted(graph[m]):
            if state.get(d) == "open":
                cycle.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d, stack + [d])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    # A package's __init__ re-exporting its own modules is not a cycle between modules.
    real = [c for c in cycle if not all(x == c[0] or x.startswith(c[0] + ".") or
                                        c[0].startswith(x + ".") for x in c)]
    assert not real, real


def test_the_codec_starts_without_compressais_registries():
    """`lvc` needs CompressAI's layers and entropy models only; its package __init__ (datasets,
    zoo, torch_geometric) costs seconds of every command's start-up, and loads on first use."""
    code = ("import sys, lvcodec.codec.api, lvcodec.train.stages\n"
            "assert 'torch_geometric' not in sys.modules and 'compressai.zoo' not in sys.modules\n"
            "import compressai\n"
            "assert compressai.zoo.bmshj2018_factorized and 'torch_geometric' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)
