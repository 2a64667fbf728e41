"""Everything about a demo video that is decided before any pixel is drawn.

Planning runs in the parent process from seeded generators, so labels, boxes and CSVs never
depend on how the process pool schedules rendering. The camera model lives here too: the
metadata boxes and the rendered pixels both come from `animal_parts`, so a box is exactly
where the animal was drawn (before the simulated detector jitter).
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from lib.demo import chimpact_stats

RESOLUTIONS: tuple[tuple[int, int], ...] = ((480, 270), (512, 384), (400, 224))
RESOLUTION_WEIGHTS = (0.5, 0.25, 0.25)
FRAME_RATES: tuple[int, ...] = (8, 10, 15)
FRAME_RATE_WEIGHTS = (0.3, 0.45, 0.25)
VIDEOS_PER_SITE = 8
TEST_SHARE = 0.3
NIGHT_SHARE = 0.17
FULL_LENGTH_SHARE = 0.3  # real camera traps often record a fixed full-length clip
MIN_RENDER_DISTANCE = 0.3  # distance 0 is drawn as an animal touching the lens
NEAR_TOP = 0.45  # an animal at the lens has its back at least this high in the frame
LIFT_RANGE = 1.5  # metres within which a close animal may be lifted into view


@dataclass(frozen=True)
class Species:
    """Side-view body plan in metres; real sizes so apparent size carries distance."""

    name: str
    weight: float  # share of videos (chimpanzees dominate, as in the competition)
    shoulder: float  # height of the back above the ground
    length: float  # body length without head and tail
    body: float  # body depth as a share of `shoulder`
    leg: float  # leg width as a share of `length`
    head: float  # head radius
    head_up: float  # head centre above the shoulder line (bushbuck: a raised head)
    head_forward: float  # head centre ahead of the body's front end
    hump: float  # extra height of the chest over the hips (knuckle-walking chimpanzee)
    tail: float  # tail length (0: none)
    tail_bend: tuple[float, float, float, float]  # Bezier control and end, in tail lengths
    colour: tuple[int, int, int]


SPECIES: tuple[Species, ...] = (
    Species("chimpanzee", 0.42, 0.80, 0.85, 0.50, 0.15, 0.11, 0.0, 0.06, 0.12, 0.0,
            (0, 0, 0, 0), (48, 40, 35)),
    Species("duiker", 0.18, 0.45, 0.60, 0.48, 0.07, 0.06, 0.12, 0.05, 0.0, 0.08,
            (-0.6, 0.1, -0.9, 0.3), (128, 78, 44)),
    Species("monkey", 0.12, 0.38, 0.45, 0.45, 0.10, 0.06, 0.07, 0.03, 0.05, 0.60,
            (-0.7, 0.2, -0.3, 0.9), (96, 88, 74)),
    Species("bushbuck", 0.10, 0.80, 0.90, 0.40, 0.06, 0.07, 0.28, 0.12, 0.0, 0.14,
            (-0.5, -0.3, -0.8, -0.5), (142, 84, 46)),
    Species("elephant", 0.10, 2.30, 2.90, 0.55, 0.15, 0.45, 0.05, 0.10, 0.10, 0.70,
            (-0.3, -0.5, -0.4, -0.9), (108, 102, 96)),
    Species("leopard", 0.08, 0.65, 1.15, 0.42, 0.08, 0.09, 0.03, 0.06, 0.0, 0.85,
            (-0.5, -0.55, -0.95, -0.2), (186, 146, 82)),
)  # fmt: skip
SPECIES_BY_NAME: dict[str, Species] = {s.name: s for s in SPECIES}


@dataclass(frozen=True)
class Site:
    """One fixed camera view: its pose and optics never change between its videos."""

    index: int
    site_id: str
    park: str
    split: str
    width: int
    height: int
    fps: int
    camera_height: float  # metres
    focal: float  # pixels
    horizon: float  # row of the horizon (depends on the camera's downward tilt)
    roll: float  # tangent of the camera's roll: the horizon is slightly slanted
    look_seed: tuple[int, ...]  # seeds the site's ground, vegetation and light


@dataclass(frozen=True)
class Part:
    """One drawn primitive in pixels: an axis-aligned ellipse or rectangle, or a thick line
    with round ends (necks, tails, trunks); x0..y1 is always its bounding box."""

    kind: str  # "ellipse", "rect" or "line"
    x0: float
    y0: float
    x1: float
    y1: float
    shade: float  # multiplies the species colour (far legs darker, head lighter); >= 0.7
    path: tuple[float, ...] = ()  # "line": x, y, x, y, ... of its centre line
    width: float = 0.0  # "line": thickness in pixels


@dataclass(frozen=True)
class Box:
    """Rendered extent of the animal in pixels, clipped to the frame."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def visible(self) -> bool:
        return self.x2 - self.x1 >= 2 and self.y2 - self.y1 >= 2


