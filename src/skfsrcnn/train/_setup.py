"""What a training run is built from: schedules, transfers, averages, the intensity range it records."""

import copy
import math

import numpy as np
import torch

from ..datasets import PatchSampler, augment, degraded_pairs, load_folder
from ..evaluate import model_upscaler
from ..models import SRCNN, inference_form
from ..pretrained import FULL_RANGE, LUMA_RANGE, load_model


def _schedule(config):
    """Learning-rate multiplier as a function of the iteration."""
    if config.schedule == "constant":
        return lambda it: 1.0
    if config.schedule == "step":
        return lambda it: config.step_gamma ** (it // config.step_every)
    floor = config.min_lr_ratio

    def cosine(it):
        progress = min(it / max(config.iterations, 1), 1.0)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return cosine


def _last_layer(model):
    """Name of the layer that learns at ``lr * deconv_lr_scale`` (and alone with ``finetune: deconv``)."""
    return "reconstruction" if isinstance(model, SRCNN) else "deconv"


def bfloat16_is_native(device):
    """Whether ``device`` computes bfloat16 natively (a CPU with AVX-512 BF16 or AMX, a CUDA GPU from Ampere on).

    Examples
    --------
    >>> import torch
    >>> from skfsrcnn.train._setup import bfloat16_is_native
    >>> isinstance(bfloat16_is_native(torch.device("cpu")), bool)
    True
    """
    if device.type == "cpu":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    return True


def _transfer(model, source):
    """Copy every parameter of ``source`` whose shape matches into ``model``."""
    own = model.state_dict()
    copied = {k: v for k, v in source.state_dict().items() if k in own and own[k].shape == v.shape}
    own.update(copied)
    model.load_state_dict(own)
    return sorted(copied)


def _mean_model(names):
    """A model holding the mean, parameter by parameter, of the weights ``names`` (one model and scale)."""
    models = [load_model(name, scale=None, device="cpu") for name in names]
    for name, model in zip(names[1:], models[1:]):
        if model.config != models[0].config:
            raise ValueError(
                f"`init_from`: {name!r} is {model.config} but {names[0]!r} is {models[0].config}; "
                "only weights of the same model and scale can be averaged."
            )
    states = [model.state_dict() for model in models]
    mean = copy.deepcopy(models[0])  # load_model's models are cached: never change them
    mean.load_state_dict({key: torch.stack([state[key] for state in states]).mean(0) for key in states[0]})
    return mean


def training_data(config, device, progress=True):
    """``(sampler, input_range)``: the patch sampler of ``config``'s training data, and the range it records.

    The images of ``config.train_folders`` are augmented, degraded by
    ``config.degradation_model`` and, with ``distill_from``, their targets
    blended with the teacher's output.
    """
    if not config.train_folders:
        raise ValueError(
            "`train_folders` is empty: name one or more folders of HR training images, e.g. "
            "train_folders: [../shared/datasets/T91] in the config, or "
            '--set "train_folders=[data/mine]".'
        )
    images = [image for folder in config.train_folders for image in load_folder(folder)]
    input_range = FULL_RANGE if config.intensity_augment else training_input_range(images)
    images = augment(images, config.downscales, config.rotations, config.flips)
    pairs = degraded_pairs(images, config.scale, config.degradation_model)
    sampler = PatchSampler(
        images,
        config.scale,
        config.patch_size,
        config.batch_size,
        config.seed,
        pairs=pairs,
        intensity_augment=config.intensity_augment,
    )
    if config.distill_from:
        sampler.hr = _distillation_targets(config, sampler.hr, sampler.lr, device, progress)
    return sampler, input_range


def _distillation_targets(config, hr_images, lr_images, device, progress):
    """The HR images blended with the teacher's output on their LR images (all float in [0, 1])."""
    from tqdm.auto import tqdm

    try:
        teacher = load_model(config.distill_from, scale=config.scale, device=device)
    except ValueError as error:
        raise ValueError(f"`distill_from`={config.distill_from!r}: {error}") from error
    upscale = model_upscaler(inference_form(teacher), device, ensemble=config.distill_ensemble)
    share = np.float32(config.distill_share)
    lr_images = tqdm(lr_images, desc=f"teacher {config.distill_from}", unit="image", disable=not progress)
    return [(1 - share) * hr + share * np.clip(upscale(lr), 0.0, 1.0) for hr, lr in zip(hr_images, lr_images)]


def training_input_range(images):
    """The intensity range weights trained on ``images`` (uint8 HR luma) expect, for their metadata.

    Colour photographs reach the trainer as their BT.601 luma, which stays
    within 16..235: weights trained on them alone know
    :data:`~skfsrcnn.pretrained.LUMA_RANGE`. Any pixel outside it (a grey
    image's black background, say) means full-range data:
    :data:`~skfsrcnn.pretrained.FULL_RANGE`.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.train._setup import training_input_range
    >>> [round(v * 255) for v in training_input_range([np.full((4, 4), 16, np.uint8)])]
    [16, 235]
    >>> training_input_range([np.zeros((4, 4), np.uint8)])
    (0.0, 1.0)
    """
    low, high = (round(v * 255) for v in LUMA_RANGE)
    if all(low <= image.min() and image.max() <= high for image in images):
        return LUMA_RANGE
    return FULL_RANGE


def _weight_average(model, decay):
    """An exponential moving average of ``model``'s weights with ``decay``, or None without one."""
    if decay is None:
        return None
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))
