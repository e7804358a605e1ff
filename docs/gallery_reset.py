"""Hooks that sphinx-gallery runs around every example (see ``reset_modules`` in conf.py).

The examples run one after the other in the build's process, so global
state that one example changes must be restored for the next.
"""

_TORCH_THREADS = None


def reset_torch_threads(gallery_conf, fname, when):
    """Restore PyTorch's thread count (``TrainConfig(threads=...)`` changes it)."""
    global _TORCH_THREADS
    import torch

    if _TORCH_THREADS is None:  # first call, before the first example
        _TORCH_THREADS = torch.get_num_threads()
    torch.set_num_threads(_TORCH_THREADS)
