"""Fuzz a real `related serve` from its own OpenAPI document, for longer than the test suite.

    .venv/bin/python bench/bench_fuzz.py --requests 10000

Copies the bundled sample (built with the model-free `hashing` encoder unless --model says
otherwise) to a temporary directory, serves it with RELATED_API_TOKEN set, and has
schemathesis generate requests for every documented operation, valid and broken on purpose
(see tests/fuzzing.py). Prints the machine, the requests sent, the statuses received and
every answer outside the contract (5xx, an error not in the one shape, a 2xx that is not valid
JSON, anything the document does not say); exits 1 if there was one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.common import describe_machine, machine, start_server  # noqa: E402
from tests.conftest import built_sample, wait_until_idle  # noqa: E402
from tests.fuzzing import Tally, fuzz  # noqa: E402

TOKEN = "bench-fuzz-token"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000, help="at least this many")
    parser.add_argument("--model", default="hashing")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(describe_machine(machine()), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        if args.model == "hashing":
            from embeddings.hashing import HashingEncoder

            encoder = HashingEncoder()
        else:
            from embeddings.encoder import SentenceTransformerEncoder

            encoder = SentenceTransformerEncoder(args.model)
        data_dir = built_sample(Path(tmp), encoder, args.model)
        process, base = start_server(
            data_dir, env={"RELATED_MODEL": args.model, "RELATED_API_TOKEN": TOKEN}
        )
        total = Tally()
        try:
            seed = args.seed
            # Rounds with new seeds until enough requests went out: small operations exhaust
            # what they can generate long before the large ones do.
            while total.requests < args.requests:
                tally = fuzz(base, token=TOKEN, per_operation=200, seed=seed)
                total.requests += tally.requests
                total.statuses.update(tally.statuses)
                total.failures += tally.failures
                total.seconds += tally.seconds
                print(f"round {seed - args.seed + 1}: {tally.summary()}", flush=True)
                seed += 1
            wait_until_idle(lambda: requests.get(f"{base}/index", timeout=10).json())
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"total: {total.summary()}")
    for failure in total.failures:
        print("FAILURE", failure)
    return 1 if total.failures else 0


if __name__ == "__main__":
    sys.exit(main())
