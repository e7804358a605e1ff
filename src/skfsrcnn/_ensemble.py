"""Geometric self-ensemble: the network run on the 8 flips and rotations of its input, averaged.

A transform acts on the last two (spatial) axes of a batch of planes: ``k``
quarter turns, then, if ``flip``, a mirror of the columns. Rotating a
non-square tile swaps its sides; the network does not mind. Members are
averaged pixel by pixel with Welford's update, which also gives their
spread (the sum of squared deviations) without keeping the 8 outputs.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Transform:
    """``turns`` quarter turns of the spatial axes, then a mirror of the columns if ``flip``."""

    turns: int = 0
    flip: bool = False

    def apply(self, batch):
        """The transformed view of ``batch`` (..., M, N)."""
        turned = np.rot90(batch, self.turns, axes=(-2, -1))
        return turned[..., ::-1] if self.flip else turned

    def undo(self, batch):
        """The inverse of :meth:`apply`."""
        unflipped = batch[..., ::-1] if self.flip else batch
        return np.rot90(unflipped, -self.turns, axes=(-2, -1))


#: The 8 transforms of the dihedral group of the square, identity first.
DIHEDRAL = tuple(Transform(turns, flip) for flip in (False, True) for turns in range(4))

#: The single pass of a plain (not ensembled) run.
SINGLE = (Transform(),)


def transforms(ensemble):
    """The transforms to run: all 8 with ``ensemble``, else the identity only.

    Examples
    --------
    >>> from skfsrcnn._ensemble import transforms
    >>> len(transforms(True)), len(transforms(False))
    (8, 1)
    """
    return DIHEDRAL if ensemble else SINGLE


def transformed(network, transform):
    """``network`` run on ``transform`` of its input, the output transformed back.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn._ensemble import DIHEDRAL, transformed
    >>> double = lambda batch: np.kron(batch, np.ones((2, 2)))
    >>> batch = np.arange(6.0).reshape(1, 2, 3)
    >>> all(np.array_equal(transformed(double, t)(batch), double(batch)) for t in DIHEDRAL)
    True
    """
    if transform == SINGLE[0]:
        return network

    def run(batch):
        return transform.undo(network(np.ascontiguousarray(transform.apply(batch))))

    return run


class Members:
    """Running mean, and optionally spread, of ensemble members written region by region.

    Parameters
    ----------
    mean : ndarray
        Receives the mean of the members.
    spread : ndarray, optional
        Receives the sum of squared deviations from the mean; divide by the
        number of members and take the square root for the standard deviation.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn._ensemble import Members
    >>> mean, spread = np.empty(2), np.empty(2)
    >>> members = Members(mean, spread)
    >>> for member, values in enumerate(([1.0, 2.0], [3.0, 2.0])):
    ...     members.add(np.s_[:], np.array(values), member)
    >>> mean, np.sqrt(spread / 2)
    (array([2., 2.]), array([1., 0.]))
    """

    def __init__(self, mean, spread=None):
        self.mean, self.spread = mean, spread

    def add(self, region, values, member):
        """Add ``values``, member number ``member`` (0 first), to ``region`` of the running statistics."""
        if member == 0:
            self.mean[region] = values
            if self.spread is not None:
                self.spread[region] = 0.0
            return
        delta = values - self.mean[region]
        self.mean[region] += delta / (member + 1)
        if self.spread is not None:
            self.spread[region] += delta * (values - self.mean[region])
