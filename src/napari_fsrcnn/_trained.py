"""Weights trained in this napari session, which the upscale widget offers as models.

The *Train FSRCNN* widget adds each weights file it saves with
:func:`add_trained`; :class:`~napari_fsrcnn.FSRCNNWidget` lists them (as
``Trained: <name>``) and refreshes its list when :data:`trained_added`
is emitted. The list lives as long as the Python process.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from psygnal import Signal

__all__ = ["TrainedWeights", "add_trained", "trained_added", "trained_weights"]


class TrainedWeights(NamedTuple):
    """A weights file trained in this session."""

    #: The run name (the folder of the weights file).
    name: str
    #: The weights file.
    path: Path
    #: The upscaling factor the weights were trained for.
    scale: int


class _Registry:
    """Holds the session's trained weights and the signal that announces a new one."""

    added = Signal(TrainedWeights)

    def __init__(self):
        self.weights = []


_REGISTRY = _Registry()
#: Emitted with a :class:`TrainedWeights` each time one is added.
trained_added = _REGISTRY.added


def add_trained(name, path, scale):
    """Record a trained weights file and announce it on :data:`trained_added`.

    Parameters
    ----------
    name : str
        The name shown in the upscale widget (``Trained: <name>``).
    path : str or path-like
        The weights file.
    scale : {2, 3, 4}
        The upscaling factor the weights were trained for.

    Returns
    -------
    TrainedWeights
        The new entry.

    Examples
    --------
    >>> entry = add_trained("my-run", "runs/my-run/best.safetensors", 2)  # doctest: +SKIP
    >>> entry in trained_weights()  # doctest: +SKIP
    True
    """
    entry = TrainedWeights(str(name), Path(path), int(scale))
    _REGISTRY.weights.append(entry)
    trained_added.emit(entry)
    return entry


def trained_weights():
    """The weights trained in this session, oldest first.

    Returns
    -------
    tuple of TrainedWeights

    Examples
    --------
    >>> isinstance(trained_weights(), tuple)
    True
    """
    return tuple(_REGISTRY.weights)
