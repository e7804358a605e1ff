"""Pretrained weights: a pooch registry with sha256 hashes, safe loading, caching.

The released weights ship inside the package (``skfsrcnn/weights/``) and are
checked against the registry's sha256 before use. A registry name whose file
is not bundled is downloaded by pooch from ``SKFSRCNN_WEIGHTS_URL`` (default:
the project's release page) into the cache folder ``SKFSRCNN_CACHE_DIR``
(default: the OS cache, ``pooch.os_cache("skfsrcnn")``), in a subfolder
named after the skfsrcnn version (pooch appends it), hash-checked, and used
from the cache afterwards with no network access.

Weights files are safetensors (no code can run when loading them); PyTorch
``.pt``/``.pth`` files are read with ``torch.load(weights_only=True)``.
"""

import functools
import json
import os
from importlib import resources
from pathlib import Path

from ._registry import REGISTRY

__all__ = ["REGISTRY", "available_weights", "load_model", "save_weights", "weights_path"]

#: Where names that are not bundled are downloaded from ({version} is filled in).
DEFAULT_BASE_URL = "https://github.com/skfsrcnn/skfsrcnn/releases/download/v{version}/"
BASE_URL_ENV = "SKFSRCNN_WEIGHTS_URL"
CACHE_ENV = "SKFSRCNN_CACHE_DIR"
_WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth")


def available_weights():
    """Names of the registered weights, e.g. ``['fsrcnn-s-x2', ..., 'fsrcnn-x4']``.

    Examples
    --------
    >>> from skfsrcnn.pretrained import available_weights
    >>> "fsrcnn-x3" in available_weights()
    True
    """
    return sorted(REGISTRY)


def _fetcher():
    import pooch

    from . import __version__

    return pooch.create(
        path=pooch.os_cache("skfsrcnn"),
        base_url=os.environ.get(BASE_URL_ENV, DEFAULT_BASE_URL),
        version=__version__,
        version_dev="main",
        env=CACHE_ENV,
        registry={entry["file"]: f"sha256:{entry['sha256']}" for entry in REGISTRY.values()},
        retry_if_failed=2,
    )


def _bundled(filename):
    path = resources.files("skfsrcnn") / "weights" / filename
    return Path(path) if path.is_file() else None


def weights_path(name):
    """Return a local, hash-checked path to the registered weights ``name``.

    Bundled files are used in place; others are fetched by pooch (from the
    cache when already there).

    Raises
    ------
    ValueError
        Unknown name, or a bundled or downloaded file whose sha256 differs
        from the registry.
    OSError
        The download failed (no network, HTTP error); the message names the
        URL, the mirror and cache environment variables and the local-file option.

    Examples
    --------
    >>> from skfsrcnn.pretrained import weights_path
    >>> weights_path("fsrcnn-x3").name
    'fsrcnn_x3.safetensors'
    """
    if name not in REGISTRY:
        raise ValueError(
            f"Unknown weights {name!r}; registered: {', '.join(available_weights())}, "
            "or pass the path of a weights file."
        )
    import pooch

    entry = REGISTRY[name]
    bundled = _bundled(entry["file"])
    if bundled is not None:
        digest = pooch.file_hash(str(bundled))
        if digest != entry["sha256"]:
            raise ValueError(
                f"The bundled weights file {str(bundled)!r} has sha256 {digest}, expected "
                f"{entry['sha256']}: the installation is damaged; reinstall skfsrcnn."
            )
        return bundled
    import requests

    fetcher = _fetcher()
    try:
        return Path(fetcher.fetch(entry["file"]))
    except requests.exceptions.RequestException as error:
        raise OSError(
            f"Could not download the weights {name!r} from {fetcher.get_url(entry['file'])} ({error}). "
            f"Set {BASE_URL_ENV} to a mirror that serves {entry['file']}, put the file in "
            f"{str(fetcher.abspath)!r} (the cache, set by {CACHE_ENV}), or pass `weights=` "
            "the path of a local weights file."
        ) from error


def save_weights(model, path, metadata=None):
    """Save an :class:`~skfsrcnn.models.FSRCNN` as safetensors with its architecture.

    Examples
    --------
    >>> from skfsrcnn.models import FSRCNN
    >>> from skfsrcnn.pretrained import save_weights
    >>> save_weights(FSRCNN(3), "mine.safetensors")  # doctest: +SKIP
    """
    from safetensors.torch import save_file

    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    header = {"format": "skfsrcnn", "architecture": json.dumps(model.config)}
    header.update({str(k): str(v) for k, v in (metadata or {}).items()})
    save_file(tensors, os.fspath(path), metadata=header)