@dataclass(frozen=True)
class VideoPlan:
    """All a worker needs to render one video, and all the CSVs need to describe it."""

    index: int
    video_id: str
    site: Site
    species: str
    night: bool
    overexposed: bool
    duration: int  # seconds; frames = duration * fps
    times: tuple[int, ...]  # labelled seconds
    distances: tuple[float, ...]  # label at each labelled second
    key_z: tuple[float, ...]  # distance at every whole second 0..duration
    key_u: tuple[float, ...]  # horizontal position, -1 left edge .. 1 right edge
    gain: float  # this video's light level (time of day)
    tint: tuple[float, float, float]
    noise_seed: tuple[int, ...]
    companion: Any = None  # prediction demos: a second animal (lib.demo.chimpact_pairs)

    @property
    def frames(self) -> int:
        return self.duration * self.site.fps

    @property
    def extension(self) -> str:
        return chimpact_stats.PARK_EXTENSIONS[self.site.park]


# ---------------------------------------------------------------- names and sites


def random_names(rng: np.random.Generator, count: int, letters: int, taken: set[str]) -> list[str]:
    """Unique lowercase names like the competition's ('aany', 'fat'), avoiding `taken`."""
    alphabet = np.array(list(string.ascii_lowercase))
    names: list[str] = []
    while len(names) < count:
        name = "".join(rng.choice(alphabet, letters))
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def split_counts(videos: int) -> dict[str, int]:
    """Train ~70%, test ~30%, at least one video each."""
    test = min(videos - 1, max(1, round(TEST_SHARE * videos)))
    return {"train": videos - test, "test": test}


def site_sizes(rng: np.random.Generator, videos: int) -> list[int]:
    """Videos per site: ~8 on average but uneven, as real sites range from 1 to 133 videos."""
    sites = max(1, round(videos / VIDEOS_PER_SITE))
    extra = rng.multinomial(videos - sites, rng.dirichlet(np.full(sites, 1.5)))
    return sorted((int(e) + 1 for e in extra), reverse=True)


def assign_parks(sizes: list[int]) -> list[str]:
    """Give each site (largest first) the park furthest below its target share of videos,
    so even a demo with few sites has both parks in roughly the real proportion."""
    totals = dict.fromkeys(chimpact_stats.PARK_SHARES, 0)
    parks = [""] * len(sizes)
    for index in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        size = sizes[index]
        done = sum(totals.values()) or 1
        park = max(
            chimpact_stats.PARK_SHARES,
            key=lambda p: chimpact_stats.PARK_SHARES[p] - totals[p] / done,
        )
        totals[park] += size
        parks[index] = park
    return parks


