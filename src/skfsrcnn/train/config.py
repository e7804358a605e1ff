"""The training configuration: a YAML file, overridable by ``key=value`` pairs."""

import dataclasses
import math
import os
import types
from dataclasses import dataclass, field
from pathlib import Path

from ..datasets import PAPER_DOWNSCALES, PAPER_ROTATIONS
from ..degradation import Degradation
from ..models import ARCHITECTURES
from ._limits import check_limits
from ._yaml import _parse_override, _read_settings
from .losses import PIXEL_LOSSES, VGG16_LAYERS

_CHOICES = {
    "model": ARCHITECTURES,
    "optimizer": ("adam", "sgd"),
    "schedule": ("cosine", "step", "constant"),
    "finetune": ("all", "deconv"),
    "pixel_loss": tuple(PIXEL_LOSSES),
    "perceptual_layer": VGG16_LAYERS,
    "precision": ("float32", "bfloat16"),
}


@dataclass
class TrainConfig:
    """Every setting of a training run; the defaults are a sound x3 FSRCNN recipe.

    Each setting is a field of the same name, and a key of the YAML files
    read by :func:`load_config` and ``skfsrcnn-train`` (``--set key=value``).
    They come in groups: the run and model, the training data, the
    optimisation, the perceptual loss, distillation, transfer from other
    weights, validation and bookkeeping, and the machine. Values are checked (and
    YAML strings such as ``1e-3`` coerced to numbers) on creation.

    Parameters
    ----------
    name : str
        Run name: the run's files go to ``output_dir/name`` (see
        :attr:`run_dir`), and it is recorded in the best weights' metadata.
    model : {'fsrcnn', 'fsrcnn-s', 'srcnn'}
        Network (:data:`skfsrcnn.models.ARCHITECTURES`): an FSRCNN preset
        of :data:`skfsrcnn.models.PRESETS`, or the SRCNN 9-1-5 baseline
        (:class:`skfsrcnn.models.SRCNN`).
    scale : {2, 3, 4}
        Upscaling factor.
    train_folders : list of str
        Folders of 8-bit HR training images (see
        :func:`skfsrcnn.datasets.load_folder`), used together; required to
        train (empty by default: name yours, e.g.
        ``[../shared/datasets/T91]``).
    downscales : list of float
        Augmentation: bicubic downscaling factors of every training image
        (1 keeps it); the paper's ``[1.0, 0.9, 0.8, 0.7, 0.6]`` by default.
    rotations : list of {0, 90, 180, 270}
        Augmentation: rotations in degrees of every downscaled image.
    flips : bool
        Augmentation: also add the mirror of every variant.
    degradation : {'bicubic', 'area', 'gaussian'}
        How LR training images are made from HR ones
        (:class:`skfsrcnn.degradation.Degradation`): MATLAB bicubic (the
        literature's), area averaging (camera binning), or a Gaussian blur
        of ``blur_sigma`` HR pixels then sampling. Match it to how your
        images were acquired.
    blur_sigma : float
        Sigma in HR pixels of the ``'gaussian'`` degradation (0 otherwise).
    noise : {'none', 'gaussian', 'poisson'}
        Noise added to every LR training image, once, seeded by ``seed``.
    noise_level : float
        Its level: the standard deviation as a fraction of full scale
        (``'gaussian'``) or the photons at full scale (``'poisson'``); 0
        without noise.
    intensity_augment : bool
        Map each training patch pair by a random affine intensity change
        within [0, 1] (dark backgrounds, low contrast, full range; see
        :meth:`skfsrcnn.datasets.PatchSampler.sample`), so that the weights
        work on any intensity range and record
        :data:`~skfsrcnn.pretrained.FULL_RANGE` as their ``input_range``.
        Without it, weights record the range of their training data:
        :data:`~skfsrcnn.pretrained.LUMA_RANGE` when every pixel lies
        within 16..235 (the luma of photographs), else ``FULL_RANGE``.
    patch_size : int
        LR patch side; HR patches are ``patch_size * scale``.
    batch_size : int
        Patches per iteration.
    pixel_loss : {'mse', 'l1', 'charbonnier'}
        Loss between output and target: the mean squared error (the
        paper's, and what PSNR measures), the mean absolute error, or its
        smooth form ``sqrt(d**2 + 1e-6)``.
    loss_border : int
        LR pixels on each side of a patch left out of the loss (times
        ``scale`` HR pixels); in ``[0, patch_size / 2)``.
    time_budget : float, optional
        Stop after this many seconds of training (over all resumptions),
        validating once more at the end; None (the default) trains to
        ``iterations``. With a budget, ``iterations`` is an upper bound
        and still sets the learning-rate schedule.
    iterations : int
        Number of optimisation steps (batches) of the run. 0 trains
        nothing: the run scores its starting weights on ``val_data`` and
        keeps them, e.g. the mean of a list of ``init_from`` weights.
    optimizer : {'adam', 'sgd'}
        Optimiser.
    lr : float
        Learning rate of the layers before the deconvolution.
    deconv_lr_scale : float
        The deconvolution (SRCNN: the reconstruction layer, its last)
        learns at ``lr * deconv_lr_scale`` (the papers' 0.1).
    momentum : float
        Momentum of ``'sgd'`` (ignored by Adam).
    schedule : {'cosine', 'step', 'constant'}
        Learning-rate schedule: cosine decay to ``lr * min_lr_ratio`` at
        ``iterations``, a factor ``step_gamma`` every ``step_every``
        iterations, or none.
    min_lr_ratio : float
        Final fraction of the learning rate of ``'cosine'``.
    step_every : int
        Iterations between two drops of ``'step'``.
    step_gamma : float
        Factor of each drop of ``'step'``.
    ema_decay : float, optional
        Keep an exponential moving average of the weights, updated after
        every step with this decay, in (0, 1) (e.g. 0.999: about the last
        1 000 steps); validation, the best weights and the last weights are
        the average's. None (the default) keeps the weights as trained.
    perceptual_weights : str, optional
        File of torchvision VGG16 weights (``.pth``/``.pt`` state dict or
        ``.safetensors``; see :class:`PerceptualLoss`): adds a perceptual
        loss to the pixel loss. None (the default) trains on the pixel
        loss alone.
    perceptual_layer : str
        VGG16 activation the perceptual loss compares, one of
        :data:`VGG16_LAYERS` (``'relu2_2'``: fine textures).
    perceptual_scale : float
        Weight of the perceptual loss added to the pixel loss.
    distill_from : str, optional
        Weights (registry name or file, see
        :func:`skfsrcnn.pretrained.load_model`) of a teacher of the same
        ``scale``, e.g. FSRCNN for training FSRCNN-s: the training target
        becomes ``(1 - distill_share) * HR + distill_share * teacher(LR)``,
        the teacher's output computed once, before training, on every whole
        LR training image patches are drawn from (so it costs no time per
        iteration, and patches see no zero-padded border of the teacher).
        With the MSE this is the MSE to HR plus ``distill_share`` times the
        MSE to the teacher, less a constant. None (the default) trains on
        the HR images alone.
    distill_share : float
        Share of the teacher's output in the target, in (0, 1].
    distill_ensemble : bool
        Take as the teacher's output its mean over the eight flips and
        rotations of each LR image (geometric self-ensemble): eight times
        the teacher's one-off cost, a sharper target. The model trained is
        still a single pass.
    init_from : str or list of str, optional
        Start from these weights (registry name or file, see
        :func:`skfsrcnn.pretrained.load_model`) instead of random ones; they
        must be of the same ``model``, at any scale (the deconvolution's
        shape does not depend on it). A list starts from the mean of its
        weights, parameter by parameter: runs fine-tuned from a common
        start average into a model often better than each (a "model
        soup"). None trains from scratch.
    finetune : {'all', 'deconv'}
        Train every layer, or only the deconvolution (SRCNN: the last
        layer), the others frozen: the paper's fast transfer to another
        scale, with ``init_from``.
    val_data : str, optional
        Benchmark folder scored during training (see
        :func:`skfsrcnn.datasets.load_benchmark`); the best-scoring weights
        are kept. Choose images that no reported benchmark contains (e.g.
        ``../shared/datasets/BSD200/val``). None (the default) skips
        validation and keeps the last weights.
    val_every : int
        Iterations between validations.
    early_stopping : int, optional
        Stop after this many validations without a better PSNR; None trains
        to ``iterations``.
    checkpoint_every : int
        Iterations between checkpoints (``checkpoint.pt``, for resuming).
    log_every : int
        Iterations between rows of ``log.csv`` (mean loss, learning rate,
        throughput).
    seed : int
        Seed of the initial weights and of the patch sampling.
    threads : int, optional
        CPU threads of PyTorch; None keeps its default.
    compile : bool
        Compile the training step (forward pass and loss) with
        ``torch.compile`` after up to 20 s of compiling; needs a C++
        compiler on CPU. On a CPU it pays little in float32 and 1.3-1.4x
        in bfloat16 (``benchmarks/bench_train.py``).
    precision : {'float32', 'bfloat16'}
        Arithmetic of the training step: ``'float32'``, or ``'bfloat16'``
        mixed precision (:func:`torch.autocast`: convolutions and
        activations in bfloat16; weights, optimiser and loss in float32).
        bfloat16 pays on CPUs with AVX-512 BF16 or AMX and on recent GPUs
        (``benchmarks/bench_train.py``). Validation and the saved weights
        are float32.
    device : str, optional
        ``'cpu'``, ``'cuda'``, ``'mps'``...; None picks the best available.
    output_dir : str
        Folder that holds the runs' folders.

    Raises
    ------
    ValueError
        A setting has the wrong type or is out of range (an unknown
        ``model``, a ``scale`` other than 2, 3 or 4, a number outside its
        bounds (``threads`` above 256, ``lr`` above 1...), ``downscales``
        outside [0.1, 2], a batch too large for the memory available...).

    See Also
    --------
    load_config : Read a config from YAML, with overrides.
    Trainer : Run the training a config describes.

    Examples
    --------
    >>> from skfsrcnn.train import TrainConfig
    >>> config = TrainConfig(name="demo", scale=2)
    >>> config.patch_size, config.model, config.run_dir.as_posix()
    (32, 'fsrcnn', 'runs/demo')
    >>> TrainConfig(lr="1e-4").lr  # YAML reads 1e-4 as a string
    0.0001
    """

    name: str = "fsrcnn-x3"
    model: str = "fsrcnn"
    scale: int = 3
    train_folders: list = field(default_factory=list)
    downscales: list = field(default_factory=lambda: list(PAPER_DOWNSCALES))
    rotations: list = field(default_factory=lambda: list(PAPER_ROTATIONS))
    flips: bool = False
    degradation: str = "bicubic"
    blur_sigma: float = 0.0
    noise: str = "none"
    noise_level: float = 0.0
    intensity_augment: bool = False
    patch_size: int = 32
    batch_size: int = 32
    pixel_loss: str = "mse"
    loss_border: int = 0
    time_budget: float | None = None
    iterations: int = 20000
    optimizer: str = "adam"
    lr: float = 1e-3
    deconv_lr_scale: float = 0.1
    momentum: float = 0.9
    schedule: str = "cosine"
    min_lr_ratio: float = 0.01
    step_every: int = 10000
    step_gamma: float = 0.5
    ema_decay: float | None = None
    perceptual_weights: str | None = None
    perceptual_layer: str = "relu2_2"
    perceptual_scale: float = 0.01
    distill_from: str | None = None
    distill_share: float = 0.5
    distill_ensemble: bool = False
    init_from: str | list | None = None
    finetune: str = "all"
    val_data: str | None = None
    val_every: int = 500
    early_stopping: int | None = None
    checkpoint_every: int = 500
    log_every: int = 50
    seed: int = 0
    threads: int | None = None
    compile: bool = False
    precision: str = "float32"
    device: str | None = None
    output_dir: str = "runs"

    def __post_init__(self):
        self._check_types()
        for key, choices in _CHOICES.items():
            value = getattr(self, key)
            if value not in choices:
                raise ValueError(f"`{key}` must be one of {choices}, got {value!r}.")
        if self.scale not in (2, 3, 4):
            raise ValueError(f"`scale` must be 2, 3 or 4, got {self.scale!r}.")
        check_limits(self)
        if isinstance(self.init_from, list) and not (
            self.init_from and all(isinstance(item, str) for item in self.init_from)
        ):
            raise ValueError(
                f"`init_from` as a list must name one or more weights files, got {self.init_from!r}; "
                "use null to train from scratch."
            )
        _degradation(self)  # refuses a degradation whose settings do not fit
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise ValueError(f"`ema_decay` must be in (0, 1), e.g. 0.999, or null, got {self.ema_decay!r}.")
        if not 0 < self.distill_share <= 1:
            raise ValueError(f"`distill_share` must be in (0, 1], got {self.distill_share!r}.")
        if not 0 <= self.loss_border < self.patch_size // 2:
            raise ValueError(f"`loss_border` must be in [0, patch_size/2), got {self.loss_border!r}.")

    def _check_types(self):
        """Coerce numbers (YAML reads ``1e-3`` as a string) and reject wrong types."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            allowed = f.type.__args__ if isinstance(f.type, types.UnionType) else (f.type,)
            if value is None and type(None) in allowed:
                continue
            if str in allowed and isinstance(value, os.PathLike):
                value = os.fspath(value)
                setattr(self, f.name, value)
            if list in allowed and isinstance(value, tuple):
                value = list(value)
                setattr(self, f.name, value)
            if float in allowed and not isinstance(value, bool):
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    pass
                else:
                    if not math.isfinite(number):
                        raise ValueError(f"`{f.name}` must be a finite number, got {value!r}.")
                    setattr(self, f.name, number)
                    continue
            elif int in allowed and isinstance(value, int) and not isinstance(value, bool):
                continue
            elif bool in allowed and isinstance(value, bool):
                continue
            elif any(t in allowed for t in (str, list)) and isinstance(value, tuple(allowed)):
                continue
            names = " or ".join("None" if t is type(None) else t.__name__ for t in allowed)
            raise ValueError(f"`{f.name}` must be {names}, got {value!r}.")

    @property
    def init_weights(self):
        """``init_from`` as a list: the weights whose mean the run starts from (empty: from scratch).

        Examples
        --------
        >>> from skfsrcnn.train import TrainConfig
        >>> TrainConfig(init_from="fsrcnn-x3").init_weights
        ['fsrcnn-x3']
        >>> TrainConfig().init_weights
        []
        """
        if self.init_from is None:
            return []
        return [self.init_from] if isinstance(self.init_from, str) else list(self.init_from)

    @property
    def degradation_model(self):
        """The :class:`~skfsrcnn.degradation.Degradation` of the training data (noise seeded by ``seed``).

        Examples
        --------
        >>> from skfsrcnn.train import TrainConfig
        >>> str(TrainConfig(degradation="gaussian", blur_sigma=1.5).degradation_model)
        'gaussian blur sigma 1.5'
        """
        return _degradation(self)

    @property
    def run_dir(self):
        """Folder of this run's checkpoints, logs and weights: ``output_dir/name``.

        Examples
        --------
        >>> from skfsrcnn.train import TrainConfig
        >>> TrainConfig(name="mine", output_dir="runs").run_dir.as_posix()
        'runs/mine'
        """
        return Path(self.output_dir) / self.name

    def to_dict(self):
        """Return the configuration as plain YAML-friendly values.

        Returns
        -------
        dict
            Setting name -> value, in field order; ``TrainConfig(**d)``
            rebuilds the configuration.

        Examples
        --------
        >>> from skfsrcnn.train import TrainConfig
        >>> d = TrainConfig(scale=4).to_dict()
        >>> d["scale"], TrainConfig(**d) == TrainConfig(scale=4)
        (4, True)
        """
        return dataclasses.asdict(self)


def _degradation(config):
    """The :class:`~skfsrcnn.degradation.Degradation` that ``config``'s settings describe (checked)."""
    return Degradation(config.degradation, config.blur_sigma, config.noise, config.noise_level, config.seed)


