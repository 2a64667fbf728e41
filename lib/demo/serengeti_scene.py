"""A camera site's fixed scene, drawn once per site and reused for every shot it takes.

Each site has its own sky, distant ridges, grass, trees, bushes, rocks and termite mounds,
placed at depths and sized by the site's camera, so the view never changes between shots
except for light, wind and the animals. The scene is kept in two vegetation states (dry and
green: the grass follows the rains over the months) plus an infrared night version in which
the flash lights the near ground and leaves the sky black. Foreground grass tufts are a
separate layer that the wind moves between shots: the classic empty trigger.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from lib.demo.serengeti_bodies import Camera
from lib.demo.serengeti_plan import Site

RGB = tuple[int, int, int]
SKY_DEPTH = 1000.0  # metres assigned to the sky in the depth map
HAZE_DEPTH = 350.0  # metres over which distant things fade into the horizon colour


@dataclass
class Scene:
    """Pixels of one site at one image size; `tufts` are RGBA strips wider than the image so
    the wind can shift them a few pixels either way."""

    dry: np.ndarray  # HxWx3 uint8, dry-season vegetation
    green: np.ndarray  # HxWx3 uint8, wet-season vegetation
    night: np.ndarray  # HxW uint8, infrared view
    depth: np.ndarray  # HxW float32 metres: what is nearer than an animal hides it
    tufts: dict[str, Image.Image]  # "dry", "green", "night" -> RGBA, (W + 2*pad) x band
    tuft_top: int  # image row of the tuft strip's top
    tuft_pad: int
    _mid: np.ndarray | None = field(default=None, repr=False)

    def day(self, greenness: float) -> np.ndarray:
        """The scene at greenness 0 (dry), 0.5 (in between) or 1 (green)."""
        if greenness <= 0.25:
            return self.dry
        if greenness >= 0.75:
            return self.green
        if self._mid is None:
            mid = (self.dry.astype(np.uint16) + self.green) // 2
            self._mid = mid.astype(np.uint8)
        return self._mid


def infrared_gain(depth: np.ndarray | float) -> np.ndarray | float:
    """Brightness of a surface lit by the camera's infrared flash at `depth` metres: the flash
    saturates the ground at the lens and fades to black within a few tens of metres."""
    return np.clip(1.7 / (1.0 + (np.asarray(depth) / 7.0) ** 1.7), 0.02, 1.35)


# ---------------------------------------------------------------- textures


def smooth_noise(
    rng: np.random.Generator, width: int, height: int, cells: tuple[int, int]
) -> np.ndarray:
    """Value noise in 0..1: a grid of `cells` (columns, rows) random values, upsampled."""
    small = rng.random((max(2, cells[1]), max(2, cells[0]))).astype(np.float32)
    image = Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.float32)


def _tile(rng: np.random.Generator, size: int, cells: tuple[int, int]) -> np.ndarray:
    """A texture tile from octaves of value noise, normalised to 0..1."""
    total = np.zeros((size, size), dtype=np.float32)
    for octave, weight in enumerate((0.5, 0.3, 0.2)):
        total += weight * smooth_noise(rng, size, size, (cells[0] << octave, cells[1] << octave))
    low, high = float(total.min()), float(total.max())
    return (total - low) / max(high - low, 1e-6)


# ---------------------------------------------------------------- the scene


@lru_cache(maxsize=2)
def build_scene(site: Site) -> Scene:
    """Draw a site's scene; cached because a worker renders a site's shots one after another."""
    rng = np.random.default_rng(list(site.seed))
    cam = site.camera
    w, h = cam.width, cam.height
    horizon_colour = np.array(rng.uniform([188, 200, 214], [232, 236, 242]), dtype=np.float32)
    rows = np.arange(h, dtype=np.float32) + 0.5
    ground_depth = np.where(
        rows > cam.horizon,
        cam.focal * cam.elevation / np.maximum(rows - cam.horizon, 0.5),
        SKY_DEPTH,
    ).clip(0.3, SKY_DEPTH)
    depth = np.repeat(ground_depth[:, None], w, axis=1)
    dry, green, grass = _backdrop(rng, site, horizon_colour)
    dry_img, green_img = Image.fromarray(dry), Image.fromarray(green)
    depth_img = Image.fromarray(depth)
    painter = _Painter(dry_img, green_img, depth_img, horizon_colour)
    _ridges(rng, painter, cam, horizon_colour)
    _blades(rng, painter, cam, *grass)
    _scatter(rng, painter, site)
    dry, green = np.asarray(dry_img), np.asarray(green_img)
    depth = np.asarray(depth_img, dtype=np.float32)
    tufts, tuft_top, pad = _tufts(rng, site)
    return Scene(
        dry=dry,
        green=green,
        night=_night(dry, green, depth),
        depth=depth,
        tufts=tufts,
        tuft_top=tuft_top,
        tuft_pad=pad,
    )


def _backdrop(
    rng: np.random.Generator, site: Site, horizon_colour: np.ndarray
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Sky and bare ground for both vegetation states, plus the two grass colours.

    The smooth parts (sky gradient, clouds, grass patches in perspective, haze) are computed
    at half resolution and upsampled; a fixed fine grain is then added to the ground at full
    resolution, so the full-size image keeps detail that a careless resize aliases.
    """
    cam = site.camera
    w, h = cam.width, cam.height
    ws, hs = (w + 1) // 2, (h + 1) // 2
    rows = (np.arange(hs, dtype=np.float32) + 0.5) * h / hs
    cols = (np.arange(ws, dtype=np.float32) + 0.5) * w / ws
    sky = _sky(rng, ws, hs, rows, cam.horizon, horizon_colour)
    below = rows > cam.horizon
    z = (cam.focal * cam.elevation / np.maximum(rows[below] - cam.horizon, 0.5))[:, None]
    z = np.minimum(z, SKY_DEPTH)
    lateral = (cols[None, :] - w / 2) * z / cam.focal

    def sample(tile: np.ndarray, per_metre: float) -> np.ndarray:
        """Bilinear lookup in ground metres: smooth patches that shrink with distance."""
        size = tile.shape[0]
        r, c = z * per_metre, lateral * per_metre
        r0, c0 = np.floor(r), np.floor(c)
        fr, fc = r - r0, c - c0
        r0, c0 = r0.astype(np.int64) % size, c0.astype(np.int64) % size
        r1, c1 = (r0 + 1) % size, (c0 + 1) % size
        top = tile[r0, c0] * (1 - fc) + tile[r0, c1] * fc
        low = tile[r1, c0] * (1 - fc) + tile[r1, c1] * fc
        return top * (1 - fr) + low * fr

    patches = sample(_tile(rng, 128, (4, 4)), 0.5)
    tussock = sample(_tile(rng, 128, (12, 12)), 3.0)
    shade = 0.8 + 0.3 * (patches - 0.5) + 0.3 * (tussock - 0.5) * np.clip(0.3 + 2.0 / z, 0, 1)
    soil_share = {"plains": 0.08, "woodland": 0.15, "kopje": 0.22, "riverine": 0.1}[site.habitat]
    soil = np.clip((patches - (1 - soil_share)) * 8, 0, 1)[..., None]
    dry_grass = np.array(rng.uniform([178, 150, 98], [212, 184, 128]), dtype=np.float32)
    green_grass = np.array(rng.uniform([92, 128, 58], [132, 162, 84]), dtype=np.float32)
    earth = np.array(rng.uniform([140, 104, 76], [176, 136, 102]), dtype=np.float32)
    haze = (1 - np.exp(-z / HAZE_DEPTH))[..., None]
    first = min(h, max(0, math.ceil(cam.horizon)))
    grain = rng.integers(-9, 10, (h - first, w, 1), dtype=np.int16)  # fixed per site
    out = []
    for grass in (dry_grass, green_grass):
        small = sky.copy()
        ground = (grass * (1 - soil) + earth * soil) * shade[..., None]
        small[below] = ground * (1 - haze) + horizon_colour * haze
        small8 = np.clip(np.rint(small), 0, 255).astype(np.uint8)
        full = Image.fromarray(small8).resize((w, h), Image.Resampling.BILINEAR)
        image = np.array(full, dtype=np.int16)
        image[first:] += grain
        out.append(np.clip(image, 0, 255).astype(np.uint8))
    return out[0], out[1], (dry_grass, green_grass)


