"""Adapters that persist: event-store backends, read models, tick history.

The facade exports only :func:`open_store`, the composition side's way to get a
:class:`~spreadwire.eventstore.recorder.Recorder` from a URL.
"""

from spreadwire.persistence.store import open_store

__all__ = ["open_store"]
