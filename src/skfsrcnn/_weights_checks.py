"""Checks of a weights file's contents before a network is built from them.

A weights file may lie: its metadata may name an architecture its tensors
do not have, an absurd one (a 53 KB file asking for gigabytes), or a scale
the weights were not trained for; a plain PyTorch state dict records no
scale at all. :func:`checked_architecture` bounds every architecture number
before anything is allocated, :func:`check_state_fits` compares the tensors
with the network the architecture describes (built on the ``meta`` device,
so no memory is used), and :func:`scale_of_weights` tells the scale trained
weights work at by running them on the bundled sample image.
"""

import numpy as np

#: Accepted range ``(low, high)`` of each architecture number, by network.
ARCHITECTURE_BOUNDS = {
    "FSRCNN": {"scale": (1, 16), "d": (1, 1024), "s": (1, 1024), "m": (0, 64)},
    "SRCNN": {"scale": (1, 16), "n1": (1, 1024), "n2": (1, 1024), "f1": (1, 31), "f2": (1, 31), "f3": (1, 31)},
}
#: A trained FSRCNN scores at least this PSNR (dB) on the sample image at its own scale ...
_TRAINED_PSNR = 18.0
#: ... and beats every other scale by this margin (dB); at another scale it scores about 10 dB or less.
_MARGIN = 6.0
_PROBE_SCALES = (2, 3, 4)


