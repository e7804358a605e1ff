"""The front door: :func:`upscale` sends numpy arrays to the numpy engine and dask arrays to the dask one.

Both engines take the keyword options as one
:class:`~skfsrcnn._options.UpscaleOptions`. The imports run one way:
``_front`` imports ``_dask`` and ``_upscale``, and ``_dask`` imports
``_upscale`` (every dask block is upscaled by the numpy engine).
"""

from ._dask import is_dask, upscale_lazy
from ._options import DEFAULT_TILE_SIZE, UpscaleOptions
from ._progress import run_to_end
from ._upscale import checked_value_range, steps


def upscale(
    image,
    scale,
    *,
    channel_axis=None,
    model="fsrcnn",
    weights=None,
    preserve_range=False,
    clip=True,
    tile_size=DEFAULT_TILE_SIZE,
    device=None,
    rgb=None,
    value_range=None,
    ensemble=False,
    return_uncertainty=False,
    back_projection=0,
):
    """Super-resolve an image with FSRCNN.

    Parameters
    ----------
    image : (..., M, N[, C]) ndarray or dask array
        Image to upscale. The last two non-channel axes are spatial (rows,
        columns); every leading axis (planes, time) is upscaled plane by plane.
    scale : {2, 3, 4}
        Upscaling factor of both spatial axes.
    channel_axis : int or None, optional
        Axis of the channels; ``None`` means greyscale. With 3 channels the
        image is RGB and with 4 RGBA (see ``rgb``); any other count has each
        channel upscaled on its own.
    model : {'fsrcnn', 'fsrcnn-s', 'fsrcnn-fluo', 'fsrcnn-s-fluo'}, optional
        Pretrained network: the full FSRCNN (56-12-4) or the real-time
        FSRCNN-s (32-5-1), trained on photographs; the ``-fluo`` models are
        the same networks fine-tuned on fluorescence microscopy (see
        :func:`skfsrcnn.pretrained.available_models`).
    weights : str or path-like, optional
        A registry name or a weights file (e.g. from ``skfsrcnn-train``)
        instead of the pretrained ``model``; its scale must equal ``scale``.
    preserve_range : bool, optional
        Keep the original units for integer input instead of mapping the
        dtype's range to [0, 1] (as in scikit-image).
    clip : bool, optional
        Clip the output to the input's value range (upscaling overshoots at edges).
    tile_size : int or None, optional
        Side, in input pixels, of the tiles processed at once; bounds memory.
        Tiles overlap by the network's receptive field, so the result equals
        the untiled one. A plane of at most ``tile_size**2`` pixels, and any
        plane with ``None``, is processed whole.
    device : str or torch.device, optional
        ``'cpu'``, ``'cuda'``, ``'mps'``; by default CUDA, then MPS, then CPU.
    rgb : bool, optional
        Treat 3/4 channels as RGB/RGBA (default) or, with ``False``, as
        independent channels (e.g. three fluorescence stains).
    value_range : (float, float), optional
        The ``(minimum, maximum)`` intensities are mapped from, and the
        output clipped to, instead of the image's own: for a plane or block
        of a larger image that must be scaled like the rest, or a known
        acquisition range. For a dask array it may also be lazy extrema
        that broadcast against it with one value per block (e.g. per-plane
        extrema with ``keepdims=True`` of an image chunked one plane deep).

    Returns
    -------
    upscaled : ndarray or dask array
        Float image, ``scale`` times larger on the two spatial axes. float32,
        or float64 for float64 input. Integer input is mapped to [0, 1]
        (signed: [-1, 1]) by its dtype's range unless ``preserve_range``;
        float input keeps its units.

    Notes
    -----
    Colour images are converted to YCbCr (ITU-R BT.601): the network
    upscales the luma, the chroma is upscaled with MATLAB's bicubic kernel,
    and alpha likewise. Before the network, intensities are mapped to [0, 1]
    once for the whole image: uint8 by its dtype range, floats in [0, 1] as
    they are, other data by the image's global minimum and maximum.

    Grey, multichannel and nD images are then mapped into the intensity
    range the weights were trained on (:func:`skfsrcnn.pretrained.input_range`)
    and the network's output back: the released photo weights learned on
    the luma of photographs, which BT.601 keeps within 16..235 of 255, and a
    black background fed to them as 0 lies outside anything they saw (on
    fluorescence images that made them worse than spline interpolation).
    The luma of RGB images already lies in that range and reaches the
    network as it is.

    The self-ensemble runs inside the tiling: every tile, with its halo
    (the same on all sides), is flipped and rotated, so the result equals
    the untiled ensemble for any ``tile_size`` and any dask chunking.

    The uncertainty is a return value, not a separate function, as
    scikit-image's ``return_*`` options (``label(..., return_num=True)``,
    ``hog(..., visualize=True)``): it comes out of the same 8 passes that
    make the image, so asking for both costs nothing more. It measures
    where the network's answer depends on the orientation of the input,
    a sign that it guesses; it is no calibrated error bar.

    Back-projection repeats ``output += bicubic_up(input -
    bicubic_down(output))`` (Irani & Peleg) after the network, tile by
    tile with a halo of 4 pixels per iteration, so tiling does not change
    the result either. Each iteration shrinks the consistency residual
    (:func:`consistency_residual`) where the bicubic kernel passes the
    signal; its effect on PSNR is measured in the user guide. For RGB it
    acts on the luma, and clipping afterwards (``clip``) may undo a little.

    .. versionchanged:: 0.2
       Non-RGB images are mapped into the weights' ``input_range``.

    .. versionadded:: 0.2
       ``ensemble``, ``return_uncertainty`` and ``back_projection``.

    Examples
    --------
    >>> import numpy as np
    >>> from skimage import data
    >>> from skfsrcnn import upscale
    >>> image = data.camera()[::4, ::4]
    >>> upscale(image, 2).shape
    (256, 256)
    >>> upscale(data.astronaut()[::8, ::8], 3, channel_axis=-1).shape
    (192, 192, 3)
    >>> big, uncertainty = upscale(image, 2, ensemble=True, return_uncertainty=True)
    >>> uncertainty.shape, bool(uncertainty.max() < 0.5)
    ((256, 256), True)
    """
    options = UpscaleOptions(
        channel_axis=channel_axis,
        model=model,
        weights=weights,
        preserve_range=preserve_range,
        clip=clip,
        tile_size=tile_size,
        device=device,
        rgb=rgb,
        ensemble=ensemble,
        return_uncertainty=return_uncertainty,
        back_projection=back_projection,
    )
    if is_dask(image):
        return upscale_lazy(image, scale, options, value_range=value_range)
    return run_to_end(steps(image, scale, options, value_range=checked_value_range(value_range)))
