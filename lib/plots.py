"""Small matplotlib helpers shared by the report notebooks of both tracks."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


def frame_grid(
    rows: Sequence[Sequence[np.ndarray]],
    row_titles: Sequence[str] = (),
    col_titles: Sequence[str] = (),
    width: float = 2.2,
):
    """Rows of images in one figure (e.g. an 11-frame window per dataset)."""
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(width * n_cols, width * 0.7 * n_rows + 0.4), squeeze=False
    )
    for i, row in enumerate(rows):
        for j in range(n_cols):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(row):
                ax.imshow(row[j])
            else:
                ax.axis("off")
            if i == 0 and j < len(col_titles):
                ax.set_title(col_titles[j], fontsize=8)
        if i < len(row_titles):
            axes[i][0].set_ylabel(row_titles[i], fontsize=8)
    fig.tight_layout()
    return fig