def _read_weights(path):
    """Return ``(state_dict, architecture)`` from a safetensors or torch file."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(os.fspath(path), framework="pt") as handle:
                metadata = handle.metadata() or {}
                state = {key: handle.get_tensor(key) for key in handle.keys()}
        except (SafetensorError, OSError) as error:
            raise ValueError(f"`weights` file {str(path)!r} is not valid safetensors: {error}") from error
        architecture = json.loads(metadata["architecture"]) if "architecture" in metadata else None
        return state, architecture
    import pickle

    import torch

    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
        raise ValueError(
            f"`weights` file {str(path)!r} was refused: it is not a plain PyTorch state dict "
            f"(it may carry pickled code, which is never run). Details: {error}"
        ) from error
    if isinstance(data, dict) and "model" in data and "config" in data:  # a training checkpoint
        config = data["config"]
        from .models import PRESETS

        return data["model"], {"scale": config["scale"], **PRESETS[config["model"]]}
    return data, None


def _architecture_from_state(state):
    """Infer (d, s, m) from parameter shapes when a file carries no metadata."""
    d = state["feature.0.weight"].shape[0]
    s = state["shrink.0.weight"].shape[0]
    m = len({k.split(".")[1] for k in state if k.startswith("mapping.")})
    return {"d": d, "s": s, "m": m}


@functools.lru_cache(maxsize=16)
def _load_cached(path, mtime, scale, device):
    import torch

    from .models import FSRCNN

    state, architecture = _read_weights(path)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(
            f"`weights` file {path!r} holds a {type(state).__name__}, not a state dict of "
            "tensors; save FSRCNN weights with skfsrcnn.pretrained.save_weights."
        )
    try:
        architecture = dict(architecture or _architecture_from_state(state))
    except (KeyError, IndexError, AttributeError) as error:
        raise ValueError(
            f"`weights` file {path!r} does not hold FSRCNN weights (missing {error}); "
            "save them with skfsrcnn.pretrained.save_weights."
        ) from error
    file_scale = architecture.pop("scale", None)
    if scale is None:
        scale = file_scale
    elif file_scale is not None and file_scale != scale:
        raise ValueError(
            f"`weights` file {path!r} was trained for scale {file_scale}, but `scale`={scale}; "
            f"use scale={file_scale} or weights for x{scale}."
        )
    if scale is None:
        raise ValueError(f"`weights` file {path!r} does not record its scale; pass `scale`.")
    model = FSRCNN(scale, **architecture)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise ValueError(f"`weights` file {path!r} does not match FSRCNN: {error}") from error
    return model.to(device).eval()


def load_model(weights, *, scale=None, device="cpu"):
    """Load weights (registry name or file path) into an :class:`~skfsrcnn.models.FSRCNN`.

    Models are cached: loading the same file on the same device again is free.
    Treat the returned model as read-only.

    Parameters
    ----------
    weights : str or path-like
        A registry name (see :func:`available_weights`) or a ``.safetensors``,
        ``.pt`` or ``.pth`` file (e.g. ``best.safetensors`` from ``skfsrcnn-train``).
    scale : int, optional
        Expected scale; checked against the file.
    device : str or torch.device
        Where the model lives.

    Examples
    --------
    >>> from skfsrcnn.pretrained import load_model
    >>> load_model("fsrcnn-s-x2").scale
    2
    """
    import torch

    name = os.fspath(weights) if isinstance(weights, os.PathLike) else weights
    if not isinstance(name, str):
        raise TypeError(f"`weights` must be a registry name or a file path, got {type(weights).__name__}.")
    if name in REGISTRY:
        path = weights_path(name)
    else:
        path = Path(name).expanduser()
        if not path.is_file():
            raise ValueError(
                f"`weights`={name!r} is neither a registered name ({', '.join(available_weights())}) "
                "nor an existing file; check the spelling or the path."
            )
        if path.suffix not in _WEIGHT_SUFFIXES:
            raise ValueError(
                f"`weights` file {name!r} must end in {', '.join(_WEIGHT_SUFFIXES)}."
            )
    path = path.resolve()
    return _load_cached(str(path), path.stat().st_mtime_ns, scale, torch.device(device))