def _sky(
    rng: np.random.Generator,
    w: int,
    h: int,
    rows: np.ndarray,
    horizon: float,
    horizon_colour: np.ndarray,
) -> np.ndarray:
    """Blue at the top fading to a pale, hazy horizon; some sites get soft clouds."""
    top = np.array(rng.uniform([70, 118, 190], [150, 182, 228]), dtype=np.float32)
    t = np.clip(rows[:, None, None] / max(horizon, 1.0), 0, 1) ** 0.7
    sky = np.broadcast_to(top * (1 - t) + horizon_colour * t, (h, w, 3)).copy()
    if rng.random() < 0.5:
        cover = smooth_noise(rng, w, h, (9, 5)) * 0.6 + smooth_noise(rng, w, h, (24, 12)) * 0.4
        cloud = np.clip((cover - rng.uniform(0.5, 0.7)) * 4, 0, 1)[..., None]
        sky = sky * (1 - 0.8 * cloud) + np.float32(246) * 0.8 * cloud
    return sky


class _Painter:
    """Draws the same element into the dry and green images (vegetation takes its seasonal
    colour, everything else the same) and into the depth map used by the infrared view."""

    def __init__(
        self, dry: Image.Image, green: Image.Image, depth: Image.Image, haze: np.ndarray
    ) -> None:
        self.pens = (ImageDraw.Draw(dry), ImageDraw.Draw(green))
        self.depth = ImageDraw.Draw(depth)
        self.haze = tuple(float(v) for v in haze)

    def _hazed(self, colour: RGB, z: float) -> tuple[int, int, int]:
        t = 1 - math.exp(-z / HAZE_DEPTH)
        r, g, b = self.haze
        return (
            int(colour[0] * (1 - t) + r * t),
            int(colour[1] * (1 - t) + g * t),
            int(colour[2] * (1 - t) + b * t),
        )

    def shape(
        self, kind: str, xy: list[float], z: float, dry: RGB, green: RGB | None = None, width=0
    ) -> None:
        for pen, colour in zip(self.pens, (dry, green or dry), strict=True):
            fill = self._hazed(colour, z)
            if kind == "ellipse":
                pen.ellipse(xy, fill=fill)
            elif kind == "poly":
                pen.polygon(xy, fill=fill)
            else:
                pen.line(xy, fill=fill, width=max(1, round(width)))
        if kind == "ellipse":
            self.depth.ellipse(xy, fill=z)
        elif kind == "poly":
            self.depth.polygon(xy, fill=z)
        else:
            self.depth.line(xy, fill=z, width=max(1, round(width)))


