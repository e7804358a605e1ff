"""Recipes: the ordered training runs (stages) that make one weights file, in one YAML file.

A recipe maps ``settings`` (what every stage shares) and ``stages`` (a list,
in training order, each a mapping with a ``name`` and only the settings that
differ). A stage names its parents by stage name: ``init_from`` (one stage,
or a list whose mean it starts from) and ``distill_from`` (its teacher)
become that stage's ``<output_dir>/<name>/best.safetensors``. Any other value
(a registry name, a file) is kept as it is, as in a single-run config.
"""

import dataclasses
from pathlib import Path

import torch

from ._throughput import _kind, measure_throughput
from ._yaml import _parse_override, _read_yaml
from .config import TrainConfig

#: Settings that may name earlier stages.
PARENT_KEYS = ("init_from", "distill_from")


def is_recipe(path):
    """Whether the YAML file at ``path`` is a recipe (it has ``stages``) rather than a single-run config.

    Parameters
    ----------
    path : str or path-like
        A YAML file.

    Returns
    -------
    bool

    Examples
    --------
    >>> from skfsrcnn.train.recipe import is_recipe
    >>> is_recipe("recipes/fsrcnn-x3.yaml")  # doctest: +SKIP
    True
    """
    return "stages" in _read_yaml(path)


def _check_keys(mapping, where, allowed):
    unknown = set(mapping) - allowed
    if unknown:
        raise ValueError(
            f"Unknown settings in {where}: {', '.join(sorted(unknown))}; "
            "see skfsrcnn.train.TrainConfig for the valid ones."
        )


def _read_recipe(path):
    """The ``settings`` and ``stages`` of the recipe at ``path``, checked for shape and names."""
    values = _read_yaml(path)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    _check_keys(values, f"recipe {str(path)!r} (top level)", {"settings", "stages"})
    settings, stages = values.get("settings") or {}, values.get("stages")
    if not isinstance(settings, dict) or "name" in settings:
        raise ValueError(f"`settings` in {str(path)!r} must map setting names (other than `name`) to values.")
    _check_keys(settings, f"the settings of {str(path)!r}", fields)
    if not isinstance(stages, list) or not stages or not all(isinstance(s, dict) for s in stages):
        raise ValueError(f"`stages` in {str(path)!r} must be a list of mappings, each with a `name`.")
    names = [stage.get("name") for stage in stages]
    for position, stage in enumerate(stages):
        if not isinstance(stage.get("name"), str):
            raise ValueError(f"Stage {position + 1} of {str(path)!r} has no `name`; give each stage one.")
        _check_keys(stage, f"stage {stage['name']!r} of {str(path)!r}", fields)
        if stage["name"] in names[:position]:
            raise ValueError(f"Two stages of {str(path)!r} are named {stage['name']!r}; rename one.")
    return settings, stages


def _resolve(value, earlier, later, output_dir, stage, key):
    """``value`` of ``key`` with every earlier stage's name replaced by the path of its best weights."""
    if isinstance(value, list):
        return [_resolve(item, earlier, later, output_dir, stage, key) for item in value]
    if value in later or value == stage:
        where = "itself" if value == stage else f"stage {value!r}, which comes later in the recipe"
        raise ValueError(
            f"Stage {stage!r}: `{key}` names {where}; a stage starts from and learns from "
            "stages before it: move that stage before it, or name other weights."
        )
    if value in earlier:
        return str(Path(output_dir) / value / "best.safetensors")
    return value


def expand_stage(settings, stage, earlier, later, overrides=None):
    """The complete settings of one stage: ``settings``, then the stage's own, then ``overrides``.

    Parameters
    ----------
    settings : dict
        The recipe's shared settings.
    stage : dict
        The stage's own settings, with its ``name``.
    earlier, later : collection of str
        Names of the stages before and after it: ``init_from`` and
        ``distill_from`` may name the former, never the latter.
    overrides : dict, optional
        Settings applied last, as they are (their values are never read as
        stage names).

    Returns
    -------
    TrainConfig
        The stage's configuration.

    Raises
    ------
    ValueError
        A parent that is a later stage, or an invalid setting.

    Examples
    --------
    >>> from skfsrcnn.train.recipe import expand_stage
    >>> config = expand_stage({"model": "fsrcnn-s", "train_folders": ["data"]},
    ...                       {"name": "b", "init_from": "a"}, earlier={"a"}, later=())
    >>> config.init_from
    'runs/a/best.safetensors'
    """
    overrides = overrides or {}
    values = {**settings, **stage}
    output_dir = overrides.get("output_dir", values.get("output_dir", TrainConfig.output_dir))
    for key in PARENT_KEYS:
        if values.get(key) is not None:
            values[key] = _resolve(values[key], earlier, later, output_dir, stage["name"], key)
    return TrainConfig(**{**values, **overrides})


