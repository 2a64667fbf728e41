"""Pixels for the Serengeti demo: one worker call renders every shot of one camera site.

Speed comes from drawing the site's scene once and then doing little per shot: copy the
scene, paste each animal as a small sprite, paste the wind-shifted foreground grass, apply the
shot's light with a lookup table, add a window of a shared noise field, stamp the strip and
encode the JPEG. A 2048x1536 shot costs tens of milliseconds, most of it in the JPEG encoder.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from lib.demo.serengeti_bodies import LAYERS, Shape, animal_shapes, box_of
from lib.demo.serengeti_plan import Sequence, Site
from lib.demo.serengeti_scene import build_scene, draw_strip, infrared_gain, smooth_noise
from lib.fileio import write_bytes

DAY_NOISE, NIGHT_NOISE = 2.0, 3.5  # sensor noise sigma in 8-bit values (IR is grainier)
NOISE_PAD = 24  # the noise field is this much larger than the image; shots use windows of it
JPEG_QUALITY = 85
EYESHINE = 245  # eyes reflect the infrared flash straight back
MAKES = {"light": ("SAVANNAcam", "SC-2048"), "dark": ("TRAILSCOUT", "TS-565")}


@lru_cache(maxsize=2)
def noise_field(seed: int, size: tuple[int, int], night: bool) -> Image.Image:
    """Sensor noise as an RGB image offset by 128, larger than a shot by NOISE_PAD; each
    shot adds a window at its own offset, so the grain differs between shots at no extra
    cost. Night noise is the same in all channels: luma-only grain keeps the infrared image
    grey."""
    rng = np.random.default_rng([seed, 9, int(night)])
    w, h = size[0] + NOISE_PAD, size[1] + NOISE_PAD
    sigma = NIGHT_NOISE if night else DAY_NOISE
    field = rng.standard_normal((h, w, 1 if night else 3), dtype=np.float32) * sigma
    field = np.clip(np.rint(field) + 128, 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(np.broadcast_to(field, (h, w, 3))))


def render_site(site: Site, sequences: list[Sequence], out: str) -> list[tuple[str, int]]:
    """Worker entry: write every image of `sequences` (all at `site`); returns (file name,
    bytes written) per image."""
    written = []
    for seq in sequences:
        for k, name in enumerate(seq.file_names):
            data = encode(render_shot(seq, k), seq, k)
            damage = seq.shots[k].damage
            if damage == "empty":
                data = b""
            elif damage == "truncated":
                data = data[: int(len(data) * 0.55)]
            write_bytes(f"{out}/{name}", data)
            written.append((name, len(data)))
    return written


def render_shot(seq: Sequence, k: int) -> Image.Image:
    """One shot as an RGB image (grey at night, R == G == B)."""
    site = seq.site
    cam = site.camera
    scene = build_scene(site)
    shot = seq.shots[k]
    if seq.night:
        canvas = Image.fromarray(scene.night).convert("RGB")
        tufts = scene.tufts["night"]
    else:
        canvas = Image.fromarray(scene.day(seq.greenness))  # PIL copies the pixels
        tufts = scene.tufts["green" if seq.greenness >= 0.5 else "dry"]
    for animal in seq.animals:
        pose = animal.poses[k]
        shapes = animal_shapes(animal.individual, pose, cam)
        shadow = not seq.night and pose.lift == 0
        paint_animal(canvas, shapes, seq.night, pose.z, shadow, scene.depth)
    if site.tufts:
        left = scene.tuft_pad + shot.sway
        window = tufts.crop((left, 0, left + cam.width, tufts.height))
        canvas.paste(window, (0, scene.tuft_top), window)
    if seq.cloud:
        _cloud_shadow(canvas, seq, k)
    canvas = canvas.point(_light_table(shot.gains))
    image = _add_noise(canvas, seq, k)
    draw_strip(image, site.brand, cam.strip, shot.when, seq.temperature)
    return image


def _light_table(gains: tuple[float, float, float]) -> list[int]:
    """Per-channel gain as a lookup table; highlights clip like a real sensor at noon."""
    levels = np.arange(256, dtype=np.float32)
    return [int(v) for g in gains for v in np.clip(np.rint(levels * g), 0, 255)]


def _add_noise(image: Image.Image, seq: Sequence, k: int) -> Image.Image:
    rng = np.random.default_rng([*seq.seed, k, 1])
    dy, dx = (int(v) for v in rng.integers(0, NOISE_PAD, 2))
    w, h = image.size
    master = seq.seed[0]  # the demo's seed: one noise field per demo, image size and mode
    field = noise_field(master, (w, h), seq.night).crop((dx, dy, dx + w, dy + h))
    return ImageChops.add(image, field, 1.0, -128)


def _cloud_shadow(canvas: Image.Image, seq: Sequence, k: int) -> None:
    """A soft cloud shadow drifting across the ground between shots (another empty trigger)."""
    rng = np.random.default_rng([*seq.seed, 2])
    w, h = canvas.size
    field = smooth_noise(rng, 64, 24, (8, 3))
    shift = int(round(k * rng.uniform(2, 6)))
    window = np.roll(field, shift, axis=1)[:, 16:48]
    dark = np.rint(255 * (1 - 0.3 / (1 + np.exp(-(window - 0.55) * 8)))).astype(np.uint8)
    shadow = Image.fromarray(dark).resize((w, h), Image.Resampling.BILINEAR).convert("RGB")
    horizon = int(seq.site.camera.horizon)
    sky = Image.new("RGB", (w, max(0, horizon)), (255, 255, 255))
    shadow.paste(sky, (0, 0))
    canvas.paste(ImageChops.multiply(canvas, shadow))


def paint_animal(
    canvas: Image.Image,
    shapes: list[Shape],
    night: bool,
    depth: float,
    shadow: bool,
    scene_depth: np.ndarray | None = None,
) -> None:
    """Rasterise one individual into a sprite the size of its box and paste it.

    Coat patterns are drawn on their own layer and pasted through a mask of the coat-bearing
    shapes (minus anything drawn over them), so stripes stay on the body; a vertical gradient
    darkens the belly; at night the sprite turns grey with the flash's fall-off and the eyes
    shine. Whatever in the scene is nearer than the animal (a bush, a tree, grass blades)
    stays in front of it.
    """
    w, h = canvas.size
    x0, y0, x1, y1 = box_of(shapes)
    left, top = max(0, math.floor(x0)), max(0, math.floor(y0))
    right, bottom = min(w, math.ceil(x1) + 1), min(h, math.ceil(y1) + 1)
    if right <= left or bottom <= top:
        return
    size = (right - left, bottom - top)
    if shadow:
        _ground_shadow(canvas, x0, x1, y1)
    sprite = Image.new("RGBA", size, (0, 0, 0, 0))
    coat = Image.new("L", size, 0)
    pen, coat_pen = ImageDraw.Draw(sprite), ImageDraw.Draw(coat)
    pattern = None
    glow: list[Shape] = []
    for layer in LAYERS:
        for s in (s for s in shapes if s.layer == layer):
            if s.glow:
                glow.append(s)
            if layer == "pattern":
                if pattern is None:
                    pattern = Image.new("RGBA", size, (0, 0, 0, 0))
                _draw(ImageDraw.Draw(pattern), s, (left, top), (*s.colour, 255))
                continue
            if layer == "front" and pattern is not None:
                _apply_pattern(sprite, pattern, coat)
                pattern = None
            _draw(pen, s, (left, top), (*s.colour, 255))
            if layer in ("back", "main"):
                _draw(coat_pen, s, (left, top), 255 if s.coat else 0)
    if pattern is not None:
        _apply_pattern(sprite, pattern, coat)
    alpha = sprite.getchannel("A")
    rgb = _shade(sprite.convert("RGB"), bottom - top, y0 - top, y1 - top)
    if night:
        gain = float(infrared_gain(depth)) * 1.05
        grey = rgb.convert("L").point(lambda v: min(255, int(v * gain + 10)))
        pen = ImageDraw.Draw(grey)
        for s in glow:
            _draw(pen, s, (left, top), EYESHINE)
        rgb = grey.convert("RGB")
    if scene_depth is not None:
        behind = scene_depth[top:bottom, left:right] > 0.97 * depth
        alpha = ImageChops.multiply(alpha, Image.fromarray(behind.astype(np.uint8) * 255))
    canvas.paste(rgb, (left, top), alpha)


def _apply_pattern(sprite: Image.Image, pattern: Image.Image, coat: Image.Image) -> None:
    mask = ImageChops.multiply(pattern.getchannel("A"), coat)
    sprite.paste(pattern.convert("RGB"), (0, 0), mask)


def _shade(rgb: Image.Image, rows: int, top: float, bottom: float) -> Image.Image:
    """Sunlit back, shaded belly: multiply by a vertical ramp over the animal's height."""
    span = max(bottom - top, 1.0)
    ramp = np.clip(1.0 - 0.3 * (np.arange(rows, dtype=np.float32) - top) / span, 0.68, 1.0)
    column = Image.fromarray(np.rint(ramp * 255).astype(np.uint8)[:, None])
    gradient = column.resize(rgb.size, Image.Resampling.NEAREST).convert("RGB")
    return ImageChops.multiply(rgb, gradient)