def _ridges(rng: np.random.Generator, painter: _Painter, cam: Camera, haze: np.ndarray) -> None:
    """Zero to two bluish ridges on the horizon, the nearer one darker."""
    for layer in range(int(rng.choice([0, 1, 1, 2]))):
        height = rng.uniform(0.01, 0.06) * cam.height * (1 - 0.4 * layer)
        profile = np.clip(smooth_noise(rng, cam.width, 1, (int(rng.integers(3, 9)), 2))[0], 0, 1)
        xs = np.linspace(0, cam.width, 64)
        ys = cam.horizon + 1 - height * np.interp(xs, np.arange(cam.width), profile) ** 1.5
        points = [
            *zip(xs.tolist(), ys.tolist(), strict=True),
            (cam.width, cam.horizon + 1),
            (0, cam.horizon + 1),
        ]
        base = (132, 140, 146) if layer == 0 else (112, 124, 112)
        z = 3000.0 if layer == 0 else 1500.0
        painter.shape(
            "poly", [v for p in points for v in p], z, base, (120, 138, 126) if layer else None
        )


def _blades(
    rng: np.random.Generator,
    painter: _Painter,
    cam: Camera,
    dry_grass: np.ndarray,
    green_grass: np.ndarray,
) -> None:
    """Single grass blades on the near ground: tall streaks at the lens, a fine grain a few
    metres out (the detail that an antialiasing resize keeps and a plain one aliases)."""
    bottom = cam.height - cam.strip
    z_near = cam.focal * cam.elevation / max(1.0, bottom - cam.horizon)
    z_far = max(z_near * 1.5, 14.0)
    count = int(np.clip(cam.width * cam.height / 600, 300, 6000))
    # depth with density growing like the visible ground width (proportional to z)
    zs = np.sort(np.sqrt(rng.uniform(z_near**2, z_far**2, count)))[::-1]
    xs = rng.uniform(-0.6, 0.6, count) * cam.width * zs / cam.focal
    lengths = rng.uniform(0.06, 0.35, count)
    leans = rng.normal(0, 0.25, count) * lengths
    tones = rng.uniform(0.7, 1.3, count)
    for z, x, length, lean, tone in zip(
        zs.tolist(), xs.tolist(), lengths.tolist(), leans.tolist(), tones.tolist(), strict=True
    ):
        base = _to_px(cam, x, 0.0, z)
        tip = _to_px(cam, x + lean, length, z)
        dry, green = _tone(dry_grass, tone), _tone(green_grass, tone)
        painter.shape("line", [*base, *tip], z, dry, green, width=max(1.0, 0.005 * cam.focal / z))


