"""Statistics of the real Deep Chimpact tables, embedded so the demo imitates them offline.

Derived once from the competition's train_labels.csv / *_metadata.csv (2,072 train videos,
15,229 rows). Only aggregate counts are kept here, never rows, so the demo's marginals match
the real ones without shipping the real files.
"""

from __future__ import annotations

# Real train label counts per distance (metres): the 35-value grid and how often each occurs.
# Mean 6.75 m, median 5.5 m. 0.0 is almost absent in real labels but must still render.
DISTANCE_COUNTS: dict[float, int] = {
    0.0: 2, 0.5: 125, 1.0: 629, 1.5: 194, 2.0: 1060, 2.5: 507, 3.0: 1024, 3.5: 616,
    4.0: 1082, 4.5: 702, 5.0: 1091, 5.5: 634, 6.0: 798, 6.5: 427, 7.0: 1027, 7.5: 390,
    8.0: 712, 9.0: 1014, 10.0: 515, 11.0: 641, 12.0: 408, 13.0: 349, 13.5: 53, 14.0: 234,
    15.0: 269, 16.0: 157, 17.0: 133, 18.0: 32, 19.0: 25, 20.0: 124, 21.0: 3, 22.0: 11,
    23.0: 2, 24.0: 14, 25.0: 225,
}  # fmt: skip
DISTANCE_GRID: tuple[float, ...] = tuple(sorted(DISTANCE_COUNTS))

# Real labelled rows per train video -> number of videos (quantiles 10%:1, 50%:4, 90%:22).
# The spike at 30 is the "every 2 s for a whole minute" pattern.
ROWS_PER_VIDEO_COUNTS: dict[int, int] = {
    1: 493, 2: 268, 3: 230, 4: 131, 5: 124, 6: 128, 7: 57, 8: 127, 9: 51, 10: 31, 11: 36,
    12: 16, 13: 16, 14: 21, 15: 19, 16: 20, 17: 21, 18: 23, 19: 14, 20: 20, 21: 14, 22: 19,
    23: 11, 24: 10, 25: 7, 26: 15, 27: 8, 28: 8, 29: 11, 30: 109, 31: 7, 33: 1, 36: 4,
    44: 1, 45: 1,
}  # fmt: skip

# Label timing patterns among real train videos: 24% single row (83% of those at t=0),
# 44% every 2 s, 14% every 10 s (2-6 rows), 18% mixed (2 s runs with gaps, odd offsets).
SINGLE_AT_ZERO = 0.83
STEP10_SHARE_SHORT = 0.33  # share of 2-6 row videos labelled every 10 s
MIXED_SHARE = 0.28  # share of the remaining multi-row videos with gaps / odd steps
# Gaps that break the 2 s rhythm in mixed videos (1-4 per video), with real frequencies.
MIXED_GAPS: dict[int, float] = {
    1: 0.025, 4: 0.13, 6: 0.07, 8: 0.05, 10: 0.24, 12: 0.04, 14: 0.04, 16: 0.02, 18: 0.03,
    20: 0.08, 24: 0.02, 30: 0.07, 40: 0.03, 50: 0.02,
}  # fmt: skip
MIXED_GAP_COUNTS = (0.63, 0.21, 0.09, 0.07)
START_AT_ZERO = 0.8
ODD_START = 0.03

# Consecutive labels of one video: 78% equal, else mostly 1 m apart (real median std 0.58 m).
# A change is proposed this often; some proposals are rejected, leaving ~21% actual changes.
LABEL_CHANGE = 0.27

# Share of real metadata rows without a detector box, by distance band (5.7% at <=2 m,
# 11% at 2-5 m, 19% at 5-12 m, 22% beyond): far, small animals are missed more often.
BOX_MISSING_BASE = 0.035
BOX_MISSING_PER_METRE = 0.019
BOX_MISSING_MAX = 0.25

# Videos per park across train and test (73.4% / 26.6%).
PARK_SHARES: dict[str, float] = {"moyen_bafing": 0.74, "tai": 0.26}
PARK_EXTENSIONS: dict[str, str] = {"moyen_bafing": ".mp4", "tai": ".avi"}

# Real detector confidence is bimodal: 31% below 0.1, 28% above 0.9, the rest spread out.
PROBABILITY_LOW = 0.31
PROBABILITY_HIGH = 0.28