def load_recipe(path, overrides=()):
    """Read a recipe and expand every stage into a complete configuration.

    Parameters
    ----------
    path : str or path-like
        The recipe, a YAML file with ``settings`` and ``stages`` (see the
        module's description).
    overrides : sequence of str
        ``"key=value"`` items applied to every stage (``threads=8``,
        ``device=cuda``, ``output_dir=...``), values parsed as YAML and
        used as they are (``init_from=fsrcnn-x3`` is the registry's weights,
        not a stage). ``name`` cannot be overridden.

    Returns
    -------
    list of TrainConfig
        One configuration per stage, in the recipe's order.

    Raises
    ------
    ValueError
        The file is not a recipe of that form; an unknown setting; two
        stages of one name; a parent named before it is trained; an
        override of ``name``; an invalid value.
    FileNotFoundError
        ``path`` does not exist.

    Examples
    --------
    >>> from skfsrcnn.train.recipe import load_recipe
    >>> stages = load_recipe("recipes/fsrcnn-s-x3.yaml", ["threads=4"])  # doctest: +SKIP
    >>> stages[-1].name  # doctest: +SKIP
    'fsrcnn-s-x3-soup'
    """
    settings, stages = _read_recipe(path)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    extra = dict(_parse_override(item, fields) for item in overrides)
    if "name" in extra:
        raise ValueError(
            f"`--set name={extra['name']}`: the stages of a recipe keep their names; "
            "copy the recipe and rename its stages instead."
        )
    names = [stage["name"] for stage in stages]
    return [expand_stage(settings, stage, set(names[:i]), set(names[i + 1 :]), extra) for i, stage in enumerate(stages)]


def stage_status(config):
    """Whether a stage is ``'done'``, ``'partial'`` (resumable) or ``'new'``, from its run folder.

    A stage is done when its run folder holds its final weights
    (``best.safetensors``) and no checkpoint short of its ``iterations``
    (or of its early stop): weights put there by hand count as done too.

    Parameters
    ----------
    config : TrainConfig
        The stage's configuration.

    Returns
    -------
    {'done', 'partial', 'new'}

    Examples
    --------
    >>> from skfsrcnn.train import TrainConfig
    >>> from skfsrcnn.train.recipe import stage_status
    >>> stage_status(TrainConfig(name="never-run", output_dir="/nonexistent"))
    'new'
    """
    from .trainer import BEST_WEIGHTS, CHECKPOINT

    checkpoint = config.run_dir / CHECKPOINT
    if checkpoint.exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        stopped = bool(config.early_stopping) and state.get("stale_validations", 0) >= config.early_stopping
        if state["iteration"] < config.iterations and not stopped:
            return "partial"
    if (config.run_dir / BEST_WEIGHTS).exists():
        return "done"
    return "partial" if checkpoint.exists() else "new"


def _iterations_done(config):
    """Iterations of a partial stage already trained, from its checkpoint."""
    from .trainer import CHECKPOINT

    return torch.load(config.run_dir / CHECKPOINT, map_location="cpu", weights_only=True)["iteration"]


