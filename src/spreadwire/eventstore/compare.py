"""Do the read models equal a rebuild from the log?"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from spreadwire.eventstore.projection import Projection, ProjectionRunner, ReadModelStore
from spreadwire.eventstore.recorder import Recorder

#: Differences a report lists (the count covers all of them).
MAX_LISTED = 50


def compare_read_models(
    recorder: Recorder,
    live: ReadModelStore,
    scratch: ReadModelStore,
    projections: Sequence[Projection],
    progress: Callable[[str, int, int], None] | None = None,
) -> list[str]:
    """Rebuild ``projections`` into ``scratch`` up to each projection's tracked position in
    ``live`` and list every difference (empty when they agree; all of them, a report cuts
    the list at ``MAX_LISTED``). ``progress(name, position, tracked)`` follows each
    rebuild."""
    differences: list[str] = []
    tracking = live.tracking()
    for projection in projections:
        tracked = tracking.get(projection.name, 0)
        head = recorder.last_position()
        if tracked > head:
            differences.append(f"{projection.name}: tracked {tracked} is beyond the log {head}")
            continue
        step = None if progress is None else _step(progress, projection.name, tracked)
        ProjectionRunner(recorder, scratch, [projection]).rebuild(until=tracked, progress=step)
        for table in projection.tables:
            differences.extend(_diff(f"{projection.name}.{table}", live, scratch, table))
    return differences


def _step(
    progress: Callable[[str, int, int], None], name: str, tracked: int
) -> Callable[[int], None]:
    return lambda position: progress(name, position, tracked)


def read_model_lag(recorder: Recorder, live: ReadModelStore) -> int:
    """How many entries of the log the furthest-behind read model has not applied yet
    (a rebuild is compared up to what each has applied; this says how far that is)."""
    tracking = live.tracking()
    if not tracking:
        return recorder.last_position()
    return max(0, recorder.last_position() - min(tracking.values()))


def _diff(label: str, live: ReadModelStore, rebuilt: ReadModelStore, table: str) -> list[str]:
    have = live.rows(table)
    want = rebuilt.rows(table)
    out = [f"{label}[{key}]: missing" for key in want.keys() - have.keys()]
    out += [f"{label}[{key}]: not in a rebuild" for key in have.keys() - want.keys()]
    out += [
        f"{label}[{key}]: {have[key]} != rebuilt {want[key]}"
        for key in sorted(have.keys() & want.keys())
        if have[key] != want[key]
    ]
    return sorted(out)
