"""Publishing generations and following them: checksums, the protocol at the location, the
replica's read path, and a follower killed half way through a download."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from embeddings.hashing import HashingEncoder
from service.build.builder import build
from service.cli import cli
from service.config.settings import Settings
from service.generations.checksums import digest_file
from service.generations.generation import MANIFEST, Generation, current_name
from service.replicas.follower import follow
from service.replicas.location import open_location
from service.replicas.publish import POINTER, publish_all, read_pointer
from service.store import ArticleStore
from service.web.app import create_app
from tests.conftest import HEATWAVE, make_settings

OTHER = "2026-03-09-grid-operator-demand-response"


def publish(settings: Settings, location: str) -> Any:
    with ArticleStore(settings.db_path) as store:
        return publish_all(settings.replace(publish=location), store)


def replica_settings(tmp_path: Path, location: str, name: str = "replica") -> Settings:
    return make_settings(tmp_path / name, follow=location, primary_url="http://primary:8000")


def replica_client(settings: Settings) -> FlaskClient:
    return create_app(settings).test_client()


def related_ids(client: FlaskClient, article_id: str, **params: Any) -> list[str]:
    response = client.get(f"/articles/{article_id}/related", query_string={"k": 8, **params})
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["related"]]


def test_a_generation_manifest_records_the_size_and_sha256_of_every_file(
    sample_copy: Settings,
) -> None:
    root = sample_copy.generations_dir
    generation = Generation.load(root, current_name(root) or "")
    on_disk = {p.name for p in generation.path.iterdir() if p.name != MANIFEST}
    assert set(generation.manifest.files) == on_disk
    for name, digest in generation.manifest.files.items():
        assert digest_file(generation.path / name) == digest


def test_publishing_uploads_a_complete_generation_before_moving_the_pointer(
    sample_copy: Settings, tmp_path: Path, hashing: HashingEncoder
) -> None:
    location = tmp_path / "published"
    report = publish(sample_copy, str(location))
    name = current_name(sample_copy.generations_dir)
    assert report.generation == name and report.generation_published
    pointer = read_pointer(open_location(str(location)))
    assert pointer is not None and pointer.generation == name
    published = location / "generations" / str(name)
    assert digest_file(published / MANIFEST) == pointer.manifest
    manifest = json.loads((published / MANIFEST).read_text())
    for file, digest in manifest["files"].items():
        assert digest_file(published / file) == type(pointer.manifest)(**digest)
    assert not [p for p in (location / "generations").iterdir() if p.name.startswith(".")]
    # Publishing again uploads nothing; a new build is uploaded and old ones are let go.
    assert not publish(sample_copy, str(location)).generation_published
    for _ in range(2):
        with ArticleStore(sample_copy.db_path) as store:
            build(sample_copy, store, hashing, full=True)
        assert publish(sample_copy, str(location)).generation_published
    kept = sorted(p.name for p in (location / "generations").iterdir())
    assert len(kept) == sample_copy.keep_generations
    assert kept[-1] == current_name(sample_copy.generations_dir)
    assert (location / POINTER).is_file()


def test_a_replica_serves_the_published_lists_pins_and_blocks_without_the_store(
    sample_copy: Settings, tmp_path: Path
) -> None:
    location = str(tmp_path / "published")
    with ArticleStore(sample_copy.db_path) as store:
        store.set_pins(HEATWAVE, [OTHER])
    publish(sample_copy, location)
    replica = replica_settings(tmp_path, location)
    state = follow(replica, once=True)
    assert state.error is None and state.generation == current_name(sample_copy.generations_dir)
    assert not replica.db_path.exists()

    primary = create_app(sample_copy, encoder=HashingEncoder()).test_client()
    client = replica_client(replica)
    assert related_ids(client, HEATWAVE) == related_ids(primary, HEATWAVE)
    assert related_ids(client, HEATWAVE)[0] == OTHER  # the pin
    for params in ({"section": "Climate"}, {"recency": "none", "explain": "true"}):
        assert related_ids(client, OTHER, **params) == related_ids(primary, OTHER, **params)
    article = client.get(f"/articles/{HEATWAVE}").get_json()["article"]
    assert article["title"] and article["body"] == ""  # bodies are not published
    index = client.get("/index").get_json()
    assert index["role"] == "replica" and index["generation"] == state.generation

    # Blocks and deletions reach the replica without a rebuild, through the editorial snapshot.
    blocked = related_ids(client, HEATWAVE)[1]
    deleted = related_ids(client, HEATWAVE)[2]
    with ArticleStore(sample_copy.db_path) as store:
        store.set_blocks("", [blocked])
        with store.write() as writer:
            writer.delete(deleted)
    report = publish(sample_copy, location)
    assert report.editorial_published and not report.generation_published
    assert follow(replica, once=True).error is None
    shown = related_ids(client, HEATWAVE)
    assert blocked not in shown and deleted not in shown and shown == related_ids(primary, HEATWAVE)
    assert client.get(f"/articles/{deleted}").status_code == 404
    assert client.get("/blocks").get_json()["ids"] == [blocked]


def test_a_replica_refuses_writes_and_drafts_naming_the_primary(
    sample_copy: Settings, tmp_path: Path
) -> None:
    location = str(tmp_path / "published")
    publish(sample_copy, location)
    replica = replica_settings(tmp_path, location)
    follow(replica, once=True)
    client = replica_client(replica)
    for method, path, body in (
        ("put", f"/articles/{HEATWAVE}/pins", {"ids": [OTHER]}),
        ("post", "/articles", {"id": "new", "title": "New"}),
        ("delete", f"/articles/{HEATWAVE}", None),
        ("post", "/related", {"title": "A draft about the grid"}),
        ("post", "/index/rebuild", None),
        ("get", f"/articles/{HEATWAVE}/curated", None),
    ):
        response = getattr(client, method)(path, json=body)
        error = response.get_json()
        assert response.status_code == 403, (path, error)
        assert error["code"] == "read_only_replica" and "http://primary:8000" in error["error"]
    assert client.get("/nowhere").status_code == 404


def test_a_follower_refuses_a_file_that_does_not_match_its_checksum(
    sample_copy: Settings, tmp_path: Path
) -> None:
    location = tmp_path / "published"
    publish(sample_copy, str(location))
    name = current_name(sample_copy.generations_dir)
    damaged = location / "generations" / str(name) / "neighbour_keys.npy"
    data = bytearray(damaged.read_bytes())
    data[-1] ^= 0xFF
    damaged.write_bytes(bytes(data))
    replica = replica_settings(tmp_path, str(location))
    state = follow(replica, once=True)
    assert state.error is not None and "neighbour_keys.npy" in state.error
    assert current_name(replica.generations_dir) is None
    assert replica_client(replica).get("/readyz").status_code == 503


def test_publishing_to_an_fsspec_url(sample_copy: Settings, tmp_path: Path) -> None:
    location = "memory://related-test/published"
    publish(sample_copy, location)
    replica = replica_settings(tmp_path, location)
    assert follow(replica, once=True).error is None
    primary = create_app(sample_copy, encoder=HashingEncoder()).test_client()
    assert related_ids(replica_client(replica), OTHER) == related_ids(primary, OTHER)


FOLLOW = [sys.executable, "-m", "service", "follow"]


def follower(replica: Settings, *env: tuple[str, str]) -> subprocess.CompletedProcess[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RELATED_")}
    environment.update(env)
    return subprocess.run(
        [*FOLLOW, replica.follow, "--once", "--data-dir", str(replica.data_dir)],
        env=environment,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_a_follower_killed_mid_download_serves_the_last_complete_generation_then_resumes(
    sample_copy: Settings, tmp_path: Path, hashing: HashingEncoder
) -> None:
    location = str(tmp_path / "published")
    publish(sample_copy, location)
    replica = replica_settings(tmp_path, location)
    assert follower(replica).returncode == 0
    first = current_name(replica.generations_dir)
    with ArticleStore(sample_copy.db_path) as store:
        build(sample_copy, store, hashing, full=True)
    publish(sample_copy, location)
    second = current_name(sample_copy.generations_dir)

    killed = follower(replica, ("RELATED_FAILPOINT", "replica-mid-download"))
    assert killed.returncode == -9
    partial = replica.generations_dir / f".download-{second}"
    assert partial.is_dir() and len(list(partial.iterdir())) == 1
    assert current_name(replica.generations_dir) == first
    client = replica_client(replica)
    assert client.get("/readyz").get_json()["generation"] == first
    assert related_ids(client, HEATWAVE)

    assert follower(replica).returncode == 0
    assert current_name(replica.generations_dir) == second and not partial.exists()
    served = Generation.load(replica.generations_dir, str(second))
    built = Generation.load(sample_copy.generations_dir, str(second))
    assert np.array_equal(served.parts.neighbour_keys, built.parts.neighbour_keys)


def test_a_data_directory_either_publishes_or_follows(tmp_path: Path) -> None:
    from service.errors import ConfigError

    with pytest.raises(ConfigError, match="exclusive"):
        make_settings(tmp_path, publish="/a", follow="/b")


def test_a_follower_refuses_a_manifest_naming_files_outside_its_generation(
    sample_copy: Settings, tmp_path: Path
) -> None:
    location = tmp_path / "published"
    publish(sample_copy, str(location))
    pointer = read_pointer(open_location(str(location)))
    assert pointer is not None
    manifest_path = location / "generations" / pointer.generation / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    escape = "../../../escaped.npy"
    manifest["files"][escape] = manifest["files"]["keys.npy"]
    manifest_path.write_text(json.dumps(manifest))
    forged = replace(pointer, manifest=digest_file(manifest_path))
    (location / POINTER).write_bytes(forged.dumps())
    replica = replica_settings(tmp_path, str(location))
    state = follow(replica, once=True)
    assert state.error is not None and "outside its generation" in state.error
    assert not (tmp_path / "escaped.npy").exists() and current_name(replica.generations_dir) is None


def test_the_publish_command_publishes_and_reports_the_location(
    sample_copy: Settings, tmp_path: Path
) -> None:
    location = str(tmp_path / "published")
    runner = CliRunner()
    args = ["publish", location, "--data-dir", str(sample_copy.data_dir)]
    result = runner.invoke(cli, args, env={"RELATED_MODEL": "hashing"})
    assert result.exit_code == 0, result.output
    generation = current_name(sample_copy.generations_dir)
    assert f"generation {generation} published to {location}" in result.output
    again = runner.invoke(cli, args, env={"RELATED_MODEL": "hashing"})
    assert "already published" in again.output and "editorial unchanged" in again.output
    status = json.loads(runner.invoke(cli, [*args, "--status"]).output)
    assert status["generation"] == generation and status["generations"] == [generation]
