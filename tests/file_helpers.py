"""Shared by ``test_cli_upscale`` and ``test_chunked``: what an upscaled file must hold."""

import numpy as np

from skfsrcnn import upscale


def expected_file(image, scale, weights, channel_axis=None):
    """What an upscaled file holds: ``upscale`` in original units, rounded to the input's integer dtype."""
    out = upscale(image, scale, weights=weights, channel_axis=channel_axis, preserve_range=True)
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(image.dtype)
    return out


def assert_rounded_equal(actual, expected):
    """Chunked results agree to float32 precision, so a rounded value may differ by one."""
    assert actual.dtype == expected.dtype
    np.testing.assert_allclose(actual.astype(np.int64), expected.astype(np.int64), rtol=0, atol=1)
