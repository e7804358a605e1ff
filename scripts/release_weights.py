"""Copy trained weights into the package and regenerate the registry with their scores.

Usage (from the repository root, after ``bash configs/train_release.sh``)::

    python scripts/release_weights.py [NAME[=RUN] ...]

For every registry name (default: every name already in the registry, each
from the run of the config its ``recipe`` names), takes
``runs/RUN/best.safetensors`` (RUN defaults to NAME), copies it to
``src/skfsrcnn/weights/NAME.safetensors`` (refusing a file whose header names
another run, as after renaming a run's folder),
scores it with the project's evaluation (``skfsrcnn.evaluate``) on Set5 and
Set14 from ``../shared/datasets`` (the fluorescence models on
``DSB2018-fluo/val``), and rewrites ``src/skfsrcnn/_registry.py``.
"""

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pooch
import yaml

from skfsrcnn import _registry
from skfsrcnn.evaluate import evaluate, model_upscaler
from skfsrcnn.models import FastFSRCNN
from skfsrcnn.pretrained import input_range, load_model, read_tensors
from skfsrcnn.train import TrainConfig, load_config

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "src" / "skfsrcnn" / "weights"
DATA = ROOT.parent / "shared" / "datasets"
HEADER = _registry.__doc__


#: The benchmarks each model is scored on, by registry name without its scale (default: Set5 and Set14).
BENCHMARKS = {"fsrcnn-fluo": ("DSB2018-fluo/val",), "fsrcnn-s-fluo": ("DSB2018-fluo/val",)}


def score(path, scale, benchmarks):
    network = FastFSRCNN(load_model(path, scale=scale)).eval()
    scores = {}
    for name in benchmarks:
        rows = evaluate(model_upscaler(network), str(DATA / name), scale)
        scores[name] = [round(float(np.mean([r[1] for r in rows])), 2),
                        round(float(np.mean([r[2] for r in rows])), 4)]
    return scores


def lineage(config):
    """The config of a run, then those of every run its weights descend from (``init_from``), newest first.

    ``init_from`` names one run's weights or a list of them (averaged). Each earlier run is read from its recipe
    in ``configs/``, once; the walk stops at a run without one.
    """
    chain, names = [config], {config["name"]}
    for run in chain:  # grows as it goes: breadth first
        for parent in TrainConfig(**run).init_weights:
            name = Path(parent).parent.name
            recipe = ROOT / "configs" / f"{name}.yaml"
            if parent.startswith("runs/") and recipe.exists() and name not in names:
                names.add(name)
                chain.append(load_config(recipe).to_dict())
    return chain


def entry(name, run_name, runs):
    run = Path(runs) / run_name
    config = yaml.safe_load((run / "config.yaml").read_text())
    written_by = read_tensors(run / "best.safetensors")[1].get("run")
    if written_by != run_name:
        raise ValueError(f"{run / 'best.safetensors'} was written by run {written_by!r}, not {run_name!r}: "
                         "release the run that wrote it, or retrain this one")
    target = WEIGHTS / f"{name.replace('-', '_')}.safetensors"
    shutil.copyfile(run / "best.safetensors", target)
    folders = ", ".join(dict.fromkeys(Path(folder).name for earlier in reversed(lineage(config))
                                      for folder in earlier["train_folders"]))
    return {
        "file": target.name,
        "sha256": pooch.file_hash(str(target)),
        "architecture": config["model"],
        "scale": config["scale"],
        "training_data": f"{folders} (augmented: downscales {config['downscales']}, "
                         f"rotations {config['rotations']}{', flips' if config['flips'] else ''})",
        "recipe": f"configs/{run_name}.yaml",
        "input_range": list(input_range(target)),
        "scores": score(target, config["scale"], BENCHMARKS.get(name.rsplit("-x", 1)[0], ("Set5", "Set14"))),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME[=RUN]",
                        help="registry names to release, each from runs/RUN (default: the whole registry)")
    parser.add_argument("--runs", default=str(ROOT / "runs"), help="folder of training runs")
    args = parser.parse_args()
    registry = dict(_registry.REGISTRY)
    pairs = [item.partition("=")[::2] for item in args.names] or [
        (name, Path(item["recipe"]).stem) for name, item in registry.items()
    ]
    for name, run_name in pairs:
        registry[name] = entry(name, run_name or name, args.runs)
        print(name, registry[name]["scores"])
    text = f'"""{HEADER}"""\n\n# (mean PSNR-Y dB, mean SSIM-Y) per benchmark, from skfsrcnn.evaluate.\n'
    text += f"REGISTRY = {json.dumps(dict(sorted(registry.items())), indent=4)}\n"
    (ROOT / "src" / "skfsrcnn" / "_registry.py").write_text(text)


if __name__ == "__main__":
    main()
