"""Driving the progress generators (``upscale_steps``, ``Trainer.run_steps``) to their result."""


def run_to_end(steps):
    """Exhaust the generator ``steps`` and return its return value.

    Examples
    --------
    >>> from skfsrcnn._progress import run_to_end
    >>> def count():
    ...     yield 1
    ...     return "done"
    >>> run_to_end(count())
    'done'
    """
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value
