"""The networks by name, and the form each runs in.

:data:`~skfsrcnn.models.ARCHITECTURES` names what
:func:`~skfsrcnn.models.build_model` builds (the ``model`` of a training
config); :func:`~skfsrcnn.models.inference_form` picks the form to run a
network in.
"""

from .fast import FastFSRCNN
from .fsrcnn import FSRCNN, PRESETS
from .srcnn import SRCNN

__all__ = ["ARCHITECTURES", "build_model", "inference_form"]

#: Names of the networks :func:`build_model` builds: the FSRCNN
#: :data:`PRESETS` and the ``'srcnn'`` baseline (``model`` of a training config).
#:
#: Examples
#: --------
#: >>> from skfsrcnn.models import ARCHITECTURES
#: >>> ARCHITECTURES
#: ('fsrcnn', 'fsrcnn-s', 'srcnn')
ARCHITECTURES = (*PRESETS, "srcnn")


def inference_form(model):
    """The network to run ``model`` with: :class:`FastFSRCNN` of an FSRCNN, other networks as they are.

    Examples
    --------
    >>> from skfsrcnn.models import FSRCNN, SRCNN, inference_form
    >>> type(inference_form(FSRCNN(2))).__name__, type(inference_form(SRCNN(2))).__name__
    ('FastFSRCNN', 'SRCNN')
    """
    return FastFSRCNN(model) if isinstance(model, FSRCNN) else model


def build_model(name, scale):
    """Build a freshly initialised network by name: an FSRCNN preset or SRCNN.

    Parameters
    ----------
    name : {'fsrcnn', 'fsrcnn-s', 'srcnn'}
        One of :data:`ARCHITECTURES`: an FSRCNN preset of :data:`PRESETS`
        or the SRCNN 9-1-5 baseline.
    scale : int
        Upscaling factor.

    Returns
    -------
    FSRCNN or SRCNN
        The network, randomly initialised.

    Raises
    ------
    ValueError
        ``name`` is not one of :data:`ARCHITECTURES`.

    Examples
    --------
    >>> from skfsrcnn.models import build_model
    >>> build_model("fsrcnn-s", 2).config
    {'scale': 2, 'd': 32, 's': 5, 'm': 1}
    >>> type(build_model("srcnn", 3)).__name__
    'SRCNN'
    """
    if name not in ARCHITECTURES:
        raise ValueError(f"`name` must be one of {ARCHITECTURES}, got {name!r}.")
    if name == "srcnn":
        return SRCNN(scale)
    return FSRCNN.from_preset(name, scale)