def checked_architecture(network, architecture, path):
    """``architecture`` (a JSON object from a file's metadata) with every number checked against its bounds.

    Examples
    --------
    >>> from skfsrcnn._weights_checks import checked_architecture
    >>> checked_architecture("FSRCNN", {"scale": 2, "d": 32, "s": 5, "m": 1}, "w.safetensors")
    {'scale': 2, 'd': 32, 's': 5, 'm': 1}
    """
    bounds = ARCHITECTURE_BOUNDS[network]
    if not isinstance(architecture, dict):
        raise ValueError(
            f"`weights` file {path!r} records the architecture {architecture!r}, not a mapping of "
            f"{', '.join(bounds)}; the file is damaged: save it again with skfsrcnn.pretrained.save_weights."
        )
    unknown = sorted(set(architecture) - set(bounds))
    if unknown:
        raise ValueError(
            f"`weights` file {path!r} records architecture keys {', '.join(unknown)} that a {network} "
            f"does not have ({', '.join(bounds)}); the file was not written by skfsrcnn or is damaged."
        )
    for key, value in architecture.items():
        low, high = bounds[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(
                f"`weights` file {path!r} records {network} architecture {key}={value!r}, outside "
                f"[{low}, {high}]; the file is damaged or was not written by skfsrcnn."
            )
    return dict(architecture)


def check_state_fits(model, state, path):
    """Refuse ``state`` unless its keys and shapes are those of ``model`` (which may live on ``meta``)."""
    expected = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    found = {key: tuple(value.shape) for key, value in state.items()}
    problems = [f"{key} is missing" for key in expected if key not in found]
    problems += [f"{key} is not a {type(model).__name__} tensor" for key in found if key not in expected]
    problems += [
        f"{key} has shape {found[key]}, not {shape}"
        for key, shape in expected.items()
        if key in found and found[key] != shape
    ]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ValueError(
            f"`weights` file {path!r} does not match the {type(model).__name__} {model.config} it "
            f"describes: {'; '.join(problems[:3])}{more}. The file is damaged or its metadata "
            "disagrees with its tensors; save the weights again with skfsrcnn.pretrained.save_weights."
        )


def state_dict_of(state, path):
    """``state`` checked to be a mapping of names to tensors, none holding NaN or infinity."""
    import torch

    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(
            f"`weights` file {path!r} holds a {type(state).__name__}, not a state dict of "
            "tensors; save FSRCNN weights with skfsrcnn.pretrained.save_weights."
        )
    broken = [key for key, value in state.items() if value.is_floating_point() and not bool(value.isfinite().all())]
    if broken:
        raise ValueError(
            f"`weights` file {path!r} holds NaN or infinite values in {', '.join(broken[:3])}: the "
            "training diverged or the file is damaged; use the weights of an earlier checkpoint."
        )
    return state


def checked_scale(path, requested, recorded, found):
    """The scale to build: the file's (``recorded``) or the weights' own (``found``), checked against ``requested``."""
    if recorded is not None and found is not None and recorded != found:
        raise ValueError(
            f"`weights` file {path!r} records scale {recorded}, but its weights work at x{found} "
            f"(on the sample image); the metadata is wrong: use scale={found} and save the weights "
            "again with skfsrcnn.pretrained.save_weights."
        )
    known = recorded if recorded is not None else found
    if requested is not None and known is not None and known != requested:
        raise ValueError(
            f"`weights` file {path!r} was trained for scale {known}, but `scale`={requested}; "
            f"use scale={known} or weights for x{requested}."
        )
    if requested is None and known is None:
        raise ValueError(
            f"`weights` file {path!r} does not record its scale, and its weights do not show it "
            "(they look untrained); pass `scale`."
        )
    return known if known is not None else requested


def _sample_luma(side=120):
    """The bundled sample image's luma (BT.601, in [0, 1]), cropped to ``side`` (divisible by 2, 3 and 4)."""
    import imageio.v3 as iio

    from .io import sample_path

    rgb = iio.imread(sample_path())[:side, :side, :3].astype(np.float64) / 255
    return (rgb @ np.array([65.481, 128.553, 24.966]) + 16) / 255


def _psnr_at(network_class, architecture, state, scale, hr):
    import torch

    from .resize import imresize

    model = network_class(scale, **architecture)
    model.load_state_dict(state)
    low = imresize(hr, 1 / scale).astype(np.float32)
    with torch.inference_mode():
        out = model.eval()(torch.from_numpy(low)[None, None])[0, 0].double().numpy()
    border = 8
    error = np.mean((out - hr)[border:-border, border:-border] ** 2)
    return 10 * np.log10(1 / max(error, 1e-12))


def scale_of_weights(network_class, architecture, state):
    """The scale at which trained FSRCNN weights work, or None when it cannot be told (untrained weights).

    The weights upscale the bicubic downscales of the bundled sample image
    by 2, 3 and 4; a trained network scores well at its own scale and
    poorly (about 10 dB) at the others, as its deconvolution's kernel only
    interpolates for the stride it was trained with.

    Examples
    --------
    >>> from skfsrcnn._weights_checks import scale_of_weights
    >>> from skfsrcnn.pretrained import load_model
    >>> model = load_model("fsrcnn-s-x3")
    >>> arch = {k: v for k, v in model.config.items() if k != "scale"}
    >>> scale_of_weights(type(model), arch, model.state_dict())
    3
    """
    hr = _sample_luma()
    scores = sorted((_psnr_at(network_class, architecture, state, s, hr), s) for s in _PROBE_SCALES)
    (second, _), (best, scale) = scores[-2:]
    return scale if best >= _TRAINED_PSNR and best - second >= _MARGIN else None


def architecture_from_state(state):
    """Infer the network's name ("SRCNN" or "FSRCNN") and its architecture (without scale) from parameter shapes."""
    if "extraction.weight" in state:  # SRCNN
        n1, _, f1, _ = state["extraction.weight"].shape
        n2, _, f2, _ = state["mapping.weight"].shape
        f3 = state["reconstruction.weight"].shape[2]
        return "SRCNN", {"n1": n1, "n2": n2, "f1": f1, "f2": f2, "f3": f3}
    d = state["feature.0.weight"].shape[0]
    s = state["shrink.0.weight"].shape[0]
    m = len({k.split(".")[1] for k in state if k.startswith("mapping.")})
    return "FSRCNN", {"d": d, "s": s, "m": m}
