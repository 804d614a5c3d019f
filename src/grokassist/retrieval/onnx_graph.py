"""Exact graph optimisations of an ONNX sentence-embedding model, cached on disk.

Sentence-transformer models exported by PyTorch's ``dynamo`` exporter (the
packaged all-MiniLM-L6-v2 is one) guard every attention softmax against NaN
with ``Where(IsNaN(softmax), 0, softmax)``: rows of a fully masked attention
matrix. A BERT encoder's rows always see at least the ``[CLS]`` token, so the
guard never fires, yet it costs about 14 % of the CPU time. :func:`optimise`

1. removes those guards (the output is bit-for-bit the same), then
2. runs ONNX Runtime's transformer optimiser (``onnxruntime.transformers``):
   bias + GELU and skip + layer norm fusions.

The result goes to ``<model cache>/onnx/<sha256 of the source>-ort<version>.onnx``
and is reused; the source model is never changed. Any failure leaves the
original model in use (with a log line), never an error.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from .._paths import model_cache_dir, sha256_file

__all__ = ["optimise", "remove_softmax_nan_guards"]

log = logging.getLogger(__name__)


def remove_softmax_nan_guards(graph: Any) -> int:
    """Rewire ``Where(IsNaN(s), 0, s)`` after a ``Softmax`` ``s`` to ``s``; returns guards removed."""
    from onnx import numpy_helper

    constants: dict[str, Any] = {i.name: i for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            constants[node.output[0]] = node.attribute[0].t
    producer = {out: node for node in graph.node for out in node.output}
    outputs = {o.name for o in graph.output}
    renamed: dict[str, str] = {}
    dropped = []
    for node in graph.node:
        if node.op_type != "Where" or len(node.input) != 3 or node.output[0] in outputs:
            continue
        condition, zero, value = node.input
        is_nan, softmax = producer.get(condition), producer.get(value)
        if is_nan is None or softmax is None or zero not in constants:
            continue
        if is_nan.op_type != "IsNaN" or is_nan.input[0] != value or softmax.op_type != "Softmax":
            continue
        fill = numpy_helper.to_array(constants[zero])
        if fill.size != 1 or float(fill.reshape(-1)[0]) != 0.0:
            continue
        renamed[node.output[0]] = value
        dropped.append(node)
        if sum(condition in n.input for n in graph.node) == 1:  # the IsNaN feeds only this Where
            dropped.append(is_nan)
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
    for node in dropped:
        graph.node.remove(node)
    return len(renamed)


def _optimised_bytes(source: Path) -> bytes:
    import onnx
    from onnxruntime.transformers.optimizer import optimize_by_fusion

    model = onnx.load(str(source))
    removed = remove_softmax_nan_guards(model.graph)
    fused = optimize_by_fusion(model, model_type="bert", num_heads=0, hidden_size=0)  # 0: detect
    log.info("optimised %s: %d softmax NaN guards removed, bert fusions applied", source, removed)
    return bytes(fused.model.SerializeToString())


def optimise(source: Path, cache_dir: Path | None = None) -> Path | bytes:
    """The optimised model: a cached file, the bytes if the cache is not writable, or ``source``."""
    try:
        import onnxruntime

        folder = (cache_dir or model_cache_dir()) / "onnx"
        target = folder / f"{sha256_file(source)[:32]}-ort{onnxruntime.__version__}.onnx"
        if target.is_file():
            return target
        data = _optimised_bytes(source)
    except Exception as exc:  # an optimisation is never worth failing for
        log.warning("using %s unoptimised: %s: %s", source, type(exc).__name__, exc)
        return source
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".partial", delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, target)  # atomic: a concurrent reader sees all or nothing
    except OSError as exc:
        log.info("cannot cache the optimised model in %s (%s); using it from memory", folder, exc)
        return data
    return target
