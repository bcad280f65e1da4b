"""The ONNX export: the graph's interface, the tokenizer settings, and build-once-then-reuse."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

from jyntrix_adapters.fastembed.onnx_export import (
    MANIFEST_FILE,
    MODEL_FILE,
    ensure_model,
    is_built,
    package_model_dir,
    read_safetensors,
)


@pytest.fixture(scope="module")
def graph(minilm_model_dir: Path) -> onnx.ModelProto:
    return onnx.load(str(minilm_model_dir / MODEL_FILE), load_external_data=False)


def test_inputs_are_int64_with_dynamic_batch_and_length(graph: onnx.ModelProto) -> None:
    inputs = {i.name: i.type.tensor_type for i in graph.graph.input}
    assert set(inputs) == {"input_ids", "attention_mask", "token_type_ids"}
    for tensor in inputs.values():
        assert tensor.elem_type == onnx.TensorProto.INT64
        assert [d.dim_param for d in tensor.shape.dim] == ["batch", "sequence"]


def test_output_is_the_last_hidden_state(graph: onnx.ModelProto) -> None:
    (output,) = graph.graph.output
    assert output.name == "last_hidden_state"
    dims = output.type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", "sequence", 384]


def test_graph_is_a_six_layer_bert_with_exact_gelu(graph: onnx.ModelProto) -> None:
    assert graph.opset_import[0].version == 17
    ops = [n.op_type for n in graph.graph.node]
    assert ops.count("LayerNormalization") == 1 + 2 * 6
    assert ops.count("Erf") == 6
    assert ops.count("Softmax") == 6
    for node in graph.graph.node:
        if node.op_type == "LayerNormalization":
            eps = next(a.f for a in node.attribute if a.name == "epsilon")
            assert eps == pytest.approx(1e-12)


def test_tokenizer_truncates_at_the_sentence_models_256(minilm_model_dir: Path) -> None:
    config = json.loads((minilm_model_dir / "tokenizer_config.json").read_text())
    assert config["model_max_length"] == 256
    for name in ("tokenizer.json", "config.json", "special_tokens_map.json"):
        assert (minilm_model_dir / name).is_file()


def test_safetensors_reader_reads_every_tensor() -> None:
    tensors = read_safetensors(package_model_dir() / "model.safetensors")
    assert tensors["embeddings.word_embeddings.weight"].shape == (30522, 384)
    assert tensors["encoder.layer.5.output.dense.weight"].dtype == np.float32
    assert np.isfinite(tensors["encoder.layer.0.attention.self.query.weight"]).all()


def test_a_valid_build_is_reused(minilm_model_dir: Path) -> None:
    before = (minilm_model_dir / MODEL_FILE).stat().st_mtime_ns
    assert ensure_model(minilm_model_dir) == minilm_model_dir
    assert (minilm_model_dir / MODEL_FILE).stat().st_mtime_ns == before


def test_a_damaged_or_missing_build_is_rebuilt(minilm_model_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "models" / "minilm"
    assert not is_built(target)
    shutil.copytree(minilm_model_dir, target)
    with (target / MODEL_FILE).open("r+b") as f:
        f.truncate(1000)
    assert not is_built(target)

    ensure_model(target)

    assert is_built(target)
    assert (target / MODEL_FILE).stat().st_size == (minilm_model_dir / MODEL_FILE).stat().st_size
    # nothing is left behind from the temporary build directory
    assert sorted(p.name for p in target.parent.iterdir()) == ["minilm"]
    assert json.loads((target / MANIFEST_FILE).read_text())["exporter_version"] >= 1
