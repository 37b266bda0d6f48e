"""Encoding throughput of the service's encoder on one device, by batch size.

    .venv/bin/python bench/bench_encode.py --corpus ../shared/data/auth0_blog/articles.jsonl
    python3 bench/bench_encode.py --corpus articles.jsonl --device cuda --batch-sizes 32,128,512

The texts are what a build encodes (`embedding_text`: title, then body, cut to
RELATED_MAX_TEXT_CHARS), taken in turn from the corpus and cycled until there are `--texts` of
them; the encoder is `SentenceTransformerEncoder`, as `related build` makes it for
RELATED_DEVICE, RELATED_MAX_SEQ_LENGTH and each batch size (RELATED_BATCH_SIZE). A warm-up pass
comes first (the model's load, CUDA's start). With `--check N` on a device other than the CPU,
the first N texts are also encoded on the CPU and the vectors compared: a GPU build must give
the vectors the cache already holds, up to rounding.

Needs only the encoder's packages (sentence-transformers, torch, numpy), not the server's, so it
runs on a GPU machine with nothing else installed. Figures, not assertions.
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
from embeddings.encoder import SentenceTransformerEncoder  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="articles as JSON lines")
    parser.add_argument("--model", default=Settings.model, help="default: the bundled model")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, mps")
    parser.add_argument("--batch-sizes", default=str(Settings.batch_size))
    parser.add_argument("--texts", type=int, default=400, help="texts per batch size")
    parser.add_argument("--max-seq-length", type=int, default=Settings.max_seq_length)
    parser.add_argument("--max-chars", type=int, default=Settings.max_text_chars)
    parser.add_argument("--check", type=int, default=0, help="texts to compare with the CPU")
    args = parser.parse_args()

    print(describe_machine(machine()))
    print(f"device: {describe_device(args.device)}")
    texts = corpus_texts(args.corpus, args.texts, args.max_chars)
    print(
        f"texts: {len(texts)} from {args.corpus.name} (median {int(np.median([len(t) for t in texts]))} "
        f"characters, cut at {args.max_chars}), max_seq_length {args.max_seq_length}"
    )
    vectors = None
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        encoder = SentenceTransformerEncoder(
            args.model,
            max_seq_length=args.max_seq_length,
            batch_size=batch_size,
            device=args.device,
        )
        t0 = time.perf_counter()
        encoder.encode(texts[: batch_size * 4])  # load the model and warm the device up
        warm_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        vectors = encoder.encode(texts)
        seconds = time.perf_counter() - t0
        print(
            f"batch {batch_size:>4}: {len(texts) / seconds:>8,.1f} articles/s "
            f"({len(texts)} in {seconds:.1f} s; load and warm-up {warm_s:.1f} s)",
            flush=True,
        )
    if args.check and vectors is not None and args.device != "cpu":
        cpu = SentenceTransformerEncoder(
            args.model, max_seq_length=args.max_seq_length, device="cpu"
        ).encode(texts[: args.check])
        cosine = np.sum(cpu * vectors[: args.check], axis=1)
        print(
            f"{args.device} against cpu on {args.check} texts: cosine min {cosine.min():.6f}, "
            f"largest coordinate difference {np.abs(cpu - vectors[: args.check]).max():.2e}"
        )


if __name__ == "__main__":
    main()
