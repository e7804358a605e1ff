"""Reading settings from YAML: config files with their ``base``, and ``key=value`` overrides."""

from pathlib import Path

import yaml


def _parse_override(item, fields):
    if "=" not in item:
        hint = " (give the config file before `--set`)" if item.endswith((".yaml", ".yml")) else ""
        raise ValueError(f"`--set` expects key=value, got {item!r}{hint}.")
    key, text = item.split("=", 1)
    if key not in fields:
        raise ValueError(f"Unknown setting {key!r} in `--set`; known: {', '.join(sorted(fields))}.")
    try:
        return key, yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(
            f"`--set {item}`: the value is not valid YAML; quote or fix it, e.g. {key}=[a, b]. ({error})"
        ) from error


def _read_yaml(path):
    """The mapping of settings in the YAML file ``path``."""
    if Path(path).is_dir():
        raise ValueError(f"The config {str(path)!r} is a folder; pass a YAML file, e.g. configs/fsrcnn-x3.yaml.")
    with open(path) as handle:
        try:
            values = yaml.safe_load(handle) or {}
        except yaml.YAMLError as error:
            raise ValueError(f"The config {str(path)!r} is not valid YAML; fix it: {error}") from error
    if not isinstance(values, dict):
        raise ValueError(
            f"The config {str(path)!r} holds a {type(values).__name__}; it must map setting names "
            "to values, e.g. 'scale: 3' on its own line."
        )
    return values


def _read_settings(path, fields, children=()):
    """The settings of the YAML file ``path`` over those of the file its ``base`` names."""
    values = _read_yaml(path)
    unknown = set(values) - fields - {"base"}
    if unknown:
        raise ValueError(f"Unknown settings in {str(path)!r}: {', '.join(sorted(unknown))}.")
    if "base" not in values:
        return values
    base = values.pop("base")
    if not isinstance(base, str):
        raise ValueError(
            f"`base` in {str(path)!r} must be the path of another config, relative to "
            f"{str(path)!r}'s folder (e.g. base: base/fsrcnn-x3.yaml), got {base!r}."
        )
    base_path = Path(path).parent / base
    if not base_path.is_file():
        raise FileNotFoundError(
            f"`base` in {str(path)!r} names {base!r}, but {str(base_path)!r} is not a file; "
            "the path is relative to the folder of the config that names it."
        )
    chain = (*children, Path(path).resolve())
    if base_path.resolve() in chain:
        loop = " -> ".join(str(p) for p in (*chain, base_path.resolve()))
        raise ValueError(f"The configs name each other as `base` in a loop: {loop}; break it.")
    return {**_read_settings(base_path, fields, chain), **values}