def load_config(path=None, overrides=()):
    """Read a YAML config and apply ``key=value`` overrides (values parsed as YAML).

    Parameters
    ----------
    path : str or path-like, optional
        YAML file mapping setting names to values (see :class:`TrainConfig`;
        ``configs/`` holds starter configs); settings it leaves out keep
        their defaults. None starts from the defaults. The key ``base``
        names another config, its path relative to this file's folder,
        whose settings this file's own override (a base may have a base).
        Every other path in a config (``train_folders``, ``init_from``, ...)
        is relative to the working directory, as on the command line.
    overrides : sequence of str
        ``"key=value"`` items applied after the file, in order, the value
        parsed as YAML (``"downscales=[1.0, 0.8]"``, ``"init_from=null"``).

    Returns
    -------
    TrainConfig
        The checked configuration.

    Raises
    ------
    ValueError
        An unknown setting in the file (or a base) or the overrides, an
        override without ``=``, a value of the wrong type or out of range, a
        file that is a folder, not valid YAML or not a mapping, or bases that
        name each other in a loop.
    FileNotFoundError
        ``path`` or a base it names does not exist.

    Examples
    --------
    >>> from skfsrcnn.train import load_config
    >>> load_config(None, ["scale=4", "iterations=10"]).iterations
    10
    """
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    values = {} if path is None else _read_settings(path, fields)
    values.update(_parse_override(item, fields) for item in overrides)
    return TrainConfig(**values)