def _ground_shadow(canvas: Image.Image, x0: float, x1: float, y1: float) -> None:
    """A soft dark ellipse under the feet, as the sun is mostly high."""
    rx = 0.45 * (x1 - x0)
    ry = max(1.0, 0.06 * (x1 - x0))
    cx = (x0 + x1) / 2
    box = [cx - rx, y1 - ry, cx + rx, y1 + ry]
    w, h = canvas.size
    left, top = max(0, int(box[0])), max(0, int(box[1]))
    right, bottom = min(w, int(box[2]) + 1), min(h, int(box[3]) + 1)
    if right <= left or bottom <= top:
        return
    mask = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(mask).ellipse(
        [box[0] - left, box[1] - top, box[2] - left, box[3] - top], fill=80
    )
    canvas.paste((30, 26, 20), (left, top, right, bottom), mask)


def _draw(pen: ImageDraw.ImageDraw, s: Shape, origin: tuple[int, int], fill: object) -> None:
    ox, oy = origin
    pts = [(x - ox, y - oy) for x, y in zip(s.points[::2], s.points[1::2], strict=True)]
    if s.kind == "poly":
        pen.polygon(pts, fill=fill)  # type: ignore[arg-type]
        return
    r = s.width / 2
    if r >= 1:
        pen.line(pts, fill=fill, width=max(1, round(s.width)), joint="curve")  # type: ignore[arg-type]
        for x, y in (pts[0], pts[-1]):
            pen.ellipse([x - r, y - r, x + r, y + r], fill=fill)  # type: ignore[arg-type]
    else:
        pen.line(pts, fill=fill, width=1)  # type: ignore[arg-type]


def encode(image: Image.Image, seq: Sequence, k: int) -> bytes:
    """JPEG with the camera's EXIF (make, model, time taken); grey-scale files for the dark
    make's night shots, as some real cameras write them."""
    make, model = MAKES[seq.site.brand]
    exif = Image.Exif()
    stamp = seq.shots[k].when.strftime("%Y:%m:%d %H:%M:%S")
    exif[0x010F], exif[0x0110], exif[0x0132] = make, model, stamp
    exif.get_ifd(0x8769)[0x9003] = stamp
    if seq.night and seq.site.brand == "dark":
        image = image.convert("L")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, exif=exif)
    return buffer.getvalue()