def make_site(seed: int, index: int, site_id: str, park: str, split: str) -> Site:
    """Draw a camera: height 0.4-1.5 m, 40-65 degree field of view, slight roll, and tilted
    down like a real trap aimed at a trail: the ground 1.5-4 m away meets the bottom edge
    (so a higher camera looks more steeply down and its horizon sits higher in the frame)."""
    rng = np.random.default_rng([seed, 1, index])
    width, height = RESOLUTIONS[rng.choice(len(RESOLUTIONS), p=RESOLUTION_WEIGHTS)]
    fps = int(FRAME_RATES[rng.choice(len(FRAME_RATES), p=FRAME_RATE_WEIGHTS)])
    focal = width / 2 / math.tan(math.radians(rng.uniform(40, 65)) / 2)
    camera_height = float(rng.uniform(0.4, 1.5))
    nearest_ground = float(rng.uniform(1.5, 4.0))
    horizon = float(
        np.clip(height - focal * camera_height / nearest_ground, 0.08 * height, 0.6 * height)
    )
    return Site(
        index=index,
        site_id=site_id,
        park=park,
        split=split,
        width=int(width),
        height=int(height),
        fps=fps,
        camera_height=round(camera_height, 3),
        focal=round(focal, 2),
        horizon=round(horizon, 2),
        roll=round(float(np.clip(rng.normal(0, 0.02), -0.04, 0.04)), 4),
        look_seed=(seed, 4, index),
    )


# ---------------------------------------------------------------- labels


def draw_row_count(rng: np.random.Generator) -> int:
    counts = chimpact_stats.ROWS_PER_VIDEO_COUNTS
    values = np.array(list(counts))
    weights = np.array(list(counts.values()), dtype=float)
    return int(rng.choice(values, p=weights / weights.sum()))


