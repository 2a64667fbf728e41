"""Animal outlines in pixels: a body plan (metres) seen by a pinhole camera in one pose.

The same shapes serve the renderer and the truth table, so a box in `demo_truth.csv` is where
the animal was drawn. Coat patterns are separate shapes clipped to the body's silhouette;
they are seeded by the individual, not the shot, so a zebra keeps its stripes while it walks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lib.demo.serengeti_species import BODIES, BODY_DARK, HORNED_MALES_ONLY, RGB, Body

Point = tuple[float, float]


@dataclass(frozen=True)
class Camera:
    """A level pinhole camera `height` metres above flat ground: a point on the ground at
    depth z metres lands `focal * height / z` pixels below the horizon row."""

    width: int
    height: int
    focal: float  # pixels
    horizon: float  # row of the horizon
    elevation: float  # metres above the ground
    strip: int  # rows of the information strip at the bottom

    def ground_row(self, z: float) -> float:
        return self.horizon + self.focal * self.elevation / z

    def column(self, x: float, z: float) -> float:
        return self.width / 2 + self.focal * x / z


@dataclass(frozen=True)
class Individual:
    """One animal across the shots of a sequence."""

    species: str
    scale: float  # size relative to an adult of the species
    look: int  # seeds coat patterns and per-individual colour variation
    male: bool
    colour: RGB  # body colour of this individual (jittered; cattle and birds vary a lot)


@dataclass(frozen=True)
class Pose:
    """Where an individual is at one shot and what its body is doing."""

    x: float  # metres to the right of the optical axis
    z: float  # depth in metres
    facing: int  # +1 looks right, -1 left
    phase: float  # gait phase in radians
    stride: float  # leg swing as a share of body length (0: standing)
    head_down: bool  # grazing
    lift: float = 0.0  # metres above the ground (bats)


@dataclass(frozen=True)
class Shape:
    """A filled polygon, or a polyline `width` pixels thick with round ends.

    `layer`: "back" (far legs, tail) is drawn first, then "main" (body, neck, head, near legs),
    then "pattern" clipped to the union of shapes marked `coat`, then "front" (horns, ears,
    eyes, manes). `glow` marks eyes, which shine under the infrared flash at night.
    """

    kind: str  # "poly" or "line"
    points: tuple[float, ...]  # x0, y0, x1, y1, ... in pixels
    colour: RGB
    width: float = 0.0
    layer: str = "main"
    coat: bool = False
    glow: bool = False

    def bounds(self) -> tuple[float, float, float, float]:
        pad = self.width / 2
        xs, ys = self.points[::2], self.points[1::2]
        return min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad


LAYERS = ("back", "main", "pattern", "front")


def shade(colour: RGB, factor: float) -> RGB:
    return (
        min(255, round(colour[0] * factor)),
        min(255, round(colour[1] * factor)),
        min(255, round(colour[2] * factor)),
    )


class _Pen:
    """Collects shapes in body coordinates (metres, x forward, y up) and maps them to pixels."""

    def __init__(self, camera: Camera, pose: Pose) -> None:
        self.scale = camera.focal / pose.z  # pixels per metre at this depth
        self.cx = camera.column(pose.x, pose.z)
        self.ground = camera.ground_row(pose.z) - pose.lift * self.scale
        self.facing = pose.facing
        self.shapes: list[Shape] = []

    def _map(self, points: list[Point]) -> tuple[float, ...]:
        s, f = self.scale, self.facing
        return tuple(v for x, y in points for v in (self.cx + f * x * s, self.ground - y * s))

    def poly(self, points: list[Point], colour: RGB, layer: str = "main", **kw: bool) -> None:
        self.shapes.append(Shape("poly", self._map(points), colour, layer=layer, **kw))

    def line(
        self, points: list[Point], width: float, colour: RGB, layer: str = "main", **kw: bool
    ) -> None:
        pixels = max(1.0, width * self.scale)
        self.shapes.append(Shape("line", self._map(points), colour, pixels, layer, **kw))

    def ellipse(
        self,
        centre: Point,
        rx: float,
        ry: float,
        colour: RGB,
        angle: float = 0.0,
        layer: str = "main",
        **kw: bool,
    ) -> None:
        self.poly(ellipse_points(centre, rx, ry, angle), colour, layer, **kw)


def ellipse_points(centre: Point, rx: float, ry: float, angle: float = 0.0, n: int = 20) -> list:
    cx, cy = centre
    ca, sa = math.cos(angle), math.sin(angle)
    points = []
    for k in range(n):
        t = 2 * math.pi * k / n
        x, y = rx * math.cos(t), ry * math.sin(t)
        points.append((cx + x * ca - y * sa, cy + x * sa + y * ca))
    return points


def _along(origin: Point, length: float, degrees: float) -> Point:
    a = math.radians(degrees)
    return origin[0] + length * math.cos(a), origin[1] + length * math.sin(a)


def _offset(p: Point, dx: float, dy: float) -> Point:
    return p[0] + dx, p[1] + dy


def animal_shapes(ind: Individual, pose: Pose, camera: Camera, coat: bool = True) -> list[Shape]:
    """Every shape of one individual in one pose, back to front. Without `coat` the pattern
    shapes are skipped (they never reach outside the silhouette): enough for boxes."""
    body = BODIES[ind.species]
    pen = _Pen(camera, pose)
    draw = {
        "quadruped": _quadruped,
        "bird": _bird,
        "crawler": _crawler,
        "flyer": _flyer,
        "insect": _insect,
    }[body.kind]
    draw(pen, body, ind, pose, coat)
    return pen.shapes


def box_of(shapes: list[Shape]) -> tuple[float, float, float, float]:
    bounds = [s.bounds() for s in shapes]
    return (
        min(b[0] for b in bounds),
        min(b[1] for b in bounds),
        max(b[2] for b in bounds),
        max(b[3] for b in bounds),
    )


# ---------------------------------------------------------------- body kinds


def _quadruped(pen: _Pen, b: Body, ind: Individual, pose: Pose, coat: bool) -> None:
    k = ind.scale
    length, shoulder = b.length * k, b.shoulder * k
    depth = b.depth * shoulder
    slope = b.slope
    hind = shoulder - length * math.sin(slope)
    cy = (shoulder + hind) / 2 - depth / 2  # body centre height

    def centre_line(x: float) -> float:
        return cy + x * math.tan(slope)

    colour = ind.colour
    legs = b.legs or colour
    swing = pose.stride * length * math.sin(pose.phase)
    leg_w = b.leg * k
    front, back = 0.3 * length, -0.3 * length
    feet = {
        "far_front": (front - swing, front),
        "far_hind": (back + swing, back),
        "near_front": (front + swing, front),
        "near_hind": (back - swing, back),
    }
    for name in ("far_front", "far_hind"):
        foot, top = feet[name]
        pen.line(
            [(top, centre_line(top)), (foot, 0.0)], leg_w, shade(legs, 0.72), "back", coat=True
        )
    _tail(pen, b, (-length / 2 + 0.03 * length, centre_line(-length / 2) + 0.25 * depth), k, colour)

    neck_base = (0.36 * length, centre_line(0.36 * length) + 0.2 * depth)
    down = pose.head_down and b.grazer
    neck_angle = -(35.0 + 0.3 * b.neck_angle) if down else b.neck_angle
    if b.neck > 0.6 and down:  # a giraffe splays rather than folds: keep the neck higher
        neck_angle = -10.0
    neck_end = _along(neck_base, b.neck * k, neck_angle)
    head_angle = -80.0 if down else b.head_angle
    head_len, head_h = b.head[0] * k, b.head[1] * k
    head_c = _along(neck_end, 0.4 * head_len, head_angle)

    if "mane" in b.extras and ind.species == "lionmale":
        pen.ellipse(
            _along(neck_end, 0.1 * head_len, head_angle),
            0.75 * head_len,
            1.0 * head_h + 0.1 * k,
            (118, 76, 38),
            math.radians(head_angle),
        )
    if "hump" in b.extras:
        pen.ellipse(
            (0.25 * length, shoulder - 0.05 * depth), 0.12 * length, 0.18 * depth, colour, coat=True
        )
    pen.ellipse((0.0, cy), length / 2, depth / 2, colour, slope, coat=True)
    pen.line([neck_base, neck_end], b.neck_width * k, colour, coat=True)
    if "dewlap" in b.extras:
        pen.ellipse(
            _offset(neck_base, 0.05 * length, -0.25 * depth),
            0.12 * length,
            0.22 * depth,
            shade(colour, 0.92),
            coat=True,
        )
    face = b.face or colour
    pen.ellipse(
        head_c, head_len / 2, head_h / 2, face, math.radians(head_angle), coat=b.face is None
    )
    for name in ("near_front", "near_hind"):
        foot, top = feet[name]
        pen.line([(top, centre_line(top)), (foot, 0.0)], leg_w, legs, coat=True)

    if coat:
        _coat(pen, b, ind, length, depth, cy, slope, neck_base, neck_end)
    _head_details(pen, b, ind, neck_end, head_c, head_len, head_h, head_angle, colour)
    if "mane" in b.extras and ind.species != "lionmale":
        top = [
            _offset(neck_base, 0, 0.5 * b.neck_width * k),
            _offset(neck_end, -0.1 * head_len, 0.45 * b.neck_width * k),
        ]
        if ind.species in {"warthog", "hyenastriped", "aardwolf"}:
            top = [(-0.3 * length, centre_line(-0.3 * length) + depth / 2), *top]
        pen.line(top, 0.25 * b.neck_width * k, BODY_DARK, "front")
    if "beard" in b.extras:
        throat = _along(neck_end, 0.2 * head_len, head_angle)
        pen.line([throat, _offset(throat, -0.05 * k, -0.25 * k)], 0.06 * k, BODY_DARK, "front")


def _bird(pen: _Pen, b: Body, ind: Individual, pose: Pose, coat: bool) -> None:
    k = ind.scale
    length, shoulder = b.length * k, b.shoulder * k
    depth = b.depth * shoulder
    cy = shoulder - depth / 2
    colour = ind.colour
    legs = b.legs or (150, 130, 110)
    swing = pose.stride * length * math.sin(pose.phase)
    hip = (0.0, cy - 0.3 * depth)
    pen.line([hip, (-swing, 0.0)], b.leg * k, shade(legs, 0.75), "back")
    _tail(pen, b, (-0.45 * length, cy + 0.1 * depth), k, colour)
    down = pose.head_down and b.grazer
    neck_base = (0.35 * length, cy + 0.2 * depth)
    neck_end = _along(neck_base, b.neck * k, -30.0 if down else b.neck_angle)
    head_len, head_h = b.head[0] * k, b.head[1] * k
    head_angle = -60.0 if down else b.head_angle
    head_c = _along(neck_end, 0.3 * head_len, head_angle)
    pen.ellipse((0.0, cy), length / 2, depth / 2, colour, b.slope, coat=True)
    pen.line([neck_base, neck_end], b.neck_width * k, b.face or colour)
    pen.ellipse(head_c, head_len / 2, head_h / 2, b.face or colour, math.radians(head_angle))
    beak = _along(head_c, 0.5 * head_len, head_angle)
    pen.line(
        [beak, _along(beak, 0.5 * head_len, head_angle - 10)], 0.25 * head_h, (70, 64, 56), "front"
    )
    pen.line([hip, (swing, 0.0)], b.leg * k, legs)
    if coat:
        _coat(pen, b, ind, length, depth, cy, b.slope, neck_base, neck_end)
    eye = _along(head_c, 0.1 * head_len, head_angle + 90)
    pen.ellipse(eye, 0.12 * head_h, 0.12 * head_h, (20, 18, 16), layer="front", glow=True)
    if "crest" in b.extras:
        back = _along(head_c, -0.4 * head_len, head_angle)
        for lean in (120, 140, 160):
            pen.line(
                [back, _along(back, 0.9 * head_len, head_angle + lean)],
                0.1 * head_h,
                BODY_DARK,
                "front",
            )
    if "wattle" in b.extras:
        pen.ellipse(
            _offset(head_c, 0.1 * head_len, -0.5 * head_h),
            0.2 * head_h,
            0.25 * head_h,
            (190, 40, 40),
            layer="front",
        )


def _crawler(pen: _Pen, b: Body, ind: Individual, pose: Pose, coat: bool) -> None:
    k = ind.scale
    length, height = b.length * k, b.shoulder * k
    cy = 0.55 * height
    colour = ind.colour
    swing = pose.stride * length * math.sin(pose.phase)
    for x, sign in ((0.3, 1), (-0.3, -1)):
        pen.line(
            [(x * length, cy), (x * length + sign * swing + 0.08 * length, 0.0)],
            b.leg * k,
            shade(colour, 0.7),
            "back",
        )
    pen.line(
        [
            (-0.45 * length, cy),
            (-0.45 * length - 0.6 * b.tail * k, 0.25 * cy),
            (-0.45 * length - b.tail * k, 0.1 * cy),
        ],
        0.35 * height,
        colour,
        coat=True,
    )
    pen.ellipse((0.0, cy), length / 2, b.depth * height / 2, colour, coat=True)
    head = (0.5 * length + 0.4 * b.head[0] * k, cy)
    pen.ellipse(head, b.head[0] * k / 2, b.head[1] * k / 2, colour, coat=True)
    for x, sign in ((0.3, -1), (-0.3, 1)):
        pen.line(
            [(x * length, cy), (x * length + sign * swing - 0.08 * length, 0.0)], b.leg * k, colour
        )
    if coat:
        _coat(pen, b, ind, length, b.depth * height, cy, 0.0, head, head)
    pen.ellipse(
        _offset(head, 0.2 * b.head[0] * k, 0.15 * b.head[1] * k),
        0.1 * b.head[1] * k,
        0.1 * b.head[1] * k,
        (15, 15, 15),
        layer="front",
        glow=True,
    )


def _flyer(pen: _Pen, b: Body, ind: Individual, pose: Pose, coat: bool) -> None:
    k = ind.scale
    length = b.length * k
    colour = ind.colour
    flap = math.sin(pose.phase)
    span = 3.2 * length
    for side in (1, -1):
        tip = (side * 0.25 * length, 0.9 * span * flap)
        pen.poly(
            [
                (0.25 * length, 0.0),
                (-0.25 * length, 0.0),
                (tip[0] - 0.3 * span, tip[1] * 0.9),
                (tip[0], tip[1]),
                (tip[0] + 0.3 * span, tip[1] * 0.8),
            ],
            shade(colour, 0.85),
            "back",
        )
    pen.ellipse((0.0, 0.0), length / 2, 0.22 * length, colour)
    pen.ellipse((0.55 * length, 0.05 * length), b.head[0] * k, b.head[1] * k, colour)
    pen.ellipse(
        (0.6 * length, 0.08 * length), 0.01 * k, 0.01 * k, (20, 20, 20), layer="front", glow=True
    )


def _insect(pen: _Pen, b: Body, ind: Individual, pose: Pose, coat: bool) -> None:
    length = b.length * ind.scale
    colour = ind.colour
    centre = (0.0, 0.3 * length)
    for j in range(3):
        x = (j - 1) * 0.25 * length
        for side in (1, -1):
            knee = (x + side * 0.1 * length, 0.3 * length + 0.35 * length)
            foot = (x + side * 0.35 * length, 0.0)
            pen.line([(x, centre[1]), knee, foot], b.leg * ind.scale, shade(colour, 0.8), "back")
    pen.ellipse(centre, length / 2, 0.22 * length, colour)
    pen.ellipse((0.55 * length, 0.32 * length), 0.15 * length, 0.12 * length, colour)


# ---------------------------------------------------------------- parts


def _tail(pen: _Pen, b: Body, root: Point, k: float, colour: RGB) -> None:
    t = b.tail * k
    if t <= 0:
        return
    style = b.tail_style
    dark = shade(colour, 0.6)
    if style == "wedge":
        pen.poly(
            [
                _offset(root, 0, 0.1 * t),
                _offset(root, -t, 0.25 * t),
                _offset(root, -t, -0.15 * t),
                _offset(root, 0, -0.1 * t),
            ],
            shade(colour, 0.85),
            "back",
        )
        return
    paths = {
        "hang": [(0, 0), (-0.25, -0.5), (-0.3, -0.95)],
        "tuft": [(0, 0), (-0.25, -0.5), (-0.3, -0.95)],
        "up": [(0, 0), (-0.15, 0.5), (-0.1, 0.95)],
        "curl": [(0, 0), (-0.2, 0.35), (-0.45, 0.4), (-0.6, 0.05), (-0.55, -0.35)],
        "bushy": [(0, 0), (-0.45, -0.45), (-0.7, -0.75)],
        "long": [(0, 0), (-0.45, -0.35), (-0.9, -0.3), (-1.0, -0.1)],
    }
    points = [_offset(root, dx * t, dy * t) for dx, dy in paths[style]]
    width = 0.22 * t if style == "bushy" else max(0.015 * k, 0.05 * t)
    pen.line(points, width, dark if style in {"hang", "tuft"} else colour, "back")
    if style in {"tuft", "up"}:
        pen.ellipse(points[-1], 0.07 * t + 0.01, 0.12 * t + 0.01, BODY_DARK, layer="back")


def _head_details(
    pen: _Pen,
    b: Body,
    ind: Individual,
    neck_end: Point,
    head_c: Point,
    head_len: float,
    head_h: float,
    head_angle: float,
    colour: RGB,
) -> None:
    k = ind.scale
    poll = _along(neck_end, -0.05 * head_len, head_angle + 90)  # top of the head, at the back
    poll = _offset(poll, 0, 0.35 * head_h)
    if b.ears and "trunk" not in b.extras:
        ear = _along(poll, 0.45 * b.ears * k, 115.0)
        pen.ellipse(
            ear,
            0.5 * b.ears * k,
            0.2 * b.ears * k,
            shade(b.face or colour, 0.9),
            math.radians(115.0),
            "front",
        )
    if b.horns and (ind.male or ind.species not in HORNED_MALES_ONLY):
        _horns(pen, b.horns, poll, b.horn * k, head_c, head_len, head_angle)
    eye = _along(head_c, -0.1 * head_len, head_angle)
    eye = _along(eye, 0.22 * head_h, head_angle + 90)
    r = max(0.012 * k, 0.07 * head_h)
    pen.ellipse(eye, r, r, (22, 20, 18), layer="front", glow=True)
    nose = _along(head_c, 0.5 * head_len, head_angle)
    if "trunk" in b.extras:  # elephant: a big ear flap over the head, trunk to the ground
        pen.ellipse(
            _along(head_c, -0.35 * head_len, head_angle),
            0.32 * b.ears * k,
            0.5 * b.ears * k,
            shade(colour, 0.9),
            layer="front",
        )
        low = max(0.25 * k, nose[1] * 0.15)
        pen.line(
            [
                nose,
                _offset(nose, 0.12 * head_len, -0.5 * (nose[1] - low)),
                (nose[0] + 0.05 * head_len, low),
            ],
            0.16 * k,
            shade(colour, 0.95),
            "front",
        )
    if "tusks" in b.extras:
        size = 0.6 * k if ind.species == "elephant" else 0.12 * k
        mouth = _along(nose, -0.25 * head_len, head_angle)
        pen.line(
            [
                mouth,
                _offset(mouth, 0.5 * size, -0.4 * size),
                _offset(mouth, 0.85 * size, -0.1 * size),
            ],
            0.12 * size + 0.01,
            (232, 226, 206),
            "front",
        )


def _horns(
    pen: _Pen,
    style: str,
    poll: Point,
    size: float,
    head_c: Point,
    head_len: float,
    head_angle: float,
) -> None:
    dark = (58, 52, 46)
    width = 0.07 * size + 0.012
    shapes: dict[str, list[tuple[float, float]]] = {
        "curved": [(0, 0), (-0.15, 0.55), (0.25, 0.9)],
        "straight": [(0, 0), (-0.45, 0.9)],
        "lyre": [(0, 0), (-0.3, 0.45), (-0.15, 0.75), (-0.3, 1.0)],
        "spiral": [(0, 0), (-0.35, 0.95)],
        "buffalo": [(0.05, 0.05), (0.15, -0.25), (0.4, -0.15), (0.5, 0.2)],
        "ossicone": [(0, 0), (0.0, 1.0)],
    }
    if style == "rhino":
        nose = _along(head_c, 0.4 * head_len, head_angle)
        for base, length in ((nose, size), (_along(nose, -0.3 * head_len, head_angle), 0.5 * size)):
            pen.poly(
                [
                    _offset(base, -0.12 * length, 0),
                    _offset(base, 0.12 * length, 0),
                    _offset(base, 0.15 * length, length),
                ],
                dark,
                "front",
            )
        return
    points = [_offset(poll, dx * size, dy * size) for dx, dy in shapes[style]]
    pen.line(points, 2.2 * width if style == "buffalo" else width, dark, "front")
    if style == "ossicone":
        pen.ellipse(points[-1], 0.35 * size, 0.3 * size, BODY_DARK, layer="front")


def _coat(
    pen: _Pen,
    b: Body,
    ind: Individual,
    length: float,
    depth: float,
    cy: float,
    slope: float,
    neck_base: Point,
    neck_end: Point,
) -> None:
    """Pattern shapes in body coordinates; the renderer clips them to the coat silhouette."""
    rng = np.random.default_rng([ind.look, 17])
    k = ind.scale
    c = b.pattern_colour
    top = max(neck_end[1], cy + depth / 2) + 0.3 * k
    left, right = -length / 2 - 0.1 * k, max(neck_end[0], length / 2) + 0.4 * k
    if b.belly:
        pen.ellipse((0.0, cy - 0.5 * depth), 0.5 * length, 0.32 * depth, b.belly, slope, "pattern")
    for pattern in b.patterns:
        if pattern == "stripes":
            step = length / 13
            for x in np.arange(left, right, step):
                lean = 0.35 * depth * (1 if x < 0 else -0.3)
                pen.line([(x + lean, top), (x - lean, -0.1)], 0.38 * step, c, "pattern")
            for y in np.arange(0.05 * k, cy - depth / 2, 0.1 * k):
                pen.line([(left, y), (right, y)], 0.04 * k, c, "pattern")
        elif pattern in {"spots", "rosettes", "dots"}:
            r = {"spots": 0.03, "rosettes": 0.045, "dots": 0.012}[pattern] * max(b.shoulder, 0.3)
            r *= k
            count = int(min(400, (right - left) * top / (3.2 * r) ** 2))
            xs = rng.uniform(left, right, count)
            ys = rng.uniform(0.0, top, count)
            for x, y in zip(xs, ys, strict=True):
                if pattern == "rosettes":
                    pen.line(ellipse_points((x, y), r, 0.8 * r, 0, 8), 0.4 * r, c, "pattern")
                else:
                    pen.ellipse((x, y), r, 0.85 * r, c, layer="pattern")
        elif pattern == "patches":
            cell = 0.3 * k
            for x in np.arange(left, right, cell):
                for y in np.arange(0.0, top, cell):
                    jitter = rng.uniform(-0.08, 0.08, 8) * cell
                    inset = 0.1 * cell
                    pen.poly(
                        [
                            (x + inset + jitter[0], y + inset + jitter[1]),
                            (x + cell - inset + jitter[2], y + inset + jitter[3]),
                            (x + cell - inset + jitter[4], y + cell - inset + jitter[5]),
                            (x + inset + jitter[6], y + cell - inset + jitter[7]),
                        ],
                        c,
                        "pattern",
                    )
        elif pattern == "flank":
            pen.ellipse((0.0, cy - 0.12 * depth), 0.42 * length, 0.09 * depth, c, slope, "pattern")
        elif pattern == "bands":
            step = length / 9
            for x in np.arange(-0.4 * length, 0.45 * length, step):
                pen.line(
                    [(x + 0.05 * depth, cy + depth), (x - 0.05 * depth, cy - depth)],
                    0.25 * step,
                    c,
                    "pattern",
                )
        elif pattern == "saddle":
            pen.ellipse((0.0, cy + 0.5 * depth), 0.52 * length, 0.32 * depth, c, slope, "pattern")
        elif pattern == "rump":
            pen.ellipse(
                (-0.45 * length, cy + 0.05 * depth), 0.13 * length, 0.38 * depth, c, layer="pattern"
            )
        elif pattern == "harness":
            for x in np.arange(-0.35 * length, 0.35 * length, length / 5):
                pen.line([(x, cy + 0.45 * depth), (x, cy - 0.2 * depth)], 0.02 * k, c, "pattern")
        elif pattern == "lines":
            for dy in (-0.2, 0.1, 0.35):
                pen.line(
                    [(-0.5 * length, cy + dy * depth), (0.5 * length, cy + dy * depth)],
                    0.1 * depth,
                    c,
                    "pattern",
                )
        elif pattern == "quills":
            for j, x in enumerate(np.linspace(-0.45 * length, 0.3 * length, 16)):
                base = (x, cy + 0.35 * depth)
                tip = _offset(base, -0.35 * k, 0.25 * k + 0.05 * k * math.sin(j))
                pen.line([base, tip], 0.025 * k, c if j % 2 else BODY_DARK, "front")
