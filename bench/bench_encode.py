"""Encoding throughput of the service's encoder on one device, by batch size.

    .venv/bin/python bench/bench_encode.py --corpus ../shared/data/auth0_blog/articles.jsonl
    python3 bench/bench_encode.py --corpus articles.jsonl --device cuda --batch-sizes 32,128,512

The texts are what a build encodes (`embedding_text`: title, then body, cut to
RELATED_MAX_TEXT_CHARS), taken in turn from the corpus and cycled until there are `--texts` of
them; each backend of `--backends` (torch, openvino-f32, openvino-bf16) is made as `related
build` makes it for RELATED_ENCODER_BACKEND, RELATED_ENCODER_PRECISION, RELATED_DEVICE,
RELATED_MAX_SEQ_LENGTH and each batch size (RELATED_BATCH_SIZE). A warm-up pass comes first
(the model's load or conversion, CUDA's start); then the backends take turns `--rounds` times,
so a loaded machine slows each alike, and each is given as a ratio to the first within the run,
by wall time and by the CPU time this process spent (steadier where other work shares the cores),
and as the model's arithmetic per CPU second (GFLOP/s: its matrix products on the texts' tokens).
`--matmul-peak` first measures what one f32 matrix product of the model's own shape reaches in
OpenVINO on this CPU, the ceiling for f32, and prints the precision OpenVINO's CPU plugin runs
a model in when not told (bf16 where the CPU has AVX512-BF16 or AMX).
The last vectors of every backend are compared with the first's: cosine, and how many top-10
neighbour lists (by cosine, among the texts) are identical. With `--check N` on a device other
than the CPU, the first N texts are also encoded on the CPU and the vectors compared: a GPU build
must give the vectors the cache already holds, up to rounding.

    .venv/bin/python bench/bench_encode.py --corpus ../shared/data/auth0_blog/articles.jsonl \
        --backends torch,openvino-f32,openvino-bf16 --batch-sizes 8,32,128 --rounds 3

Needs only the encoder's packages (sentence-transformers, torch, openvino, numpy), not the
server's, so it runs on a GPU machine with nothing else installed. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from itertools import cycle, islice
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import describe_machine, machine  # noqa: E402
from embeddings.encoder import Encoder, SentenceTransformerEncoder, resolve_model_path  # noqa: E402
from embeddings.openvino_encoder import OpenVINOEncoder  # noqa: E402
from service.article import article_from_json, embedding_text  # noqa: E402
from service.config.settings import Settings  # noqa: E402


def corpus_texts(path: Path, count: int, max_chars: int) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        articles = [article_from_json(json.loads(line)) for line in handle if line.strip()]
    texts = [embedding_text(article, max_chars) for article in articles]
    return list(islice(cycle(texts), count))


def describe_device(device: str) -> str:
    if not device.startswith("cuda"):
        return device
    import torch

    index = torch.device(device).index or 0
    props = torch.cuda.get_device_properties(index)
    return (
        f"{device}: {props.name}, {props.total_memory / 2**30:.0f} GiB, torch {torch.__version__}"
    )


def make(backend: str, args: argparse.Namespace, batch_size: int) -> Encoder:
    """`torch`, `openvino-f32` or `openvino-bf16`, as `related build` makes it."""
    if backend == "torch":
        return SentenceTransformerEncoder(
            args.model,
            max_seq_length=args.max_seq_length,
            batch_size=batch_size,
            device=args.device,
        )
    name, _, precision = backend.partition("-")
    if name != "openvino":
        raise SystemExit(f"unknown backend {backend!r}: torch, openvino-f32 or openvino-bf16")
    return OpenVINOEncoder(
        args.model,
        cache_dir=args.model_cache,
        max_seq_length=args.max_seq_length,
        batch_size=batch_size,
        precision=precision or "f32",
    )


def model_flops(texts: list[str], model: str, max_seq_length: int) -> float:
    """The floating-point operations of a BERT-like encoder's matrix products on `texts`:
    per layer and token the four attention projections and the two feed-forward ones, plus
    the attention scores and their weighted sum over the text's tokens."""
    from tokenizers import Tokenizer

    path = Path(resolve_model_path(model))
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    hidden, inner = config["hidden_size"], config["intermediate_size"]
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_seq_length)
    flops = 0.0
    for encoding in tokenizer.encode_batch(texts):
        n = len(encoding.ids)
        flops += 2 * n * (4 * hidden * hidden + 2 * hidden * inner) + 4 * n * n * hidden
    return flops * float(config["num_hidden_layers"])