def label_times(rng: np.random.Generator, rows: int, last: int) -> list[int]:
    """Labelled seconds in the real patterns: mostly every 2 s from 0, some every 10 s, some
    runs with gaps, a few odd seconds; all within 0..last (a frame exists for each)."""
    rows = max(1, min(rows, last + 1))
    if rows == 1:
        return [_single_time(rng, last)]
    if rows <= 6 and 10 * (rows - 1) <= last and rng.random() < chimpact_stats.STEP10_SHARE_SHORT:
        start = (
            0
            if rng.random() < 0.75
            else 10 * int(rng.integers(0, (last - 10 * (rows - 1)) // 10 + 1))
        )
        return [start + 10 * k for k in range(rows)]
    steps = [2] * (rows - 1)
    if rng.random() < chimpact_stats.MIXED_SHARE:
        gaps = list(chimpact_stats.MIXED_GAPS)
        weights = np.array(list(chimpact_stats.MIXED_GAPS.values())) / sum(
            chimpact_stats.MIXED_GAPS.values()
        )
        count = (
            int(rng.choice(len(chimpact_stats.MIXED_GAP_COUNTS), p=chimpact_stats.MIXED_GAP_COUNTS))
            + 1
        )
        for _ in range(count):
            steps[int(rng.integers(0, rows - 1))] = int(rng.choice(gaps, p=weights))
    return _fit_times(_start_time(rng, last), steps, last)


def _fit_times(start: int, steps: list[int], last: int) -> list[int]:
    """Shrink a schedule into 0..last: move the start earlier, then narrow the widest gaps
    (by 2 s, keeping times even), and only then use 1 s steps (more rows than even seconds)."""
    while start + sum(steps) > last:
        widest = int(np.argmax(steps))
        if start > 0:
            start = max(0, (last - sum(steps)) // 2 * 2)
        elif steps[widest] > 2:
            steps[widest] = max(2, steps[widest] - 2)
        else:
            steps[steps.index(2)] = 1
    return np.cumsum([start, *steps]).astype(int).tolist()


def _single_time(rng: np.random.Generator, last: int) -> int:
    draw = rng.random()
    if draw < chimpact_stats.SINGLE_AT_ZERO or last == 0:
        return 0
    if draw < 0.93 and last >= 10:
        return 10 * int(rng.integers(1, last // 10 + 1))
    return int(rng.integers(0, last + 1))


def _start_time(rng: np.random.Generator, last: int) -> int:
    draw = rng.random()
    if draw < chimpact_stats.START_AT_ZERO:
        return 0
    if draw < chimpact_stats.START_AT_ZERO + chimpact_stats.ODD_START:
        return min(last, 1 + 2 * int(rng.integers(0, 4)))
    return min(last, 2 * int(rng.integers(1, 10)))


def label_distances(rng: np.random.Generator, rows: int) -> list[float]:
    """A smooth walk on the real grid whose stationary law is the real histogram.

    Start from the histogram; at each next label keep the distance (78%) or propose a move of
    mostly 1 m, accepted Metropolis-style, so long videos do not drift from the marginal.
    """
    grid = np.array(chimpact_stats.DISTANCE_GRID)
    weight = np.array(
        [chimpact_stats.DISTANCE_COUNTS[g] for g in chimpact_stats.DISTANCE_GRID], dtype=float
    )
    current = int(rng.choice(len(grid), p=weight / weight.sum()))
    values = [float(grid[current])]
    for _ in range(rows - 1):
        if rng.random() < chimpact_stats.LABEL_CHANGE:
            step = float(rng.choice([1.0, 2.0, 0.5, 3.0, 5.0], p=[0.75, 0.17, 0.04, 0.025, 0.015]))
            target = grid[current] + step * (1 if rng.random() < 0.5 else -1)
            proposal = int(np.argmin(np.abs(grid - target)))
            if rng.random() < weight[proposal] / weight[current]:
                current = proposal
        values.append(float(grid[current]))
    return values


def draw_duration(rng: np.random.Generator, last_label: int, max_duration: int) -> int:
    """At least one second past the last label; often the full clip length."""
    if rng.random() < FULL_LENGTH_SHARE:
        return max_duration
    return int(min(max_duration, last_label + 1 + rng.integers(1, 13)))


# ---------------------------------------------------------------- motion


def distance_keys(
    rng: np.random.Generator, times: list[int], distances: list[float], duration: int
) -> np.ndarray:
    """Distance at each whole second: exact at labels, interpolated with a little wander
    between them, drifting slowly before the first and after the last label."""
    seconds = np.arange(duration + 1)
    keys = np.interp(seconds, times, distances)
    for (t0, d0), (t1, d1) in pairwise(zip(times, distances, strict=True)):
        if t1 - t0 >= 4:
            inside = (seconds > t0) & (seconds < t1)
            bump = rng.normal(0, 0.12 * (d0 + d1) / 2 + 0.1)
            keys[inside] += bump * np.sin(np.pi * (seconds[inside] - t0) / (t1 - t0))
    before, after = seconds < times[0], seconds > times[-1]
    keys[before] += (times[0] - seconds[before]) * rng.normal(0, 0.15)
    keys[after] += (seconds[after] - times[-1]) * rng.normal(0, 0.2)
    keys = np.clip(keys, 0.0, 30.0)
    keys[times] = distances  # exact, whatever the wander did
    return keys


def lateral_keys(
    rng: np.random.Generator,
    times: list[int],
    duration: int,
    site: Site,
    species: Species,
    z_keys: np.ndarray,
) -> np.ndarray:
    """Horizontal position per second (-1..1 spans the frame): a persistent random walk that
    keeps the animal's centre in view at labelled seconds; in unlabelled seconds before the
    first / after the last label it may walk in from or out to a side."""
    u = np.empty(duration + 1)
    u[0], velocity = rng.uniform(-0.6, 0.6), rng.normal(0, 0.12)
    for k in range(1, duration + 1):
        velocity = 0.8 * velocity + rng.normal(0, 0.06)
        u[k] = u[k - 1] + velocity
        if abs(u[k]) > 0.8:
            u[k], velocity = float(np.clip(math.copysign(1.6, u[k]) - u[k], -0.8, 0.8)), -velocity
    first, last = times[0], times[-1]
    if first >= 3 and rng.random() < 0.5:
        start = int(rng.integers(0, first - 1))
        side = 1.0 if rng.random() < 0.5 else -1.0
        u[: start + 1] = side * _offscreen(site, species, z_keys[: start + 1])
        u[start : first + 1] = np.linspace(u[start], u[first], first - start + 1)
    if duration - last >= 3 and rng.random() < 0.5:
        steps = int(rng.integers(2, min(6, duration - last) + 1))
        side = 1.0 if rng.random() < 0.5 else -1.0
        gone = side * _offscreen(site, species, z_keys[last + steps :])
        u[last : last + steps + 1] = np.linspace(u[last], gone[0], steps + 1)
        u[last + steps :] = gone
    return u


def _offscreen(site: Site, species: Species, z: np.ndarray) -> np.ndarray:
    """|u| at which the whole animal, head and tail included, is outside the frame."""
    reach = species.length / 2 + species.head_forward + 1.3 * species.head + species.tail
    scale = site.focal / np.maximum(z, MIN_RENDER_DISTANCE)
    return 1.05 + reach * scale / (site.width / 2)


# ---------------------------------------------------------------- camera model


def render_distance(distance: float) -> float:
    """Distance used for drawing: a label of 0 m is an animal touching the lens, 0.3 m."""
    return max(distance, MIN_RENDER_DISTANCE)


def _ground_row(site: Site, species: Species, z: float, x: float) -> float:
    """Row of the feet: horizon + f*camera_height/Z (plus roll).

    Within LIFT_RANGE of the lens a tall camera would see only the back of a small animal,
    or nothing: there the animal is lifted so its back stays above a row that rises from the
    bottom edge (at LIFT_RANGE) to NEAR_TOP of the frame (at 0.3 m), as if the camera looked
    down at it. A very close animal fills the frame; size still grows as distance shrinks.
    """
    ground = site.horizon + site.focal * site.camera_height / z + (x - site.width / 2) * site.roll
    top = ground - site.focal * _height(species) / z
    near = min(1.0, max(0.0, (z - MIN_RENDER_DISTANCE) / (LIFT_RANGE - MIN_RENDER_DISTANCE)))
    limit = site.height * (NEAR_TOP + (1 - NEAR_TOP) * near)
    return ground - max(0.0, top - limit)


def _height(species: Species) -> float:
    """Height of the back (with the chimpanzee's hump): at the lens the body is what the
    camera sees, the head is off to the side."""
    return species.shoulder + species.hump


def state_at(plan: VideoPlan, frame: int) -> tuple[float, float, float, float]:
    """(distance, u, facing, gait phase) at a frame, interpolated between second keys.

    At frame second*fps the interpolation weight is 0, so a labelled second shows exactly the
    labelled distance.
    """
    fps = plan.site.fps
    k, rest = divmod(frame, fps)
    w = rest / fps
    k1 = min(k + 1, plan.duration)
    z = plan.key_z[k] * (1 - w) + plan.key_z[k1] * w
    u = plan.key_u[k] * (1 - w) + plan.key_u[k1] * w
    step = plan.key_u[k1] - plan.key_u[k]
    facing = 1.0 if step > 0 else -1.0
    if abs(step) < 0.01:  # standing: face where it last walked, or right
        earlier = np.diff(plan.key_u[: k + 1])
        moving = earlier[np.abs(earlier) >= 0.01]
        facing = 1.0 if len(moving) == 0 or moving[-1] > 0 else -1.0
    speed = min(1.0, abs(step) / 0.05)
    phase = 2 * math.pi * 1.3 * frame / fps * speed
    return z, u, facing, phase


def animal_parts(
    site: Site, species: Species, distance: float, u: float, facing: float, phase: float
) -> list[Part]:
    """Pinhole projection of the body plan: scale f/Z pixels per metre, feet on the row
    horizon + f*camera_height/Z (see `_ground_row`), so size and ground contact encode distance.
    Parts are listed back to front (far legs first, near legs last)."""
    z = render_distance(distance)
    scale = site.focal / z
    cx = site.width / 2 + u * site.width / 2
    ground = _ground_row(site, species, z, cx)
    parts: list[Part] = []

    def add(kind: str, x0: float, y0: float, x1: float, y1: float, shade: float) -> None:
        xs = sorted((cx + facing * x0 * scale, cx + facing * x1 * scale))
        parts.append(Part(kind, xs[0], ground - y1 * scale, xs[1], ground - y0 * scale, shade))

    def chain(points: list[tuple[float, float]], radius: float, shade: float) -> None:
        """A limb: a thick line with round ends along a polyline."""
        xs = [cx + facing * x * scale for x, _ in points]
        ys = [ground - y * scale for _, y in points]
        r = radius * scale
        path = tuple(v for xy in zip(xs, ys, strict=True) for v in xy)
        box = (min(xs) - r, min(ys) - r, max(xs) + r, max(ys) + r)
        parts.append(Part("line", *box, shade, path=path, width=2 * r))

    half, depth = species.length / 2, species.body * species.shoulder
    belly = species.shoulder - depth
    swing = 0.07 * species.length * math.sin(phase)
    legs = _legs(species, half, belly + depth / 3, swing)
    for x0, x1, top, shade in legs[:2]:  # far side, in shadow
        add("rect", x0, 0.0, x1, top, shade)
    if species.tail:
        root = (-half + 0.05 * species.length, species.shoulder - 0.25 * depth)
        chain(
            _bezier(root, species.tail, species.tail_bend), max(0.015, 0.035 * species.tail), 0.85
        )
    add("ellipse", -half, belly, half, species.shoulder, 1.0)
    if species.hump:
        add(
            "ellipse",
            -0.1 * half,
            belly + species.hump,
            1.05 * half,
            species.shoulder + species.hump,
            1.0,
        )
    hx, hy = half + species.head_forward, species.shoulder + species.hump + species.head_up
    chain([(0.6 * half, species.shoulder - 0.4 * depth), (hx, hy)], 0.55 * species.head, 0.95)
    head = species.head
    if species.name == "elephant":
        add("ellipse", hx - 0.9 * head, hy - 0.9 * head, hx + 0.1 * head, hy + 0.7 * head, 0.85)
        chain([(hx + 0.7 * head, hy), (hx + 1.0 * head, 0.5 * hy), (hx + 0.8 * head, 0.15 * hy)],
              0.22 * head, 0.9)  # fmt: skip
    add("ellipse", hx - 1.2 * head, hy - head, hx + 1.2 * head, hy + head, 1.15)
    for x0, x1, top, shade in legs[2:]:
        add("rect", x0, 0.0, x1, top, shade)
    return parts


def _legs(
    species: Species, half: float, top: float, swing: float
) -> list[tuple[float, float, float, float]]:
    """(x0, x1, top, shade) of the far front, far hind, near front and near hind legs; the
    pairs swing in opposite phase while the animal walks. Front legs reach the hump."""
    width = species.leg * species.length / 2
    front_top = top + species.hump
    return [
        (0.45 * half - swing - width, 0.45 * half - swing + width, front_top, 0.7),
        (-0.75 * half + swing - width, -0.75 * half + swing + width, top, 0.7),
        (0.65 * half + swing - width, 0.65 * half + swing + width, front_top, 0.9),
        (-0.55 * half - swing - width, -0.55 * half - swing + width, top, 0.9),
    ]


def _bezier(
    root: tuple[float, float], length: float, bend: tuple[float, float, float, float]
) -> list[tuple[float, float]]:
    """Points along a quadratic curve from the tail root; bend is in tail lengths."""
    (x0, y0), (cx, cy, ex, ey) = root, bend
    points = []
    for t in np.linspace(0, 1, 5):
        x = 2 * (1 - t) * t * cx + t * t * ex
        y = 2 * (1 - t) * t * cy + t * t * ey
        points.append((x0 + length * x, y0 + length * y))
    return points


def box_of(parts: list[Part], site: Site) -> Box:
    """Union of the parts, clipped to the frame: what a perfect detector would report."""
    x1 = float(max(0.0, min(p.x0 for p in parts)))
    y1 = float(max(0.0, min(p.y0 for p in parts)))
    x2 = float(min(site.width, max(p.x1 for p in parts)))
    y2 = float(min(site.height, max(p.y1 for p in parts)))
    return Box(x1, y1, max(x1, x2), max(y1, y2))


def box_at(plan: VideoPlan, second: int) -> Box:
    """The rendered box at a labelled second (frame second*fps)."""
    z, u, facing, phase = state_at(plan, second * plan.site.fps)
    species = SPECIES_BY_NAME[plan.species]
    return box_of(animal_parts(plan.site, species, z, u, facing, phase), plan.site)


# ---------------------------------------------------------------- whole demo


def plan_demo(
    seed: int, videos: int, max_duration: int, overexposed_share: float
) -> list[VideoPlan]:
    """Sites and videos for both splits; site ids and video ids are unique across splits."""
    rng = np.random.default_rng([seed, 0])
    layout = [
        (split, size)
        for split, count in split_counts(videos).items()
        for size in site_sizes(rng, count)
    ]
    parks = assign_parks([size for _, size in layout])
    site_ids = random_names(rng, len(layout), 3, set())
    sites: list[Site] = []
    for index, ((split, size), park, site_id) in enumerate(
        zip(layout, parks, site_ids, strict=True)
    ):
        sites.extend([make_site(seed, index, site_id, park, split)] * size)
    overexposed = _pick_overexposed(rng, videos, overexposed_share)
    night = rng.random(videos) < NIGHT_SHARE
    ids = random_names(rng, videos, 4, set())
    weights = np.array([s.weight for s in SPECIES])
    species = rng.choice(len(SPECIES), size=videos, p=weights / weights.sum())
    return [
        _plan_video(
            seed,
            index,
            ids[index] + chimpact_stats.PARK_EXTENSIONS[site.park],
            site,
            SPECIES[species[index]],
            night=bool(night[index]) and index not in overexposed,
            overexposed=index in overexposed,
            max_duration=max_duration,
        )
        for index, site in enumerate(sites)
    ]


def _pick_overexposed(rng: np.random.Generator, videos: int, share: float) -> set[int]:
    """Exactly round(share * videos) videos, at least one when share > 0 so every demo
    exercises the overexposure path, and never all of them."""
    if share <= 0:
        return set()
    count = min(videos - 1, max(1, round(share * videos)))
    return set(rng.choice(videos, size=count, replace=False).tolist())


def _plan_video(
    seed: int,
    index: int,
    video_id: str,
    site: Site,
    species: Species,
    *,
    night: bool,
    overexposed: bool,
    max_duration: int,
) -> VideoPlan:
    rng = np.random.default_rng([seed, 2, index])
    times = label_times(rng, draw_row_count(rng), max_duration - 1)
    distances = label_distances(rng, len(times))
    duration = draw_duration(rng, times[-1], max_duration)
    z_keys = distance_keys(rng, times, distances, duration)
    u_keys = lateral_keys(rng, times, duration, site, species, z_keys)
    tint = rng.normal(1.0, 0.04, 3).clip(0.9, 1.1)
    return VideoPlan(
        index=index,
        video_id=video_id,
        site=site,
        species=species.name,
        night=night,
        overexposed=overexposed,
        duration=duration,
        times=tuple(times),
        distances=tuple(distances),
        key_z=tuple(round(float(z), 4) for z in z_keys),
        key_u=tuple(round(float(u), 4) for u in u_keys),
        gain=round(float(rng.uniform(0.8, 1.08)), 4),
        tint=(round(float(tint[0]), 4), round(float(tint[1]), 4), round(float(tint[2]), 4)),
        noise_seed=(seed, 3, index),
    )
