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


def captioned_grid(
    items: Sequence[tuple[np.ndarray, str, str]],
    columns: int = 3,
    size: tuple[float, float] = (14, 6.5),
):
    """(image, title, caption) items in a grid, the caption boxed on the picture: the
    predictions of 07_predict shown on the frames or images they were made from."""
    n_rows = max(1, -(-len(items) // columns))
    fig, axes = plt.subplots(n_rows, columns, figsize=size, squeeze=False)
    for ax, (image, title, caption) in zip(axes.ravel(), items, strict=False):
        ax.imshow(image)
        ax.set_title(title, fontsize=9)
        ax.text(
            0.02, 0.95, caption, transform=ax.transAxes, va="top", color="w", fontsize=12,
            bbox={"facecolor": "k", "alpha": 0.6},
        )  # fmt: skip
    for ax in axes.ravel():
        ax.axis("off")
    fig.tight_layout()
    return fig
