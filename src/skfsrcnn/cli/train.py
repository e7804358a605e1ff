"""``skfsrcnn train`` (and ``skfsrcnn-train``): run a config or a recipe.

``CONFIG.yaml|RECIPE.yaml [--set key=value ...] [--resume] [--stage NAME] [--dry-run]``
"""

import signal

from ..train.config import load_config
from ..train.recipe import format_plan, is_recipe, load_recipe, plan, run_stage, select_stage
from ._common import fail, interrupted, new_parser, run_reported

DESCRIPTION = (
    "Train FSRCNN (or the SRCNN baseline) from a YAML config (one run; see configs/) "
    "or a recipe (a chain of runs; see recipes/)."
)
#: The errors reported as bad usage (status 2) with a one-line message.
_USAGE_ERRORS = (ValueError, TypeError, FileNotFoundError)


def _interrupt(signum, frame):
    """Turn SIGTERM into KeyboardInterrupt, on which the trainer saves a checkpoint."""
    raise KeyboardInterrupt


def add_arguments(parser):
    """Add the arguments of ``skfsrcnn train`` to ``parser``."""
    parser.add_argument("config", nargs="?", help="YAML config or recipe (defaults if omitted)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="extend",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="override settings (one or more; repeatable); for a recipe, of every stage",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue from the run's checkpoint.pt (a recipe resumes on its own)"
    )
    parser.add_argument("--stage", metavar="NAME", help="run only this stage of the recipe")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the plan (stages, parents, iterations, estimated time) and exit"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _stages(args):
    """The runs the arguments describe, and whether they come from a recipe (else from a config)."""
    if args.config and is_recipe(args.config):
        stages = load_recipe(args.config, args.overrides)
        return ([select_stage(stages, args.stage)] if args.stage else stages), True
    if args.stage:
        raise ValueError(
            f"`--stage {args.stage}` needs a recipe (a YAML file with `stages`); "
            f"{args.config or 'the defaults'} is a single-run config."
        )
    return [load_config(args.config, args.overrides)], False


def _run_config(program, config, resume, progress):
    """Train a single-run config as ``skfsrcnn-train CONFIG.yaml`` always has."""
    from ..train.trainer import Trainer

    try:
        trainer = Trainer(config, resume=resume, progress=progress)
    except _USAGE_ERRORS as error:
        fail(program, error)
    try:
        best = trainer.run()
    except KeyboardInterrupt:
        interrupted(program, f"interrupted at iteration {trainer.iteration}; checkpoint saved, continue with --resume")
    print(f"best weights: {best} (validation PSNR {trainer.best_psnr:.2f} dB at iteration {trainer.best_iteration})")


def _run_recipe(program, stages, progress):
    """Train the stages in order, skipping finished ones and resuming a partial one."""
    for config in stages:
        try:
            run_stage(config, progress=progress)
        except _USAGE_ERRORS as error:
            fail(program, error)
        except KeyboardInterrupt:
            interrupted(
                program, f"interrupted in stage {config.name}; checkpoint saved, run the same command again to resume"
            )


def run(args, program):
    """Run ``skfsrcnn train`` on parsed ``args`` (errors as ``program``'s); returns and exits as :func:`main`."""
    try:
        stages, recipe = _stages(args)
        if args.dry_run:
            print(format_plan(plan(stages), args.config or "defaults"))
            return 0
    except _USAGE_ERRORS as error:
        fail(program, error)
    signal.signal(signal.SIGTERM, _interrupt)
    if recipe:
        _run_recipe(program, stages, not args.no_progress)
    else:
        _run_config(program, stages[0], args.resume, not args.no_progress)
    return 0


def main(argv=None):
    """Entry point of ``skfsrcnn-train`` (the same as ``skfsrcnn train``): train from a YAML config or a recipe.

    ``skfsrcnn-train [CONFIG.yaml] [--set KEY=VALUE ...] [--resume]
    [--no-progress]`` reads the settings of one run with
    :func:`~skfsrcnn.train.load_config` (see
    :class:`~skfsrcnn.train.TrainConfig` for every key), trains with
    :class:`~skfsrcnn.train.Trainer` and prints the path and validation
    PSNR of the best weights. Ctrl-C or SIGTERM saves a checkpoint and
    exits with status 130; ``--resume`` continues from it.

    ``skfsrcnn-train RECIPE.yaml [--stage NAME] [--dry-run]`` runs the
    stages of a recipe (:mod:`skfsrcnn.train.recipe`) in order: finished
    stages are skipped and an interrupted one resumes, so the same command
    continues where it stopped; ``--stage`` runs one stage, and ``--set``
    overrides every stage's settings. ``--dry-run`` (recipes and configs)
    prints the plan, each stage's parents, iterations left and time
    estimated from a few timed iterations on this machine, and trains
    nothing.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments without the program name; ``sys.argv[1:]``
        when None.

    Returns
    -------
    int
        0 when training finished (or the plan was printed).

    Raises
    ------
    SystemExit
        Status 2 with a one-line message for a bad config, recipe, setting
        or folder (or an existing run without ``--resume``); 130 when
        interrupted.

    Examples
    --------
    >>> from skfsrcnn.cli.train import main
    >>> main(["--set", "scale=5"])  # prints the reason to stderr
    Traceback (most recent call last):
    ...
    SystemExit: 2

    The chain of the shipped x3 weights, as ``skfsrcnn-train
    recipes/fsrcnn-x3.yaml --dry-run`` does in a shell:

    >>> main(["recipes/fsrcnn-x3.yaml", "--dry-run"])  # doctest: +SKIP
    """
    parser = new_parser("skfsrcnn-train", DESCRIPTION)
    add_arguments(parser)
    return run_reported(run, parser.parse_args(argv), parser.prog)
