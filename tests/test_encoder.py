"""The encoder's environment (`embeddings.encoder`): offline always, and parallel tokenizing
only where the model does not already use every core."""

from __future__ import annotations

import pytest

from embeddings.encoder import set_environment_defaults


@pytest.mark.parametrize(
    ("device", "parallel"),
    [("cpu", "false"), ("CPU", "false"), ("cuda", "true"), ("cuda:1", "true"), ("mps", "true")],
)
def test_tokenizing_is_parallel_only_off_the_cpu(device: str, parallel: str) -> None:
    environ: dict[str, str] = {}
    set_environment_defaults(environ, device)
    assert environ == {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": parallel,
    }


def test_what_the_caller_set_wins() -> None:
    environ = {"TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "0"}
    set_environment_defaults(environ, "cuda")
    assert environ["TOKENIZERS_PARALLELISM"] == "false"
    assert environ["HF_HUB_OFFLINE"] == "0"