def _duration(seconds):
    """``seconds`` as a short human duration."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _stage_of(path, output_dir):
    """The stage whose best weights ``path`` is, in ``output_dir``; None for any other weights."""
    path = Path(path)
    if path.name == "best.safetensors" and path.parent.parent == Path(output_dir):
        return path.parent.name
    return None


def _parent_names(value, output_dir):
    """Stage names (or the values as given) of an ``init_from`` / ``distill_from`` value."""
    if value is None:
        return "-"
    items = value if isinstance(value, list) else [value]
    names = [_stage_of(item, output_dir) or item for item in items]
    return f"mean of {', '.join(names)}" if isinstance(value, list) else names[0]


def plan(configs, measure=None):
    """The plan of a chain of stages: status, parents, iterations left and estimated time of each.

    Parameters
    ----------
    configs : list of TrainConfig
        The stages, in training order.
    measure : callable, optional
        ``measure(config)`` -> iterations per second; called once per kind
        of stage (model, scale, patch and batch size, precision, threads,
        device) that has iterations left. :func:`measure_throughput` by
        default.

    Returns
    -------
    list of dict
        Per stage: ``name``, ``status``, ``init_from``, ``distill_from``
        (stage names, or the value given), ``iterations`` (left to train)
        and ``seconds`` (estimated).

    Examples
    --------
    >>> from skfsrcnn.train import TrainConfig
    >>> from skfsrcnn.train.recipe import plan
    >>> rows = plan([TrainConfig(name="a", iterations=100, output_dir="/nonexistent")],
    ...             measure=lambda config: 10.0)
    >>> rows[0]["status"], rows[0]["iterations"], rows[0]["seconds"]
    ('new', 100, 10.0)
    """
    measure = measure or measure_throughput
    rates, rows = {}, []
    for config in configs:
        status = stage_status(config)
        left = {"done": 0, "new": config.iterations}.get(status)
        if left is None:
            left = config.iterations - _iterations_done(config)
        if left and _kind(config) not in rates:
            rates[_kind(config)] = measure(config)
        rows.append(
            {
                "name": config.name,
                "status": status,
                "iterations": left,
                "init_from": _parent_names(config.init_from, config.output_dir),
                "distill_from": _parent_names(config.distill_from, config.output_dir),
                "seconds": left / rates[_kind(config)] if left else 0.0,
            }
        )
    return rows


def format_plan(rows, source):
    """The plan of :func:`plan` as text, one line per stage, then the totals.

    Parameters
    ----------
    rows : list of dict
        From :func:`plan`.
    source : str
        What the chain was read from, for the heading.

    Returns
    -------
    str

    Examples
    --------
    >>> from skfsrcnn.train.recipe import format_plan
    >>> print(format_plan([{"name": "a", "status": "new", "init_from": "-", "distill_from": "-",
    ...                     "iterations": 100, "seconds": 10.0}], "a.yaml"))  # doctest: +NORMALIZE_WHITESPACE
    a.yaml: 1 stage(s), 0 done; 100 iterations left, about 10 s
      #  stage  status  iterations  time  starts from  teacher
      1  a      new            100  10 s  -            -
    estimated from a few timed iterations of each kind of stage on this machine
    (uncompiled; data loading, validation and teachers' passes not included)
    """
    width = max(len(row["name"]) for row in rows)
    start = max(len("starts from"), *(len(row["init_from"]) for row in rows))
    done = sum(row["status"] == "done" for row in rows)
    total = sum(row["seconds"] for row in rows)
    lines = [
        f"{source}: {len(rows)} stage(s), {done} done; "
        f"{sum(row['iterations'] for row in rows)} iterations left, about {_duration(total)}",
        f"  #  {'stage':{width}}  status   iterations  time    {'starts from':{start}}  teacher",
    ]
    for number, row in enumerate(rows, 1):
        lines.append(
            f"{number:3d}  {row['name']:{width}}  {row['status']:7}  {row['iterations']:10d}  "
            f"{_duration(row['seconds']):6}  {row['init_from']:{start}}  {row['distill_from']}"
        )
    lines.append(
        "estimated from a few timed iterations of each kind of stage on this machine\n"
        "(uncompiled; data loading, validation and teachers' passes not included)"
    )
    return "\n".join(lines)


def _check_parents(config):
    """Refuse to start a stage whose parents' weights (in its ``output_dir``) are missing."""
    used = [*config.init_weights, *([config.distill_from] if config.distill_from else [])]
    for path in used:
        parent = _stage_of(path, config.output_dir)
        if parent and not Path(path).exists():
            raise ValueError(
                f"Stage {config.name!r} starts from {path!r}, which does not exist: train stage "
                f"{parent!r} first (--stage {parent}), or run the whole recipe."
            )


def run_stage(config, progress=True, echo=print):
    """Train one stage unless it is done: resume it when partial, start it when new.

    Parameters
    ----------
    config : TrainConfig
        The stage.
    progress : bool
        Show a progress bar.
    echo : callable
        Receives one line of text per stage.

    Returns
    -------
    pathlib.Path
        The stage's ``best.safetensors``.

    Raises
    ------
    ValueError
        A parent's weights are missing, or as :class:`~skfsrcnn.train.Trainer`.
    KeyboardInterrupt
        Interrupted: the stage's checkpoint is saved first.

    Examples
    --------
    >>> from skfsrcnn.train.recipe import load_recipe, run_stage
    >>> for config in load_recipe("recipes/fsrcnn-s-x3.yaml"):  # doctest: +SKIP
    ...     run_stage(config)
    """
    from .trainer import BEST_WEIGHTS, Trainer

    status = stage_status(config)
    if status == "done":
        echo(f"{config.name}: done ({config.run_dir / BEST_WEIGHTS}), skipped")
        return config.run_dir / BEST_WEIGHTS
    _check_parents(config)
    echo(f"{config.name}: {'resuming' if status == 'partial' else 'starting'}")
    trainer = Trainer(config, resume=status == "partial", progress=progress)
    best = trainer.run()
    echo(
        f"{config.name}: best weights {best} (validation PSNR {trainer.best_psnr:.2f} dB "
        f"at iteration {trainer.best_iteration})"
    )
    return best


def select_stage(configs, name):
    """The stage of ``configs`` named ``name``.

    Raises
    ------
    ValueError
        No stage has that name (the message lists them).

    Examples
    --------
    >>> from skfsrcnn.train import TrainConfig
    >>> from skfsrcnn.train.recipe import select_stage
    >>> select_stage([TrainConfig(name="a")], "a").name
    'a'
    """
    for config in configs:
        if config.name == name:
            return config
    names = ", ".join(config.name for config in configs)
    raise ValueError(f"`--stage {name}`: the recipe has no stage of that name; its stages are {names}.")
