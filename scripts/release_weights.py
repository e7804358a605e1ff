"""Copy trained weights into the package and regenerate the registry with their scores.

Usage (from the repository root, after ``skfsrcnn-train recipes/NAME.yaml``)::

    python scripts/release_weights.py [NAME ...] [--runs DIR] [--rescore]

For every recipe name (default: every name in the registry), takes the best
weights of the final stage of ``recipes/NAME.yaml``
(``runs/STAGE/best.safetensors``), copies them to
``src/skfsrcnn/weights/NAME.safetensors`` (refusing a file whose header names
another run, as after renaming a run's folder), scores them with the
project's evaluation (``skfsrcnn.evaluate``) on Set5, Set14 and BSD200/val
from ``../shared/datasets`` (the fluorescence models on ``DSB2018-fluo/val``),
and rewrites the registry, ``src/skfsrcnn/weights/registry.json``. The photo weights are also scored
with the 8-pass self-ensemble on Set5 and Set14 (``ensemble_scores``, as
``skfsrcnn-eval --ensemble``). ``--rescore`` keeps the packaged files as they
are and only scores and registers them again.
"""

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pooch

from skfsrcnn import _registry
from skfsrcnn.evaluate import evaluate, model_upscaler
from skfsrcnn.models import FastFSRCNN
from skfsrcnn.pretrained import input_range, load_model, read_tensors
from skfsrcnn.train.recipe import load_recipe

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "src" / "skfsrcnn" / "weights"
DATA = ROOT.parent / "shared" / "datasets"
RECIPES = ROOT / "recipes"
#: The benchmarks of the scores: Set5 and Set14 report, BSD200/val selects models.
BENCHMARKS = ("Set5", "Set14", "BSD200/val")
#: The fluorescence models are selected and scored on microscopy instead.
FLUO_BENCHMARKS = ("DSB2018-fluo/val",)
#: The benchmarks of the self-ensemble's scores (photo weights only).
ENSEMBLE_BENCHMARKS = ("Set5", "Set14")


def score(path, scale, benchmarks, ensemble=False):
    network = FastFSRCNN(load_model(path, scale=scale)).eval()
    scores = {}
    for name in benchmarks:
        rows = evaluate(model_upscaler(network, ensemble=ensemble), str(DATA / name), scale)
        scores[name] = [round(float(np.mean([r[1] for r in rows])), 2), round(float(np.mean([r[2] for r in rows])), 4)]
    return scores


def lineage(stages):
    """The final stage of a recipe, then every stage its weights descend from (``init_from``), newest first.

    ``init_from`` names one stage's weights or a list of them (averaged); teachers (``distill_from``) are not
    followed: their images are not among the ones the weights were fitted on.
    """
    runs = {str(config.run_dir / "best.safetensors"): config for config in stages}
    chain = [stages[-1]]
    for config in chain:  # grows as it goes: breadth first
        for parent in config.init_weights:
            if parent in runs and runs[parent] not in chain:
                chain.append(runs[parent])
    return chain


def entry(name, runs, rescore=False):
    recipe = RECIPES / f"{name}.yaml"
    stages = load_recipe(recipe, [f"output_dir={runs}"])
    final = stages[-1]
    target = WEIGHTS / f"{name.replace('-', '_')}.safetensors"
    source = target if rescore else final.run_dir / "best.safetensors"
    written_by = read_tensors(source)[1].get("run")
    if written_by != final.name:
        raise ValueError(
            f"{source} was written by run {written_by!r}, not {final.name!r}: "
            "release the run that wrote it, or retrain this one"
        )
    if not rescore:
        shutil.copyfile(source, target)
    config = final.to_dict()
    folders = ", ".join(
        dict.fromkeys(Path(folder).name for earlier in reversed(lineage(stages)) for folder in earlier.train_folders)
    )
    fluo = "-fluo-" in name
    ensemble = {} if fluo else {"ensemble_scores": score(target, config["scale"], ENSEMBLE_BENCHMARKS, ensemble=True)}
    return {
        "file": target.name,
        "sha256": pooch.file_hash(str(target)),
        "architecture": config["model"],
        "scale": config["scale"],
        "training_data": f"{folders} (augmented: downscales {config['downscales']}, "
        f"rotations {config['rotations']}{', flips' if config['flips'] else ''})",
        "recipe": recipe.relative_to(ROOT).as_posix(),
        "stage": final.name,
        "input_range": list(input_range(target)),
        "scores": score(target, config["scale"], FLUO_BENCHMARKS if fluo else BENCHMARKS),
        **ensemble,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="recipes to release, recipes/NAME.yaml (default: the whole registry)"
    )
    parser.add_argument("--runs", default=str(ROOT / "runs"), help="folder of training runs")
    parser.add_argument(
        "--rescore", action="store_true", help="keep the packaged weights; only score and register them again"
    )
    args = parser.parse_args()
    registry = dict(_registry.REGISTRY)
    for name in args.names or list(registry):
        registry[name] = entry(name, args.runs, args.rescore)
        print(name, registry[name]["scores"], registry[name].get("ensemble_scores", ""))
    text = json.dumps(dict(sorted(registry.items())), indent=2) + "\n"
    (ROOT / "src" / "skfsrcnn" / _registry.REGISTRY_FILE).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