def _scatter(rng: np.random.Generator, painter: _Painter, site: Site) -> None:
    """Trees, bushes, rocks and termite mounds at random depths, drawn far to near."""
    counts = {
        "plains": {
            "acacia": (0, 3),
            "bare": (0, 2),
            "bush": (2, 7),
            "rock": (0, 1),
            "mound": (0, 1),
        },
        "woodland": {
            "acacia": (3, 8),
            "bare": (3, 8),
            "bush": (4, 10),
            "rock": (0, 2),
            "mound": (0, 1),
        },
        "kopje": {
            "acacia": (1, 4),
            "bare": (1, 3),
            "bush": (2, 6),
            "rock": (3, 6),
            "mound": (0, 1),
        },
        "riverine": {
            "acacia": (6, 12),
            "bare": (2, 5),
            "bush": (6, 12),
            "rock": (0, 1),
            "mound": (0, 1),
        },
    }[site.habitat]
    items = []
    for kind, (low, high) in counts.items():
        nearest = {"acacia": 14.0, "bare": 10.0, "bush": 8.0, "rock": 25.0, "mound": 6.0}[kind]
        for _ in range(int(rng.integers(low, high + 1))):
            z = float(np.exp(rng.uniform(np.log(nearest), np.log(250.0))))
            items.append((z, kind, float(rng.uniform(-0.65, 0.65))))
    cam = site.camera
    for z, kind, u in sorted(items, reverse=True):
        x = u * cam.width * z / cam.focal  # metres to the side
        draw = {
            "acacia": _acacia,
            "bare": _bare_tree,
            "bush": _bush,
            "rock": _rocks,
            "mound": _mound,
        }[kind]
        draw(rng, painter, cam, x, z)


def _to_px(cam: Camera, x: float, y: float, z: float) -> tuple[float, float]:
    return cam.column(x, z), cam.ground_row(z) - y * cam.focal / z


def _acacia(rng: np.random.Generator, painter: _Painter, cam: Camera, x: float, z: float) -> None:
    """Umbrella thorn: a forked trunk under a flat, wide crown of leaf clumps."""
    s = cam.focal / z
    height, spread = rng.uniform(3.5, 7.0), rng.uniform(4.0, 10.0)
    bark = (96, 84, 72)
    base = _to_px(cam, x, 0, z)
    fork = _to_px(cam, x + rng.uniform(-0.3, 0.3), 0.45 * height, z)
    painter.shape("line", [*base, *fork], z, bark, width=0.3 * s)
    for side in (-1, 1, 0):
        tip = _to_px(cam, x + side * spread * 0.35, height * rng.uniform(0.85, 1.0), z)
        painter.shape("line", [*fork, *tip], z, bark, width=0.12 * s)
    dry = tuple(int(v) for v in rng.uniform([104, 98, 56], [132, 118, 72]))
    green = tuple(int(v) for v in rng.uniform([52, 82, 34], [76, 108, 48]))
    for _ in range(int(rng.integers(70, 140))):
        cx = x + rng.normal(0, spread / 4)
        cy = height + rng.normal(0, 0.25)
        rx, ry = rng.uniform(0.3, 0.8) * s, rng.uniform(0.15, 0.35) * s
        px, py = _to_px(cam, cx, cy, z)
        tone = rng.uniform(0.8, 1.15)
        painter.shape(
            "ellipse", [px - rx, py - ry, px + rx, py + ry], z, _tone(dry, tone), _tone(green, tone)
        )


