"""Build a tiny ONNX Runtime GenAI model folder, offline, in well under a second.

The "model" is a one-layer decoder with a KV cache whose greedy output is
predictable: the next token is always the current token's id plus one, so a
prompt ending in ``:`` continues ``;<=>?@ABC...`` (byte-level ids follow the
character order). It has a byte-level BPE tokenizer trained here with
``tokenizers``, a ``genai_config.json`` in the shape onnxruntime-genai's
builder writes, and optionally a chat template.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

EOS = "<|endoftext|>"
HEAD_SIZE = 4
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>:{% endif %}"
)


def build_tiny_model(folder: Path, *, context_length: int = 1024, chat_template: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=[EOS], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(["hello world, the quick brown fox jumps over the lazy dog"] * 10, trainer)
    tokenizer.save(str(folder / "tokenizer.json"))
    vocab = tokenizer.get_vocab_size()
    eos = tokenizer.token_to_id(EOS)
    tokenizer_config: dict[str, object] = {
        "tokenizer_class": "GPT2Tokenizer",
        "bos_token": EOS,
        "eos_token": EOS,
        "unk_token": EOS,
        "model_max_length": context_length,
        "add_bos_token": False,
    }
    if chat_template:
        tokenizer_config["chat_template"] = CHAT_TEMPLATE
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    (folder / "special_tokens_map.json").write_text(
        json.dumps({"bos_token": EOS, "eos_token": EOS, "unk_token": EOS})
    )

    shift = np.zeros((vocab, vocab), np.float32)
    for i in range(vocab):
        shift[i, (i + 1) % vocab] = 10.0
    shift[vocab - 1, :] = 0.0
    shift[vocab - 1, eos] = 10.0  # the last id ends the text
    key_proj = np.random.default_rng(0).standard_normal((vocab, HEAD_SIZE)).astype(np.float32)
    initializers = [
        numpy_helper.from_array(np.eye(vocab, dtype=np.float32), "embed"),
        numpy_helper.from_array(shift, "lm_head"),
        numpy_helper.from_array(key_proj, "key_proj"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
    ]
    nodes = [
        helper.make_node("Gather", ["embed", "input_ids"], ["hidden"], axis=0),
        helper.make_node("MatMul", ["hidden", "lm_head"], ["logits"]),
        helper.make_node("MatMul", ["hidden", "key_proj"], ["kv3"]),
        helper.make_node("Unsqueeze", ["kv3", "axis1"], ["kv4"]),
        helper.make_node("Concat", ["past_key_values.0.key", "kv4"], ["present.0.key"], axis=2),
        helper.make_node("Concat", ["past_key_values.0.value", "kv4"], ["present.0.value"], axis=2),
    ]
    kv_past: list[str | int] = ["batch_size", 1, "past_sequence_length", HEAD_SIZE]
    kv_total: list[str | int] = ["batch_size", 1, "total_sequence_length", HEAD_SIZE]
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
        helper.make_tensor_value_info(
            "attention_mask", TensorProto.INT64, ["batch_size", "total_sequence_length"]
        ),
        helper.make_tensor_value_info("past_key_values.0.key", TensorProto.FLOAT, kv_past),
        helper.make_tensor_value_info("past_key_values.0.value", TensorProto.FLOAT, kv_past),
    ]
    outputs = [
        helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", "sequence_length", vocab]),
        helper.make_tensor_value_info("present.0.key", TensorProto.FLOAT, kv_total),
        helper.make_tensor_value_info("present.0.value", TensorProto.FLOAT, kv_total),
    ]
    graph = helper.make_graph(nodes, "tiny-decoder", inputs, outputs, initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "model.onnx"))

    config = {
        "model": {
            "type": "llama",
            "bos_token_id": eos,
            "eos_token_id": eos,
            "pad_token_id": eos,
            "vocab_size": vocab,
            "context_length": context_length,
            "decoder": {
                "session_options": {"log_id": "tiny", "provider_options": []},
                "filename": "model.onnx",
                "num_attention_heads": 1,
                "num_key_value_heads": 1,
                "head_size": HEAD_SIZE,
                "hidden_size": HEAD_SIZE,
                "num_hidden_layers": 1,
                "inputs": {
                    "input_ids": "input_ids",
                    "attention_mask": "attention_mask",
                    "past_key_names": "past_key_values.%d.key",
                    "past_value_names": "past_key_values.%d.value",
                },
                "outputs": {
                    "logits": "logits",
                    "present_key_names": "present.%d.key",
                    "present_value_names": "present.%d.value",
                },
            },
        },
        "search": {"do_sample": False, "max_length": context_length, "past_present_share_buffer": False},
    }
    (folder / "genai_config.json").write_text(json.dumps(config, indent=2))
    return folder
