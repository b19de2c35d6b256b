"""Contact sheets: many small images and their fits in one picture (numpy only, fast for
hundreds of signals)."""

from __future__ import annotations

import numpy as np


def contact_sheet(*stacks: np.ndarray, cols: int = 8, gap: int = 2) -> np.ndarray:
    """A grid of cells, cell ``i`` showing image ``i`` of every stack side by side (e.g. ground
    truth | fit), on a white background.

    Arguments:
        stacks: ``(N, H, W, C)`` arrays in [-1, 1] (clipped), all of one shape.
        cols: cells per row.
        gap: pixels between images (cells are ``2 * gap`` apart).

    Returns:
        ``(H', W', C)`` in [-1, 1].
    """
    n, h, w, c = stacks[0].shape
    cols = min(cols, n)
    rows = (n + cols - 1) // cols
    k = len(stacks)
    cell_w = k * w + (k - 1) * gap
    sheet = np.ones((rows * (h + gap) + gap, cols * (cell_w + 2 * gap) + gap, c), np.float32)
    for i in range(n):
        r, q = divmod(i, cols)
        top, left = gap + r * (h + gap), gap + q * (cell_w + 2 * gap)
        for j, stack in enumerate(stacks):
            x = left + j * (w + gap)
            sheet[top : top + h, x : x + w] = np.clip(stack[i], -1, 1)
    return sheet
