"""Driving the progress generators (``upscale_steps``, ``Trainer.run_steps``) to their result."""


def run_to_end(steps, on_step=None):
    """Exhaust the generator ``steps`` and return its return value.

    Parameters
    ----------
    steps : generator
        A progress generator such as :func:`skfsrcnn.upscale_steps` or
        :func:`skfsrcnn.train.fit_steps`: it yields progress and returns its
        result.
    on_step : callable, optional
        Called with every value ``steps`` yields (e.g. to move a progress
        bar), before the next step runs.

    Returns
    -------
    result : object
        The generator's return value (the ``StopIteration`` value).

    Examples
    --------
    >>> from skfsrcnn import run_to_end
    >>> def count():
    ...     yield 1
    ...     yield 2
    ...     return "done"
    >>> run_to_end(count())
    'done'
    >>> run_to_end(count(), on_step=print)
    1
    2
    'done'
    """
    while True:
        try:
            step = next(steps)
        except StopIteration as stop:
            return stop.value
        if on_step is not None:
            on_step(step)


def extend_progress(steps, before, after):
    """Re-yield the ``(done, total)`` of ``steps`` within a longer run; return its value.

    ``before`` steps of the run come first and ``after`` follow, so
    ``(done, total)`` becomes ``(before + done, before + total + after)``.

    Examples
    --------
    >>> from skfsrcnn._progress import extend_progress
    >>> def two():
    ...     yield 1, 2
    ...     yield 2, 2
    ...     return "done"
    >>> run_to_end(extend_progress(two(), 3, 1), on_step=print)
    (4, 6)
    (5, 6)
    'done'
    """
    while True:
        try:
            done, total = next(steps)
        except StopIteration as stop:
            return stop.value
        yield before + done, before + total + after