def _bare_tree(
    rng: np.random.Generator, painter: _Painter, cam: Camera, x: float, z: float
) -> None:
    """A leafless, much-branched tree like the real Serengeti woodland in the dry season."""
    s = cam.focal / z
    bark = tuple(int(v) for v in rng.uniform([110, 92, 80], [150, 128, 110]))

    def branch(x0: float, y0: float, angle: float, length: float, width: float, level: int):
        x1 = x0 + length * math.cos(angle)
        y1 = y0 + length * math.sin(angle)
        painter.shape(
            "line",
            [*_to_px(cam, x0, y0, z), *_to_px(cam, x1, y1, z)],
            z,
            bark,
            width=max(1.0, width * s),
        )
        if level == 0:
            return
        for _ in range(int(rng.integers(2, 4))):
            branch(
                x1,
                y1,
                angle + rng.uniform(-0.7, 0.7),
                length * rng.uniform(0.55, 0.8),
                width * 0.6,
                level - 1,
            )

    branch(
        x,
        0.0,
        math.pi / 2 + rng.uniform(-0.15, 0.15),
        rng.uniform(1.5, 3.0),
        rng.uniform(0.15, 0.35),
        4,
    )


def _bush(rng: np.random.Generator, painter: _Painter, cam: Camera, x: float, z: float) -> None:
    """A shrub of many small leaf clumps, darker towards the ground."""
    s = cam.focal / z
    width, height = rng.uniform(1.0, 4.0), rng.uniform(0.7, 2.4)
    dry = tuple(int(v) for v in rng.uniform([112, 96, 62], [146, 124, 80]))
    green = tuple(int(v) for v in rng.uniform([48, 78, 34], [80, 112, 50]))
    for _ in range(int(rng.integers(60, 120))):
        u = rng.uniform(-1, 1)
        cx = x + u * width / 2
        cy = rng.uniform(0.1, 1.0) * height * math.sqrt(max(0.05, 1 - u * u))
        r = rng.uniform(0.08, 0.2) * height * s
        px, py = _to_px(cam, cx, cy, z)
        tone = rng.uniform(0.75, 1.05) * (0.75 + 0.3 * cy / height)
        painter.shape(
            "ellipse", [px - r, py - r, px + r, py + r], z, _tone(dry, tone), _tone(green, tone)
        )


def _rocks(rng: np.random.Generator, painter: _Painter, cam: Camera, x: float, z: float) -> None:
    """A kopje: rounded granite boulders resting on the ground and on each other, lit from
    above (a darker underside)."""
    s = cam.focal / z
    base = rng.uniform([128, 120, 108], [168, 158, 142])
    for _ in range(int(rng.integers(2, 7))):
        bx = x + rng.uniform(-4, 4)
        rx, ry = rng.uniform(1.0, 3.5), rng.uniform(0.9, 2.6)
        by = 0.4 * ry + (ry * rng.uniform(0.8, 1.2) if rng.random() < 0.3 else 0.0)
        cx, cy = _to_px(cam, bx, by, z)
        angles = np.linspace(0, 2 * math.pi, 24, endpoint=False)
        radius = 1 + 0.08 * np.sin(angles * rng.integers(2, 5) + rng.uniform(0, 6))
        outline = [
            (cx + rx * s * r * math.cos(a), cy - ry * s * r * min(1.0, 0.6 + math.sin(a)))
            for a, r in zip(angles.tolist(), radius.tolist(), strict=True)
        ]
        lit = [(px, py - 0.12 * ry * s) for px, py in outline[1:12]]
        painter.shape("poly", [v for p in outline for v in p], z, _tone(base, 0.72))
        painter.shape("poly", [v for p in lit for v in p], z - 0.01, _tone(base, 1.05))


def _mound(rng: np.random.Generator, painter: _Painter, cam: Camera, x: float, z: float) -> None:
    """A termite mound: a lumpy cone of red-brown earth."""
    height, width = rng.uniform(0.4, 1.4), rng.uniform(0.8, 1.8)
    colour = tuple(int(v) for v in rng.uniform([140, 104, 80], [166, 122, 94]))
    outline = []
    for t in np.linspace(0, 1, 13):
        bump = 1 + 0.08 * math.sin(7 * t + rng.uniform(0, 0.5))
        y = height * math.sin(math.pi * t) ** 0.8 * bump
        outline.append(_to_px(cam, x + (t - 0.5) * width, y, z))
    painter.shape("poly", [v for p in outline for v in p], z, colour)


def _tone(colour: tuple | np.ndarray, factor: float) -> RGB:
    return (
        min(255, int(colour[0] * factor)),
        min(255, int(colour[1] * factor)),
        min(255, int(colour[2] * factor)),
    )


