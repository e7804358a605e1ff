"""The training loop of FSRCNN (and SRCNN): data, optimisation, validation and checkpoints."""

import math
import time
import warnings

import numpy as np
import torch
import yaml

from .. import _validate
from ..datasets import load_benchmark
from ..evaluate import evaluate, model_upscaler
from ..models import build_model, inference_form
from ..pretrained import save_weights
from ._runfiles import (
    _LOG_FIELDS,
    BEST_WEIGHTS,
    CHECKPOINT,
    LOG,
    Progress,
    _atomic_write,
    best_on_disk,
    log_writer,
    prepare_log,
)
from ._setup import _last_layer, _mean_model, _schedule, _transfer, _weight_average, bfloat16_is_native, training_data
from .config import TrainConfig
from .losses import PIXEL_LOSSES, PerceptualLoss


class Trainer:
    """Train FSRCNN (or SRCNN) from a :class:`TrainConfig`, resumable from its checkpoint.

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

    Attributes
    ----------
    config : TrainConfig
        The run's settings.
    run_dir : pathlib.Path
        The run's folder, ``config.run_dir``.
    device : torch.device
        Where the model trains.
    model : skfsrcnn.models.FSRCNN or skfsrcnn.models.SRCNN
        The model being trained.
    average : torch.optim.swa_utils.AveragedModel or None
        The exponential moving average of the model's weights, when
        ``ema_decay`` is set.
    kept_model : skfsrcnn.models.FSRCNN or skfsrcnn.models.SRCNN
        The weights validated and saved: ``average.module``, else ``model``.
    perceptual : PerceptualLoss or None
        The frozen perceptual loss, when ``perceptual_weights`` is set.
    iteration : int
        Iterations done so far (restored by ``resume``).
    best_psnr : float
        Best validation PSNR-Y in dB so far (``-inf`` before the first).
    best_iteration : int
        Iteration of ``best_psnr``.
    stale_validations : int
        Validations since ``best_psnr`` last improved (for ``early_stopping``).
    elapsed : float
        Seconds of training before the current :meth:`run` (restored by
        ``resume``, so ``log.csv``'s ``elapsed_s`` continues across
        interruptions).

    Raises
    ------
    TypeError
        ``config`` is not a :class:`TrainConfig`.
    ValueError
        The run's checkpoint exists and ``resume`` is False (or is missing
        and ``resume`` is True); ``init_from`` weights do not fit ``model``;
        ``distill_from`` is not weights of ``scale``; ``train_folders`` is
        empty, or the training or validation folders hold no usable image; the run
        folder cannot be created; ``perceptual_weights`` is not VGG16 weights.
    FileNotFoundError
        ``perceptual_weights`` does not exist.

    Warns
    -----
    UserWarning
        ``precision`` is ``'bfloat16'`` on a device that only emulates it
        (``skfsrcnn.train.trainer.bfloat16_is_native``), which is slower than float32.

    See Also
    --------
    train : The same in one call.

    Notes
    -----
    The run folder receives ``config.yaml`` (the settings),
    :data:`LOG` (loss, learning rate, validation PSNR, training time and
    throughput every ``log_every`` iterations; on resume, rows past the
    checkpoint are dropped, as those iterations are trained again),
    :data:`CHECKPOINT` (every ``checkpoint_every`` iterations, at the end
    and on interruption) and :data:`BEST_WEIGHTS`, which
    :func:`skfsrcnn.pretrained.load_model`, :func:`skfsrcnn.upscale` and
    ``skfsrcnn-eval`` accept.

    Examples
    --------
    Train a tiny model for four iterations on the bundled sample:

    >>> import tempfile
    >>> from skfsrcnn.io import sample_path
    >>> from skfsrcnn.train import TrainConfig, Trainer
    >>> folder = str(sample_path().parent)  # one 128x128 image
    >>> runs = tempfile.TemporaryDirectory()
    >>> config = TrainConfig(
    ...     name="tiny", model="fsrcnn-s", scale=2, train_folders=[folder],
    ...     downscales=[1.0], rotations=[0], patch_size=8, batch_size=4,
    ...     iterations=4, val_data=folder, val_every=2, checkpoint_every=2,
    ...     output_dir=runs.name)
    >>> trainer = Trainer(config, progress=False)
    >>> best = trainer.run()
    >>> best.name, trainer.iteration
    ('best.safetensors', 4)
    >>> sorted(path.name for path in trainer.run_dir.iterdir())
    ['best.safetensors', 'checkpoint.pt', 'config.yaml', 'log.csv']
    >>> runs.cleanup()

    A starter config (an hour or more on a CPU):

    >>> from skfsrcnn.train import load_config
    >>> Trainer(load_config("configs/fsrcnn-x3.yaml")).run()  # doctest: +SKIP
    """

    def __init__(self, config, resume=False, progress=True):
        if not isinstance(config, TrainConfig):
            raise TypeError(f"`config` must be a TrainConfig, got {type(config).__name__}.")
        self.config, self.progress = config, progress
        self.device = _validate.device(config.device)
        if config.threads:
            torch.set_num_threads(config.threads)
        if config.precision == "bfloat16" and not bfloat16_is_native(self.device):
            warnings.warn(
                f"`precision`='bfloat16': this {self.device.type.upper()} has no native bfloat16 "
                "(AVX-512 BF16 or AMX on a CPU), so it is emulated and slower than float32; "
                "use precision: float32.",
                stacklevel=2,
            )
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
        self.model = build_model(config.model, config.scale)
        if config.init_weights:
            source = _mean_model(config.init_weights)
            copied = _transfer(self.model, source)
            missing = sorted(set(self.model.state_dict()) - set(copied))
            if missing:
                raise ValueError(
                    f"`init_from`={config.init_from!r} is {source.config} but `model`="
                    f"{config.model!r} is {self.model.config}; {', '.join(missing[:3])}, ... "
                    "cannot be transferred. Use weights of the same model."
                )
        self.model.to(self.device)
        self.network = inference_form(self.model)
        self.average = _weight_average(self.model, config.ema_decay)
        self._kept_network = self.network if self.kept_model is self.model else inference_form(self.kept_model)
        self.perceptual = None
        if config.perceptual_weights:
            self.perceptual = PerceptualLoss(config.perceptual_weights, config.perceptual_layer)
            self.perceptual.to(self.device)
        self.optimizer = self._optimizer()
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, _schedule(config))
        self.sampler, self.input_range = training_data(config, self.device, progress)
        self._loss_fn = torch.compile(self._loss) if config.compile else self._loss
        self.validation = load_benchmark(config.val_data, config.scale) if config.val_data else None
        self.iteration, self.best_psnr, self.best_iteration = 0, -math.inf, 0
        self.stale_validations, self.elapsed, self._clock = 0, 0.0, None
        if resume:
            self._load_checkpoint(checkpoint)
        self._make_run_dir()

    @property
    def kept_model(self):
        """The model validated and saved: the average of the weights with ``ema_decay``, else the model."""
        return self.average.module if self.average is not None else self.model

    def _make_run_dir(self):
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ValueError(
                f"`output_dir`={self.config.output_dir!r}: the run folder {str(self.run_dir)!r} cannot "
                f"be created ({error.strerror or error}); choose a writable `output_dir`."
            ) from error

    def _optimizer(self):
        config = self.config
        prefix = _last_layer(self.model) + "."
        parameters = list(self.model.named_parameters())
        last = [p for name, p in parameters if name.startswith(prefix)]
        groups = [{"params": last, "lr": config.lr * config.deconv_lr_scale}]
        body = [p for name, p in parameters if not name.startswith(prefix)]
        if config.finetune == "all":
            groups.insert(0, {"params": body, "lr": config.lr})
        else:
            for p in body:
                p.requires_grad_(False)
        if config.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)
        return torch.optim.Adam(groups, lr=config.lr)

    def _state(self):
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "average": self.average.state_dict() if self.average is not None else None,
            "iteration": self.iteration,
            "best_psnr": self.best_psnr,
            "best_iteration": self.best_iteration,
            "stale_validations": self.stale_validations,
            "elapsed_s": self._elapsed(),
            "torch_rng": torch.get_rng_state(),
            "sampler_rng": self.sampler.rng.bit_generator.state,
            "config": self.config.to_dict(),
        }

    def save_checkpoint(self):
        """Write ``checkpoint.pt`` atomically: a crash leaves the previous one intact.

        The checkpoint holds the model, optimiser, schedule, random states,
        counters and settings: everything ``resume=True`` needs to continue
        the run exactly. :meth:`run` calls it on its own.

        Examples
        --------
        >>> trainer.save_checkpoint()  # doctest: +SKIP
        >>> Trainer(config, resume=True).iteration  # doctest: +SKIP
        """
        state = self._state()
        _atomic_write(self.run_dir / CHECKPOINT, lambda tmp: torch.save(state, tmp))

    def _load_checkpoint(self, path):
        state = torch.load(path, map_location=self.device, weights_only=True)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if self.average is not None and state.get("average") is not None:
            self.average.load_state_dict(state["average"])
        self.iteration = state["iteration"]
        self.best_psnr, self.best_iteration = state["best_psnr"], state["best_iteration"]
        on_disk = best_on_disk(self.run_dir) if self.validation else None
        if on_disk is not None and on_disk[0] > self.best_psnr:
            self.best_psnr, self.best_iteration = on_disk
        # Checkpoints written before these were kept start them afresh.
        self.stale_validations = state.get("stale_validations", 0)
        self.elapsed = state.get("elapsed_s", 0.0)
        torch.set_rng_state(state["torch_rng"])
        self.sampler.rng.bit_generator.state = state["sampler_rng"]

    def validate(self):
        """Return the mean PSNR-Y of the model on the validation set.

        Scored with the literature's protocol (:func:`skfsrcnn.evaluate.evaluate`)
        on ``config.val_data``, its LR images made by the training's
        degradation (``config.degradation_model``); requires it to be set.

        Returns
        -------
        float
            Mean PSNR-Y in dB.

        Examples
        --------
        >>> import tempfile
        >>> from skfsrcnn.io import sample_path
        >>> from skfsrcnn.train import TrainConfig, Trainer
        >>> folder = str(sample_path().parent)
        >>> runs = tempfile.TemporaryDirectory()
        >>> config = TrainConfig(model="fsrcnn-s", train_folders=[folder], val_data=folder,
        ...                      output_dir=runs.name)
        >>> psnr = Trainer(config, progress=False).validate()  # the random initial model
        >>> isinstance(psnr, float)
        True
        >>> runs.cleanup()
        """
        self.kept_model.eval()
        rows = evaluate(
            model_upscaler(self._kept_network, self.device),
            self.validation,
            self.config.scale,
            with_ssim=False,
            degradation=self.config.degradation_model,
        )
        self.model.train()
        return float(np.mean([p for _, p, _ in rows]))

    def _elapsed(self):
        """Seconds spent in :meth:`run` so far, over all resumptions."""
        return self.elapsed + (time.perf_counter() - self._clock if self._clock is not None else 0.0)

    def _save_best(self, psnr):
        metadata = {
            "val_data": str(self.config.val_data),
            "val_psnr": f"{psnr:.4f}",
            "iteration": str(self.iteration),
            "run": self.config.name,
        }
        _atomic_write(
            self.run_dir / BEST_WEIGHTS,
            lambda tmp: save_weights(self.kept_model, tmp, metadata, input_range=self.input_range),
        )

    def _loss(self, lr, hr):
        """The training loss of the network on a batch (compiled with ``config.compile``).

        The network runs in ``config.precision``, the loss in float32.
        """
        crop = self.config.loss_border
        with torch.autocast(self.device.type, torch.bfloat16, enabled=self.config.precision == "bfloat16"):
            out = self.network(lr)
        out = out.float()
        if crop:
            s = self.config.scale
            out = out[..., crop * s : -crop * s, crop * s : -crop * s]
            hr = hr[..., crop * s : -crop * s, crop * s : -crop * s]
        loss = PIXEL_LOSSES[self.config.pixel_loss](out, hr)
        if self.perceptual is not None:
            loss = loss + self.config.perceptual_scale * self.perceptual(out, hr)
        return loss

    def _step(self, lr, hr):
        loss = self._loss_fn(lr, hr)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        if self.average is not None:
            self.average.update_parameters(self.model)
        return loss.item()

    def _log(self, writer, handle, **row):
        writer.writerow({key: row.get(key, "") for key in _LOG_FIELDS})
        handle.flush()

    def run(self):
        """Train to ``config.iterations``; return the path of the best (or last) weights.

        Validates every ``val_every`` iterations and keeps the best weights;
        stops early after ``early_stopping`` validations without a gain, or
        after ``time_budget`` seconds. On ``KeyboardInterrupt`` (or SIGTERM
        under ``skfsrcnn-train``) a checkpoint is saved before the exception
        propagates, so that the run can be resumed.

        Returns
        -------
        pathlib.Path
            ``run_dir / "best.safetensors"``: the best-validating weights, or
            the last ones without ``val_data``.

        See Also
        --------
        run_steps : The same, one iteration at a time.

        Examples
        --------
        >>> best = Trainer(config).run()  # doctest: +SKIP
        >>> from skfsrcnn import upscale  # doctest: +SKIP
        >>> upscale(image, config.scale, weights=best)  # doctest: +SKIP
        """
        from .._progress import run_to_end

        return run_to_end(self.run_steps())

    def run_steps(self):
        """Generator form of :meth:`run`: yields a :class:`Progress` after every iteration.

        Its return value is :meth:`run`'s. Closing it early (a Cancel button)
        stops training and keeps the best weights so far (the current ones
        when none was validated yet), with a checkpoint to resume from.

        Yields
        ------
        Progress
            Iterations done and planned, seconds spent, the latest and the
            best validation PSNR.
        """
        from tqdm.auto import tqdm

        config = self.config
        self.run_dir.mkdir(parents=True, exist_ok=True)
        settings = yaml.safe_dump(config.to_dict(), sort_keys=False)
        _atomic_write(self.run_dir / "config.yaml", lambda tmp: tmp.write_text(settings))
        log_path = self.run_dir / LOG
        prepare_log(log_path, self.iteration)  # a header, and no row past the checkpoint
        psnr = math.nan
        with (
            open(log_path, "a", newline="") as handle,
            tqdm(
                total=config.iterations,
                initial=self.iteration,
                disable=not self.progress,
                desc=config.name,
                unit="it",
            ) as bar,
        ):
            writer = log_writer(handle)
            self.model.train()
            losses, pixels = [], 0
            self._clock = tick = time.perf_counter()
            try:
                while self.iteration < config.iterations:
                    lr, hr = (torch.from_numpy(a).to(self.device) for a in self.sampler.sample())
                    losses.append(self._step(lr, hr))
                    pixels += lr.numel()
                    self.iteration += 1
                    bar.update(1)
                    out_of_time = config.time_budget is not None and self._elapsed() >= config.time_budget
                    row = {}
                    if self.iteration % config.log_every == 0:
                        now = time.perf_counter()
                        row.update(
                            loss=f"{np.mean(losses):.6g}",
                            lr_pixels_per_s=f"{pixels / (now - tick):.0f}",
                            lr=f"{self.scheduler.get_last_lr()[0]:.3g}",
                        )
                        losses, pixels, tick = [], 0, now
                    if self.validation and (self.iteration % config.val_every == 0 or out_of_time):
                        psnr = self._validate_and_keep()
                        row["val_psnr"] = f"{psnr:.4f}"
                        bar.set_postfix(psnr=f"{psnr:.2f}", best=f"{self.best_psnr:.2f}")
                    if row:
                        self._log(writer, handle, iteration=self.iteration, elapsed_s=f"{self._elapsed():.1f}", **row)
                    if self.iteration % config.checkpoint_every == 0:
                        self.save_checkpoint()
                    yield Progress(self.iteration, config.iterations, self._elapsed(), psnr, self.best_psnr)
                    if out_of_time:
                        if self.progress:
                            bar.write(f"time budget of {config.time_budget:g} s spent")
                        break
                    if config.early_stopping and self.stale_validations >= config.early_stopping:
                        bar.write(f"early stop: no gain in {self.stale_validations} validations")
                        break
            except (KeyboardInterrupt, GeneratorExit):
                self._finish()
                raise
            finally:
                self.elapsed, self._clock = self._elapsed(), None
        return self._finish()

    def _validate_and_keep(self):
        """Validate; keep the weights when they score best so far. Return the PSNR."""
        psnr = self.validate()
        if psnr > self.best_psnr:
            self.best_psnr, self.best_iteration = psnr, self.iteration
            self._save_best(psnr)
            self.stale_validations = 0
        else:
            self.stale_validations += 1
        return psnr

    def _finish(self):
        """Checkpoint, and keep the last weights: always without validation, else when none were kept yet."""
        self.save_checkpoint()
        best = self.run_dir / BEST_WEIGHTS
        if not self.validation:
            self._save_best(float("nan"))
        elif not best.exists():
            self.best_psnr, self.best_iteration = self.validate(), self.iteration
            self._save_best(self.best_psnr)
        return best
