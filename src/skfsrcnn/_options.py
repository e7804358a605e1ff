"""The keyword options of :func:`~skfsrcnn.upscale`, declared and checked in one place.

:func:`~skfsrcnn.upscale`, :func:`~skfsrcnn.upscale_steps` and the dask
front end (:mod:`skfsrcnn._dask`) all take the same options; they gather
them into one :class:`UpscaleOptions` and pass that on, and
:meth:`UpscaleOptions.validate` checks them against the image.
"""

import dataclasses
from pathlib import Path

from . import _validate

#: Default ``tile_size``: side, in input pixels, of the tiles processed at once.
DEFAULT_TILE_SIZE = 512


@dataclasses.dataclass(frozen=True)
class UpscaleOptions:
    """The keyword options of :func:`~skfsrcnn.upscale`, documented there.

    Building one checks nothing; :meth:`validate` does, against an image's
    shape and the scale.

    Examples
    --------
    >>> from skfsrcnn._options import UpscaleOptions
    >>> options, scale = UpscaleOptions(channel_axis=-1).validate((20, 30, 3), 2)
    >>> options.channel_axis, scale
    (2, 2)
    >>> UpscaleOptions.from_kwargs({"tilesize": 64})
    Traceback (most recent call last):
    ...
    TypeError: Unknown option `tilesize`; the options are channel_axis, model, weights, preserve_range, ...
    """

    channel_axis: object = None
    model: str = "fsrcnn"
    weights: object = None
    preserve_range: bool = False
    clip: bool = True
    tile_size: object = DEFAULT_TILE_SIZE
    device: object = None
    rgb: object = None
    ensemble: bool = False
    return_uncertainty: bool = False
    back_projection: int = 0

    @classmethod
    def names(cls):
        """The option names, in signature order."""
        return tuple(field.name for field in dataclasses.fields(cls))

    @classmethod
    def from_kwargs(cls, kwargs):
        """Options from a mapping of keyword arguments; unknown names raise TypeError."""
        unknown = sorted(set(kwargs) - set(cls.names()))
        if unknown:
            raise TypeError(
                f"Unknown option {', '.join(f'`{name}`' for name in unknown)}; "
                f"the options are {', '.join(cls.names())}."
            )
        return cls(**kwargs)

    def as_kwargs(self):
        """The options as a dict of keyword arguments."""
        return {name: getattr(self, name) for name in self.names()}

    def replace(self, **changes):
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    def check_scale(self, scale):
        """The checked ``scale``: 2, 3 or 4 for a pretrained ``model``, 2 to 8 for ``weights``."""
        if self.weights is None:
            return _validate.scale(scale)
        return int(_validate.scale(scale, range(2, 9)))

    def validate(self, shape, scale):
        """Check the options for an image of ``shape`` upscaled by ``scale``.

        Returns
        -------
        options : UpscaleOptions
            A copy with ``channel_axis`` made non-negative and ``tile_size``
            an int (or None).
        scale : int
            The checked scale.

        Raises
        ------
        TypeError, ValueError
            An option (or the shape, or the scale) that does not fit; the
            message names the parameter, the value and a fix.
        """
        channel = _validate.channel_axis(self.channel_axis, len(shape))
        _validate.spatial_shape(shape, channel)
        scale = self.check_scale(scale)
        if self.weights is None:
            _validate.model_name(self.model)
        tile_size = _validate.tile_size(self.tile_size)
        _validate.flags(
            preserve_range=self.preserve_range,
            clip=self.clip,
            rgb=self.rgb,
            ensemble=self.ensemble,
            return_uncertainty=self.return_uncertainty,
        )
        if self.return_uncertainty and not self.ensemble:
            raise ValueError(
                "`return_uncertainty`=True needs `ensemble`=True: the uncertainty is the spread of the "
                "8 ensemble members; pass ensemble=True as well."
            )
        back_projection = _validate.back_projection(self.back_projection)
        return self.replace(channel_axis=channel, tile_size=tile_size, back_projection=back_projection), scale

    def halo(self, network_halo):
        """LR pixels of context every tile needs: the network's, plus back-projection's."""
        from ._backproject import halo

        return network_halo + halo(self.back_projection)

    def weights_name(self, scale):
        """The weights to load: ``weights`` as a string, else the registry name ``<model>-x<scale>``."""
        return str(self.weights) if self.weights else f"{self.model}-x{scale}"

    def portable(self):
        """A copy whose ``weights`` file (if any) is an absolute path, for workers elsewhere."""
        if self.weights is None:
            return self
        path = Path(self.weights).expanduser()
        return self.replace(weights=str(path.resolve()) if path.is_file() else str(self.weights))
