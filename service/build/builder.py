"""Store -> encode what changed -> index + neighbour lists -> a new published generation.

`build` takes the data directory's build lock, reads the store once (every key and revision,
then the articles the build needs, in one snapshot), and runs a full build
(`service.build.full`) or an incremental one (`service.build.incremental`), which `plan_build`
chooses. Its state is reported in `build-status.json` (`service.build.state`).
"""

from __future__ import annotations

from pathlib import Path

from embeddings.encoder import Encoder
from service.build.engines import Engine, LocalEngine
from service.build.full import full_build
from service.build.incremental import Carried, FullBuild, incremental_build, plan_build
from service.build.report import BuildReport
from service.build.state import BuildStatus, build_lock
from service.build.steps import (
    EmptyStore,
    Job,
    Progress,
    fit_chrome,
    read_articles,
)
from service.config.settings import Settings
from service.disk.full import disk_full
from service.errors import IndexMismatch, StorageFull
from service.generations.generation import Generation, current_name, remove_old
from service.quality.profiles import active_profile
from service.store import ArticleStore

__all__ = ["BuildReport", "EmptyStore", "build"]


def build(
    settings: Settings,
    store: ArticleStore,
    encoder: Encoder,
    *,
    progress: Progress | None = None,
    full: bool = False,
    engine: Engine | None = None,
) -> BuildReport:
    """Build and publish a new generation from the store's current articles.

    Incremental when the last generation can be carried over; `full` refits the lexical models
    and statistics basis and ranks every list anew. `engine` runs encoding and ranking (default:
    in this process); the caller closes it.
    """
    with build_lock(settings.data_dir):
        # Leftovers of failed or killed builds go first: on a disk that was full, their space
        # is what lets this build write even its status.
        remove_old(settings.generations_dir, settings.keep_generations)
        status = BuildStatus(settings.data_dir)

        def report_progress(phase: str, done: int, total: int) -> None:
            status.progress(phase, done, total)
            if progress is not None:
                progress(phase, done, total)

        try:
            status.start()
            result = _build_locked(
                settings,
                store,
                encoder,
                engine or LocalEngine(encoder),
                report_progress,
                full=full,
            )
            status.finish(result.to_json())
        except BaseException as exc:
            if not disk_full(exc):
                status.fail(exc)
                raise
            # Whichever library was writing, one reason; what the build left goes first, so
            # that the failure itself can be recorded.
            remove_old(settings.generations_dir, settings.keep_generations)
            failure = StorageFull(_no_space_message(settings, status.state.get("phase"), exc))
            status.fail(failure)
            raise failure from exc
        return result


def _no_space_message(settings: Settings, phase: object, error: BaseException) -> str:
    during = f" in its {phase} step" if isinstance(phase, str) and phase != "starting" else ""
    return (
        f"storage_full: the disk under {settings.data_dir} ran out of space{during} ({error}); "
        "the generation served is unchanged and this build's files were removed: free space "
        "and build again"
    )


def _build_locked(
    settings: Settings,
    store: ArticleStore,
    encoder: Encoder,
    engine: Engine,
    progress: Progress,
    *,
    full: bool,
) -> BuildReport:
    root = settings.generations_dir
    profile = active_profile(settings.data_dir)
    previous, why_not = _previous_generation(root, encoder.identity)
    since = previous.manifest.store_revision if previous is not None else -1
    # One consistent read of the store: every key and revision first, which settles whether the
    # last generation carries over; then only the articles the build must process.
    with store.snapshot():
        revision = store.revision()
        keys, revisions = store.key_revisions()
        if not len(keys):
            raise EmptyStore(
                "There are no articles to index: ingest some first (`related ingest FILE`)"
            )
        changed = set(keys[revisions > since].tolist())
        plan = plan_build(settings, previous, keys, changed, full=full, profile=profile)
        if isinstance(plan, FullBuild) and why_not and not full:
            plan = FullBuild(why_not)
        job = Job(settings, store, encoder, progress, previous, revision, keys, engine, profile)
        # The chrome is fitted by full builds and kept by incremental ones, like the models.
        chrome = plan.previous.parts.chrome if isinstance(plan, Carried) else fit_chrome(job)
        read = read_articles(job, keys[plan.rows_to_read(len(keys))], chrome)
    if isinstance(plan, Carried):
        return incremental_build(job, read, plan)
    return full_build(job, read, plan.why, chrome)


def _previous_generation(root: Path, identity: str) -> tuple[Generation | None, str | None]:
    """The generation being served if a new build could start from it, else why not."""
    name = current_name(root)
    if name is None:
        return None, None
    try:
        generation = Generation.load(root, name)
        generation.check_compatible(identity)
    except IndexMismatch as exc:
        return None, f"the previous generation can't be carried over: {exc.message}"
    except (OSError, ValueError, KeyError) as exc:
        return None, f"the previous generation could not be read: {exc}"
    return generation, None
