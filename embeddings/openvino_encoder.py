"""The packaged sentence model run by OpenVINO on the CPU, with the vectors PyTorch gives.

The model is converted once, at first use, from the installed model directory with the
`openvino` package's own PyTorch conversion (no optimum, no download): the transformer and the
mean pooling become one graph, saved as OpenVINO IR under `cache_dir` in a directory named by
a hash of the model's files and the OpenVINO version, written aside and renamed into place so
that a crash or a second process converting at the same moment never leaves half an export.
After that, encoding needs neither torch nor transformers: the tokenizer is the model's own
`tokenizer.json` run by `tokenizers`, truncated to `max_seq_length` as sentence-transformers
does, and the vectors are L2-normalised here.

`precision` is OpenVINO's `INFERENCE_PRECISION_HINT`: `f32` gives PyTorch's vectors up to
rounding (cosine >= 0.99999 on the bundled sample, the same top-10 lists); `bf16` is faster on
CPUs with AVX512-BF16 or AMX and moves vectors slightly. Both are part of `identity`, so a change
of backend or precision re-encodes and vectors never mix.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.encoder import (
    DEFAULT_MODEL,
    ProgressCallback,
    resolve_model_path,
    set_environment_defaults,
)

PRECISIONS = ("f32", "bf16")
"""Values of `precision` (OpenVINO's INFERENCE_PRECISION_HINT on the CPU)."""
EXPORT_FORMAT = 1
"""Bumped whenever what `export` writes changes, so old exports are not reused."""
MODEL_FILES = ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json")
"""The files of a model directory whose bytes name its export."""


def export_key(model_path: Path) -> str:
    """A hash of what the export depends on: the model's files, OpenVINO's version, the format."""
    import openvino

    digest = hashlib.sha256(f"{EXPORT_FORMAT}:{openvino.__version__}".encode())
    for name in MODEL_FILES:
        path = model_path / name
        if path.exists():
            digest.update(name.encode())
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def export(model_path: Path, target: Path) -> Path:
    """Convert the model at `model_path` into OpenVINO IR at `target` (a directory holding
    `model.xml` and `model.bin`) unless it is already there; return `target`."""
    if (target / "model.xml").exists():
        return target
    import openvino
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    transformer = AutoModel.from_pretrained(str(model_path)).eval()
    example = dict(tokenizer(["an example", "two examples"], padding=True, return_tensors="pt"))
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
    tmp.mkdir(parents=True)
    try:
        # Tracing warns about Python branches on shapes; the graph keeps its shapes dynamic.
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            graph = openvino.convert_model(_mean_pooled(transformer), example_input=example)
        openvino.save_model(graph, str(tmp / "model.xml"), compress_to_fp16=False)
        for path in tmp.iterdir():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "model.xml").exists():
                raise
            # Another process finished the same export first: theirs is as good as ours.
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


class OpenVINOEncoder:
    """A sentence-transformers model directory encoded by OpenVINO on the CPU.

    Loaded (and at first use converted) lazily; thread-safe: each `encode` call runs its own
    inference requests (one per stream) on the one compiled model.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        cache_dir: Path,
        max_seq_length: int = 256,
        batch_size: int = 32,
        precision: str = "f32",
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        self.model_name = model
        self.cache_dir = cache_dir
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self.precision = precision
        self._compiled: Any = None
        self._tokenizer: Any = None
        self._streams = 1
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        return f"{self.model_name}@{self.max_seq_length}/openvino-{self.precision}"

    @property
    def dimension(self) -> int:
        compiled, _ = self._load()
        return int(compiled.outputs[0].get_partial_shape()[1].get_length())

    def export_dir(self) -> Path:
        """Where this model's export lives (made by the first `encode` or `warm_up`)."""
        return self.cache_dir / f"openvino-{export_key(Path(resolve_model_path(self.model_name)))}"

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._compiled is None:
                set_environment_defaults(os.environ, "cpu")
                import openvino
                from tokenizers import Tokenizer

                model_path = Path(resolve_model_path(self.model_name))
                target = export(model_path, self.export_dir())
                tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
                tokenizer.enable_truncation(max_length=self.max_seq_length)
                pad_id, pad_token = _padding(model_path, tokenizer)
                tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
                # THROUGHPUT: a stream per core or so (2 on 2 cores), each with its own threads;
                # a batch is split across them (see `encode`). One stream of every core's
                # threads (LATENCY) spent 4-7% more CPU an article and, on a loaded machine,
                # waited ~20% longer: each layer's threads wait for the slowest.
                compiled = openvino.Core().compile_model(
                    str(target / "model.xml"),
                    "CPU",
                    {"INFERENCE_PRECISION_HINT": self.precision, "PERFORMANCE_HINT": "THROUGHPUT"},
                )
                self._streams = max(
                    int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")), 1
                )
                self._compiled = compiled
                self._tokenizer = tokenizer
            return self._compiled, self._tokenizer

    def warm_up(self) -> None:
        """Convert (the first time) and compile the model now, off the request path."""
        self._load()

    def encode(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> npt.NDArray[np.float32]:
        compiled, tokenizer = self._load()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        # One request per stream, each given a share of every batch's rows; the next batch is
        # tokenized while they run. A share is padded as its whole batch is: it gets the
        # vectors the whole batch would (identical, on the bundled sample).
        requests = [compiled.create_infer_request() for _ in range(self._streams)]
        # Longest first, as sentence-transformers batches: similar lengths pad least.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        size = max(self.batch_size, 1)
        batches = [order[start : start + size] for start in range(0, len(order), size)]
        inputs = _inputs(tokenizer, [texts[i] for i in batches[0]])
        done = reported = 0
        for index, rows in enumerate(batches):
            shares = [s for s in np.array_split(np.arange(len(rows)), len(requests)) if len(s)]
            for request, share in zip(requests, shares, strict=False):
                part = slice(int(share[0]), int(share[-1]) + 1)
                request.start_async({name: array[part] for name, array in inputs.items()})
            if index + 1 < len(batches):
                inputs = _inputs(tokenizer, [texts[i] for i in batches[index + 1]])
            for request, share in zip(requests, shares, strict=False):
                request.wait()
                pooled = np.array(request.get_output_tensor(0).data, dtype=np.float32)
                norms = np.linalg.norm(pooled, axis=1, keepdims=True)
                out[[rows[int(k)] for k in share]] = pooled / np.maximum(norms, 1e-12)
            # Reported in steps of 4 batches, as the PyTorch encoder does.
            done += len(rows)
            if progress is not None and (done - reported >= size * 4 or done == len(order)):
                progress(done - reported)
                reported = done
        return out


def _inputs(tokenizer: Any, texts: list[str]) -> dict[str, npt.NDArray[np.int64]]:
    """The model's inputs for `texts`, padded to the longest of them."""
    encodings = tokenizer.encode_batch(texts)
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }


def _mean_pooled(transformer: Any) -> Any:
    """A module giving the transformer's token states averaged over the real (unpadded)
    tokens, as sentence-transformers' mean pooling does."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            states = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            return (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    return MeanPooled()


def _padding(model_path: Path, tokenizer: Any) -> tuple[int, str]:
    """The model's padding token and its id (`[PAD]`, 0 for BERT vocabularies)."""
    config = model_path / "tokenizer_config.json"
    pad = "[PAD]"
    if config.exists():
        pad = json.loads(config.read_text(encoding="utf-8")).get("pad_token") or pad
        if isinstance(pad, dict):
            pad = pad.get("content", "[PAD]")
    found = tokenizer.token_to_id(str(pad))
    return (0 if found is None else int(found)), str(pad)