def _tufts(rng: np.random.Generator, site: Site) -> tuple[dict[str, Image.Image], int, int]:
    """Tall grass blades right in front of the lens, wider than the image by `pad` on each
    side so that the wind can shift them; empty (transparent) for short-grass sites."""
    cam = site.camera
    w, h = cam.width, cam.height
    pad = max(2, round(0.004 * w))
    bottom = h - cam.strip
    top = int(cam.horizon + 0.55 * (bottom - cam.horizon))
    band = max(1, bottom - top)
    layers = {k: Image.new("RGBA", (w + 2 * pad, band), (0, 0, 0, 0)) for k in ("dry", "green")}
    grey = Image.new("LA", (w + 2 * pad, band), (0, 0))
    if site.tufts:
        pens = {k: ImageDraw.Draw(v) for k, v in layers.items()}
        grey_pen = ImageDraw.Draw(grey)
        clumps = int(rng.integers(3, 9))
        for _ in range(clumps):
            centre = rng.uniform(0, w + 2 * pad)
            spread = rng.uniform(0.03, 0.12) * w
            for _ in range(int(rng.integers(40, 120))):
                bx = centre + rng.normal(0, spread)
                by = band - rng.uniform(0, 0.3) * band
                length = rng.uniform(0.25, 0.95) * by  # the tip stays inside the strip
                lean = rng.normal(0, 0.25) * length
                thick = max(1, round(rng.uniform(0.002, 0.005) * w))
                tone = rng.uniform(0.75, 1.2)
                line = [bx, by, bx + lean, by - length]
                pens["dry"].line(line, fill=(*_tone((214, 190, 136), tone), 255), width=thick)
                pens["green"].line(line, fill=(*_tone((118, 150, 70), tone), 255), width=thick)
                grey_pen.line(line, fill=(min(255, int(205 * tone)), 255), width=thick)
    layers["night"] = grey.convert("RGBA")
    return layers, top, pad


def _night(dry: np.ndarray, green: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Infrared view: scene luminance lit by the flash (bright near, black sky), with the
    flash's cone brighter in the middle."""
    h, w = depth.shape
    luma = np.asarray(Image.fromarray(dry).convert("L"), dtype=np.float32)
    luma += np.asarray(Image.fromarray(green).convert("L"), dtype=np.float32)
    luma *= 0.5
    cone = 1.0 - 0.35 * ((np.arange(w, dtype=np.float32) - w / 2) / (w / 2)) ** 2
    lit = luma * 0.9 * infrared_gain(depth) * cone[None, :] + 6.0
    return np.clip(np.rint(lit), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- information strip


# (band, ink, brand name); the rows it covers are the camera's `strip` (serengeti_plan).
BRANDS: dict[str, tuple[RGB, RGB, str]] = {
    # like the real DLC Covert strip: white band, black text, brand left, date and time right
    "light": ((255, 255, 255), (0, 0, 0), "SAVANNAcam"),
    # a second make: black band, white text, temperature in the middle
    "dark": ((16, 16, 16), (236, 236, 236), "TRAILSCOUT"),
}


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font, so the strip renders the same on every machine."""
    return ImageFont.load_default(size=size)


def draw_strip(image: Image.Image, brand: str, rows: int, when: datetime, temperature: int) -> None:
    """The camera's information strip over the bottom rows: brand, (temperature,) timestamp.

    The timestamp changes from shot to shot, so it shows up in |image - mean| unless masked,
    which is why the write-up blacks the strip out before training.
    """
    band, ink, name = BRANDS[brand]
    w, h = image.size
    top = h - rows
    pen = ImageDraw.Draw(image)
    pen.rectangle([0, top, w, h], fill=band)
    font = _font(max(5, round(0.62 * rows)))
    y = top + rows * 0.18
    margin = 0.01 * w
    pen.text((margin, y), name, fill=ink, font=font)
    if brand == "light":
        stamp = when.strftime("%m-%d-%Y  %H:%M:%S")
    else:
        stamp = when.strftime("%Y/%m/%d  %H:%M:%S")
        pen.text((0.42 * w, y), f"{temperature}C", fill=ink, font=font)
    right = w - margin - font.getlength(stamp)
    pen.text((right, y), stamp, fill=ink, font=font)