def matmul_peak(model: str) -> str:
    """What one f32 product of the model's feed-forward shape (8,192 tokens) reaches in
    OpenVINO on this CPU, on one thread and on all, and the plugin's default precision."""
    import openvino
    import openvino.opset13 as ops

    path = Path(resolve_model_path(model))
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    hidden, inner, tokens = config["hidden_size"], config["intermediate_size"], 8192
    core = openvino.Core()
    rng = np.random.default_rng(0)
    found = []
    for threads in (1, 0):
        x = ops.parameter([tokens, hidden], np.float32)
        weights = ops.constant(rng.random((hidden, inner), dtype=np.float32))
        graph = openvino.Model([ops.matmul(x, weights, False, False)], [x])
        compiled = core.compile_model(
            graph, "CPU", {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": threads}
        )
        request, data = compiled.create_infer_request(), rng.random((tokens, hidden), np.float32)
        request.infer([data])
        c0 = time.process_time()
        for _ in range(20):
            request.infer([data])
        rate = 20 * 2 * tokens * hidden * inner / (time.process_time() - c0) / 1e9
        found.append(f"{rate:.0f} ({'1 thread' if threads else 'all threads'})")
    default = core.get_property("CPU", "INFERENCE_PRECISION_HINT")
    return (
        f"f32 MatMul {tokens}x{hidden} @ {hidden}x{inner} in OpenVINO: GFLOP/s per CPU second "
        f"{', '.join(found)}; CPU plugin's default precision {default}"
    )


def top10(vectors: np.ndarray) -> np.ndarray:
    scores = vectors @ vectors.T
    np.fill_diagonal(scores, -np.inf)
    return np.argsort(-scores, axis=1, kind="stable")[:, :10]


def compare(reference: np.ndarray, vectors: np.ndarray) -> str:
    """Cosine to the reference's vectors, and how many top-10 lists are the same."""
    cosine = np.sum(reference * vectors, axis=1)
    a, b = top10(reference), top10(vectors)
    identical = float(np.mean([np.array_equal(x, y) for x, y in zip(a, b, strict=True)]))
    overlap = float(np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b, strict=True)]))
    return (
        f"cosine min {cosine.min():.6f}, top-10 identical {identical:.1%} (overlap {overlap:.4f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="articles as JSON lines")
    parser.add_argument("--model", default=Settings.model, help="default: the bundled model")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, mps (torch only)")
    parser.add_argument(
        "--backends",
        default="torch",
        help="comma-separated: torch, openvino-f32, openvino-bf16; the first is the reference",
    )
    parser.add_argument("--batch-sizes", default=str(Settings.batch_size))
    parser.add_argument("--texts", type=int, default=400, help="texts per batch size")
    parser.add_argument("--rounds", type=int, default=1, help="alternations of the backends")
    parser.add_argument("--max-seq-length", type=int, default=Settings.max_seq_length)
    parser.add_argument("--max-chars", type=int, default=Settings.max_text_chars)
    parser.add_argument("--model-cache", type=Path, default=Settings().models_dir)
    parser.add_argument("--check", type=int, default=0, help="texts to compare with the CPU")
    parser.add_argument(
        "--matmul-peak", action="store_true", help="first measure OpenVINO's f32 MatMul ceiling"
    )
    args = parser.parse_args()
    backends = args.backends.split(",")

    print(describe_machine(machine()))
    print(f"device: {describe_device(args.device)}; openvino {_openvino_version()}")
    texts = corpus_texts(args.corpus, args.texts, args.max_chars)
    print(
        f"texts: {len(texts)} from {args.corpus.name} (median {int(np.median([len(t) for t in texts]))} "
        f"characters, cut at {args.max_chars}), max_seq_length {args.max_seq_length}"
    )
    if args.matmul_peak:
        print(matmul_peak(args.model), flush=True)
    flops = model_flops(texts, args.model, args.max_seq_length)
    vectors: dict[str, np.ndarray] = {}
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        encoders = {backend: make(backend, args, batch_size) for backend in backends}
        warm = {}
        for backend, encoder in encoders.items():
            t0 = time.perf_counter()
            encoder.encode(texts[: batch_size * 4])  # load (convert) the model, warm the device
            warm[backend] = time.perf_counter() - t0
        seconds: dict[str, list[float]] = {backend: [] for backend in backends}
        cpu: dict[str, list[float]] = {backend: [] for backend in backends}
        # Alternated, so a load on the machine falls on every backend alike.
        for _ in range(args.rounds):
            for backend, encoder in encoders.items():
                t0, c0 = time.perf_counter(), time.process_time()
                vectors[backend] = encoder.encode(texts)
                seconds[backend].append(time.perf_counter() - t0)
                cpu[backend].append(time.process_time() - c0)
        reference = float(np.median(seconds[backends[0]]))
        reference_cpu = float(np.median(cpu[backends[0]]))
        for backend in backends:
            median, median_cpu = float(np.median(seconds[backend])), float(np.median(cpu[backend]))
            print(
                f"batch {batch_size:>4} {backend:<14}: {len(texts) / median:>8,.1f} articles/s, "
                f"{reference / median:.2f}x {backends[0]}; CPU {1000 * median_cpu / len(texts):.0f} "
                f"ms an article, {reference_cpu / median_cpu:.2f}x, {flops / median_cpu / 1e9:.0f} "
                f"GFLOP/s per CPU second (median of {args.rounds}; "
                f"load and warm-up {warm[backend]:.1f} s)",
                flush=True,
            )
    for backend in backends[1:]:
        print(f"{backend} against {backends[0]}: {compare(vectors[backends[0]], vectors[backend])}")
    last = vectors.get("torch")
    if args.check and last is not None and args.device != "cpu":
        on_cpu = SentenceTransformerEncoder(
            args.model, max_seq_length=args.max_seq_length, device="cpu"
        ).encode(texts[: args.check])
        cosine = np.sum(on_cpu * last[: args.check], axis=1)
        print(
            f"{args.device} against cpu on {args.check} texts: cosine min {cosine.min():.6f}, "
            f"largest coordinate difference {np.abs(on_cpu - last[: args.check]).max():.2e}"
        )


def _openvino_version() -> str:
    try:
        import openvino

        return str(openvino.__version__)
    except ImportError:
        return "not installed"


if __name__ == "__main__":
    main()
