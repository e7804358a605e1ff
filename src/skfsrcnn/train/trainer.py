"""The FSRCNN training loop: data, optimisation, validation and checkpoints."""

import csv
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from torch.nn import functional as F

from .. import _validate
from ..datasets import PatchSampler, augment, load_benchmark, load_folder
from ..evaluate import evaluate, model_upscaler
from ..models import FSRCNN, FastFSRCNN
from ..pretrained import load_model, save_weights
from .config import TrainConfig

CHECKPOINT = "checkpoint.pt"
BEST_WEIGHTS = "best.safetensors"
LOG = "log.csv"
_LOG_FIELDS = ["iteration", "loss", "lr", "val_psnr", "elapsed_s", "lr_pixels_per_s"]


def _atomic_write(path, write):
    """Call ``write(tmp_path)`` then move the result over ``path`` in one step."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _schedule(config):
    """Learning-rate multiplier as a function of the iteration."""
    if config.schedule == "constant":
        return lambda it: 1.0
    if config.schedule == "step":
        return lambda it: config.step_gamma ** (it // config.step_every)
    floor = config.min_lr_ratio

    def cosine(it):
        progress = min(it / config.iterations, 1.0)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return cosine


def _transfer(model, source):
    """Copy every parameter of ``source`` whose shape matches into ``model``."""
    own = model.state_dict()
    copied = {k: v for k, v in source.state_dict().items() if k in own and own[k].shape == v.shape}
    own.update(copied)
    model.load_state_dict(own)
    return sorted(copied)


class Trainer:
    """Train FSRCNN from a :class:`TrainConfig`, resumable from its checkpoint.

    Parameters
    ----------
    config : TrainConfig
        The run's settings; its ``run_dir`` receives ``checkpoint.pt``,
        ``best.safetensors``, ``log.csv`` and ``config.yaml``.
    resume : bool
        Continue from ``run_dir/checkpoint.pt`` (model, optimizer, schedule,
        random state and counters restored exactly).
    progress : bool
        Show a progress bar.

    Examples
    --------
    >>> from skfsrcnn.train import Trainer, load_config
    >>> config = load_config("configs/fsrcnn-x3.yaml")  # doctest: +SKIP
    >>> Trainer(config).run()  # doctest: +SKIP
    """

    def __init__(self, config, resume=False, progress=True):
        if not isinstance(config, TrainConfig):
            raise TypeError(f"`config` must be a TrainConfig, got {type(config).__name__}.")
        self.config, self.progress = config, progress
        self.device = _validate.device(config.device)
        if config.threads:
            torch.set_num_threads(config.threads)
        self.run_dir = config.run_dir
        checkpoint = self.run_dir / CHECKPOINT
        if checkpoint.exists() and not resume:
            raise ValueError(
                f"{str(checkpoint)!r} exists: pass `resume=True` (--resume) to continue it, "
                "or choose another `name`/`output_dir`."
            )
        if resume and not checkpoint.exists():
            raise ValueError(f"Cannot resume: {str(checkpoint)!r} does not exist.")
        torch.manual_seed(config.seed)
        self.model = FSRCNN.from_preset(config.model, config.scale)
        if config.init_from:
            source = load_model(config.init_from, scale=None, device="cpu")
            copied = _transfer(self.model, source)
            missing = sorted(set(self.model.state_dict()) - set(copied))
            if missing:
                raise ValueError(
                    f"`init_from`={config.init_from!r} is {source.config} but `model`="
                    f"{config.model!r} is {self.model.config}; {', '.join(missing[:3])}, ... "
                    "cannot be transferred. Use weights of the same model."
                )
        self.model.to(self.device)
        self.network = FastFSRCNN(self.model)
        self.optimizer = self._optimizer()
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, _schedule(config))
        self.sampler = self._sampler()
        self.validation = load_benchmark(config.val_data, config.scale) if config.val_data else None
        self.iteration, self.best_psnr, self.best_iteration = 0, -math.inf, 0
        if resume:
            self._load_checkpoint(checkpoint)

    def _optimizer(self):
        config = self.config
        deconv = list(self.model.deconv.parameters())
        groups = [{"params": deconv, "lr": config.lr * config.deconv_lr_scale}]
        body = [p for name, p in self.model.named_parameters() if not name.startswith("deconv.")]
        if config.finetune == "all":
            groups.insert(0, {"params": body, "lr": config.lr})
        else:
            for p in body:
                p.requires_grad_(False)
        if config.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)
        return torch.optim.Adam(groups, lr=config.lr)

    def _sampler(self):
        config = self.config
        images = [image for folder in config.train_folders for image in load_folder(folder)]
        images = augment(images, config.downscales, config.rotations, config.flips)
        return PatchSampler(images, config.scale, config.patch_size, config.batch_size, config.seed)

    def _state(self):
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "iteration": self.iteration,
            "best_psnr": self.best_psnr,
            "best_iteration": self.best_iteration,
            "torch_rng": torch.get_rng_state(),
            "sampler_rng": self.sampler.rng.bit_generator.state,
            "config": self.config.to_dict(),
        }

    def save_checkpoint(self):
        """Write ``checkpoint.pt`` atomically: a crash leaves the previous one intact."""
        state = self._state()
        _atomic_write(self.run_dir / CHECKPOINT, lambda tmp: torch.save(state, tmp))

    def _load_checkpoint(self, path):
        state = torch.load(path, map_location=self.device, weights_only=True)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.iteration = state["iteration"]
        self.best_psnr, self.best_iteration = state["best_psnr"], state["best_iteration"]
        torch.set_rng_state(state["torch_rng"])
        self.sampler.rng.bit_generator.state = state["sampler_rng"]

    def validate(self):
        """Mean PSNR-Y of the model on the validation set (literature protocol)."""
        self.model.eval()
        rows = evaluate(model_upscaler(self.network, self.device), self.validation,
                        self.config.scale, with_ssim=False)
        self.model.train()
        return float(np.mean([p for _, p, _ in rows]))

    def _save_best(self, psnr):
        metadata = {"val_data": str(self.config.val_data), "val_psnr": f"{psnr:.4f}",
                    "iteration": str(self.iteration), "run": self.config.name}
        _atomic_write(self.run_dir / BEST_WEIGHTS,
                      lambda tmp: save_weights(self.model, tmp, metadata))

    def _step(self, lr, hr):
        crop = self.config.loss_border
        out = self.network(lr)
        if crop:
            s = self.config.scale
            out = out[..., crop * s : -crop * s, crop * s : -crop * s]
            hr = hr[..., crop * s : -crop * s, crop * s : -crop * s]
        loss = F.mse_loss(out, hr)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        return loss.item()

    def _log(self, writer, handle, **row):
        writer.writerow({key: row.get(key, "") for key in _LOG_FIELDS})
        handle.flush()

    def run(self):
        """Train to ``config.iterations``; return the path of the best (or last) weights."""
        from tqdm.auto import tqdm

        config = self.config
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.run_dir / "config.yaml", "w") as handle:
            yaml.safe_dump(config.to_dict(), handle, sort_keys=False)
        log_path = self.run_dir / LOG
        new_log = not log_path.exists()
        stale_validations = 0
        with open(log_path, "a", newline="") as handle, tqdm(
            total=config.iterations, initial=self.iteration, disable=not self.progress,
            desc=config.name, unit="it",
        ) as bar:
            writer = csv.DictWriter(handle, _LOG_FIELDS)
            if new_log:
                writer.writeheader()
            self.model.train()
            losses, pixels, start, tick = [], 0, time.perf_counter(), time.perf_counter()
            try:
                while self.iteration < config.iterations:
                    lr, hr = (torch.from_numpy(a).to(self.device) for a in self.sampler.sample())
                    losses.append(self._step(lr, hr))
                    pixels += lr.numel()
                    self.iteration += 1
                    bar.update(1)
                    row = {}
                    if self.iteration % config.log_every == 0:
                        now = time.perf_counter()
                        row.update(loss=f"{np.mean(losses):.6g}", lr_pixels_per_s=f"{pixels / (now - tick):.0f}",
                                   lr=f"{self.scheduler.get_last_lr()[0]:.3g}")
                        losses, pixels, tick = [], 0, now
                    if self.validation and self.iteration % config.val_every == 0:
                        psnr = self.validate()
                        row["val_psnr"] = f"{psnr:.4f}"
                        bar.set_postfix(psnr=f"{psnr:.2f}", best=f"{max(psnr, self.best_psnr):.2f}")
                        if psnr > self.best_psnr:
                            self.best_psnr, self.best_iteration = psnr, self.iteration
                            self._save_best(psnr)
                            stale_validations = 0
                        else:
                            stale_validations += 1
                    if row:
                        self._log(writer, handle, iteration=self.iteration,
                                  elapsed_s=f"{time.perf_counter() - start:.1f}", **row)
                    if self.iteration % config.checkpoint_every == 0:
                        self.save_checkpoint()
                    if config.early_stopping and stale_validations >= config.early_stopping:
                        bar.write(f"early stop: no gain in {stale_validations} validations")
                        break
            except KeyboardInterrupt:
                self.save_checkpoint()
                raise
        self.save_checkpoint()
        best = self.run_dir / BEST_WEIGHTS
        if not best.exists():
            self._save_best(float("nan"))
        return best


def train(config, resume=False, progress=True):
    """Train a model described by ``config``; return the path of its best weights.

    Examples
    --------
    >>> from skfsrcnn.train import load_config, train
    >>> train(load_config(None, ["iterations=100", "name=tiny"]))  # doctest: +SKIP
    """
    return Trainer(config, resume=resume, progress=progress).run()
