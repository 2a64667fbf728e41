"""The 54 competition classes and, for the 53 species, a side-view body plan and an ecology.

Body plans are in metres so apparent size carries distance, and each species differs in what a
small CNN can see at low resolution: outline (long neck, sloping back, trunk), size, colour
and coat pattern (stripes, spots, patches, a flank band). Ecology numbers are rough shares of
the real Snapshot Serengeti labels (wildebeest, zebra and Thomson's gazelle dominate; many
species are seen a handful of times a season), daily activity and group sizes, so that class
priors, hour and month carry the kind of signal they carry in the real data.
"""

from __future__ import annotations

from dataclasses import dataclass

from lib.serengeti.schema import CLASSES

RGB = tuple[int, int, int]

# Submission order of the competition (alphabetical, with `empty` among the species): the one
# list lives in lib.serengeti.schema.
EMPTY = "empty"


@dataclass(frozen=True)
class Body:
    """Side view, facing right, feet on the ground at y = 0; lengths in metres.

    `kind` picks the drawing: "quadruped" (also primates, small carnivores, rodents), "bird"
    (two legs, wedge tail), "crawler" (reptiles: low, splayed legs, long tail), "flyer" (bats,
    drawn in the air) and "insect" (a few centimetres, right at the lens).
    """

    kind: str
    shoulder: float  # height of the back over the front legs (birds: over the legs)
    length: float  # body length without neck, head and tail
    colour: RGB
    depth: float = 0.45  # body depth as a share of `shoulder`
    slope: float = 0.0  # back slope in radians, front higher when positive (hyena, hartebeest)
    leg: float = 0.08  # leg thickness
    neck: float = 0.35
    neck_angle: float = 40.0  # degrees above horizontal with the head up
    neck_width: float = 0.16
    head: tuple[float, float] = (0.35, 0.18)  # length, height
    head_angle: float = -40.0  # degrees; negative = nose down
    ears: float = 0.0  # ear length (0: none drawn)
    horns: str = ""  # "", curved, straight, lyre, spiral, buffalo, rhino, ossicone
    horn: float = 0.0  # horn length
    tail: float = 0.4
    tail_style: str = "hang"  # hang, tuft, up, curl, bushy, long, wedge
    belly: RGB | None = None  # lighter underside
    legs: RGB | None = None  # leg colour when it differs from the body
    face: RGB | None = None  # head colour when it differs
    patterns: tuple[str, ...] = ()  # stripes, spots, rosettes, patches, flank, dots, bands,
    #  saddle, rump, quills, harness, lines (see serengeti_bodies.pattern_shapes)
    pattern_colour: RGB = (25, 22, 20)
    extras: tuple[str, ...] = ()  # mane, beard, trunk, tusks, crest, dewlap, hump, wattle
    grazer: bool = False  # lowers its head to feed


@dataclass(frozen=True)
class Ecology:
    """How often, when, in what numbers and how far from the camera a species is seen."""

    weight: float  # share of sequences with animals (before the month effect)
    activity: str  # day, night, dusk (dawn and dusk), any
    group: float  # mean number of individuals in view (1 = always alone)
    group_max: int
    distance: tuple[float, float]  # metres from the camera, nearest and farthest
    herd: bool = False  # herds that pass several neighbouring cameras
    migratory: bool = False  # many more in the wet season (the migration)
    speed: float = 1.2  # walking speed in m/s
    companions: tuple[str, ...] = ()  # species often seen in the same sequence


def _q(shoulder: float, length: float, colour: RGB, **kw: object) -> Body:
    return Body("quadruped", shoulder, length, colour, **kw)  # type: ignore[arg-type]


def _b(shoulder: float, length: float, colour: RGB, **kw: object) -> Body:
    return Body("bird", shoulder, length, colour, **kw)  # type: ignore[arg-type]


WHITE: RGB = (236, 232, 222)
BLACK: RGB = (28, 26, 25)
BODY_DARK: RGB = (40, 36, 34)  # tail tufts, manes, beards, ossicone tips

BODIES: dict[str, Body] = {
    "aardvark": _q(0.6, 1.1, (168, 136, 118), depth=0.75, slope=-0.12, leg=0.1, neck=0.12,
                   neck_angle=-10, neck_width=0.25, head=(0.45, 0.16), head_angle=-35,
                   ears=0.2, tail=0.55, tail_style="bushy"),
    "aardwolf": _q(0.48, 0.7, (196, 174, 132), slope=0.25, leg=0.05, neck=0.2, neck_angle=30,
                   head=(0.22, 0.11), head_angle=-20, ears=0.1, tail=0.25, tail_style="bushy",
                   patterns=("bands",), pattern_colour=(55, 45, 35), extras=("mane",)),
    "baboon": _q(0.6, 0.75, (118, 106, 78), depth=0.55, slope=0.18, leg=0.09, neck=0.1,
                 neck_angle=20, neck_width=0.2, head=(0.26, 0.18), head_angle=-15,
                 face=(70, 60, 55), tail=0.55, tail_style="curl"),
    "bat": Body("flyer", 0.0, 0.09, (45, 38, 36), head=(0.03, 0.025), ears=0.02, tail=0.0),
    "batearedfox": _q(0.35, 0.5, (150, 140, 122), leg=0.04, neck=0.12, neck_angle=30,
                      head=(0.16, 0.1), head_angle=-15, ears=0.13, tail=0.3, tail_style="bushy",
                      legs=(50, 45, 42), face=(80, 72, 65)),
    "buffalo": _q(1.5, 2.2, (38, 34, 32), depth=0.6, slope=0.06, leg=0.16, neck=0.3,
                  neck_angle=5, neck_width=0.45, head=(0.55, 0.4), head_angle=-40, ears=0.22,
                  horns="buffalo", horn=0.75, tail=0.7, tail_style="tuft", grazer=True),
    "bushbuck": _q(0.8, 1.1, (150, 86, 46), leg=0.05, neck=0.35, neck_angle=50,
                   head=(0.26, 0.12), head_angle=-45, ears=0.12, horns="spiral", horn=0.35,
                   tail=0.2, belly=(120, 70, 40), patterns=("harness",),
                   pattern_colour=(238, 232, 218), grazer=True),
    "caracal": _q(0.45, 0.75, (182, 122, 72), leg=0.06, neck=0.15, neck_angle=30,
                  head=(0.18, 0.13), head_angle=-10, ears=0.11, tail=0.25, belly=(222, 200, 170)),
    "cattle": _q(1.3, 1.8, (150, 90, 55), depth=0.55, leg=0.13, neck=0.35, neck_angle=15,
                 neck_width=0.35, head=(0.5, 0.28), head_angle=-50, ears=0.15, horns="curved",
                 horn=0.4, tail=0.8, tail_style="tuft", extras=("hump",), grazer=True),
    "cheetah": _q(0.8, 1.15, (214, 178, 112), depth=0.38, slope=0.05, leg=0.05, neck=0.3,
                  neck_angle=25, neck_width=0.12, head=(0.2, 0.15), head_angle=-10, ears=0.05,
                  tail=0.75, tail_style="long", belly=(238, 226, 200), patterns=("spots",),
                  pattern_colour=(30, 26, 22)),
    "civet": _q(0.4, 0.8, (140, 134, 122), depth=0.55, leg=0.06, legs=BLACK, neck=0.12,
                neck_angle=20, head=(0.2, 0.12), head_angle=-20, ears=0.05, tail=0.45,
                tail_style="bushy", patterns=("spots", "bands"), pattern_colour=(35, 32, 30)),
    "dikdik": _q(0.38, 0.55, (150, 122, 94), leg=0.03, neck=0.2, neck_angle=55,
                 head=(0.16, 0.09), head_angle=-45, ears=0.07, horns="straight", horn=0.08,
                 tail=0.05, belly=(210, 196, 176), grazer=True),
    "duiker": _q(0.5, 0.75, (128, 100, 72), depth=0.55, slope=-0.1, leg=0.04, neck=0.22,
                 neck_angle=40, head=(0.2, 0.1), head_angle=-45, ears=0.07, horns="straight",
                 horn=0.1, tail=0.1, grazer=True),
    "eland": _q(1.6, 2.4, (192, 150, 104), depth=0.55, leg=0.12, neck=0.45, neck_angle=30,
                neck_width=0.35, head=(0.5, 0.24), head_angle=-50, ears=0.15, horns="spiral",
                horn=0.6, tail=0.6, tail_style="tuft", patterns=("bands",),
                pattern_colour=(232, 224, 206), extras=("dewlap",), grazer=True),
    "elephant": _q(3.0, 3.2, (122, 112, 106), depth=0.55, slope=0.04, leg=0.5, neck=0.15,
                   neck_angle=10, neck_width=1.0, head=(0.9, 1.1), head_angle=-15, ears=1.1,
                   tail=1.0, extras=("trunk", "tusks")),
    "gazellegrants": _q(0.85, 1.0, (204, 164, 114), depth=0.42, leg=0.045, neck=0.42,
                        neck_angle=55, neck_width=0.12, head=(0.24, 0.1), head_angle=-45,
                        ears=0.1, horns="lyre", horn=0.55, tail=0.2, belly=WHITE,
                        patterns=("rump",), pattern_colour=WHITE, grazer=True),
    "gazellethomsons": _q(0.65, 0.8, (188, 136, 80), depth=0.42, leg=0.035, neck=0.3,
                          neck_angle=55, neck_width=0.1, head=(0.2, 0.09), head_angle=-45,
                          ears=0.08, horns="straight", horn=0.3, tail=0.12, belly=WHITE,
                          patterns=("flank",), pattern_colour=(38, 30, 26), grazer=True),
    "genet": _q(0.2, 0.5, (196, 184, 160), depth=0.6, leg=0.03, neck=0.1, neck_angle=20,
                head=(0.12, 0.07), head_angle=-15, ears=0.04, tail=0.45, tail_style="long",
                patterns=("spots",), pattern_colour=(40, 34, 30)),
    "giraffe": _q(3.1, 2.0, (226, 194, 146), depth=0.3, slope=0.35, leg=0.14, neck=2.0,
                  neck_angle=62, neck_width=0.3, head=(0.6, 0.24), head_angle=-30, ears=0.15,
                  horns="ossicone", horn=0.16, tail=0.9, tail_style="tuft",
                  patterns=("patches",), pattern_colour=(152, 86, 42)),
    "guineafowl": _b(0.42, 0.45, (58, 62, 72), depth=0.75, slope=-0.2, leg=0.02, neck=0.1,
                     neck_angle=60, neck_width=0.05, head=(0.07, 0.05), head_angle=-20,
                     tail=0.12, tail_style="wedge", face=(80, 120, 180), patterns=("dots",),
                     pattern_colour=(222, 224, 230), extras=("wattle",), grazer=True),
    "hare": _q(0.25, 0.42, (152, 132, 102), depth=0.75, slope=-0.2, leg=0.04, neck=0.05,
               neck_angle=40, neck_width=0.1, head=(0.12, 0.08), head_angle=-20, ears=0.13,
               tail=0.05, belly=(205, 192, 170), grazer=True),
    "hartebeest": _q(1.25, 1.5, (184, 124, 74), depth=0.42, slope=0.25, leg=0.07, neck=0.45,
                     neck_angle=45, neck_width=0.18, head=(0.55, 0.17), head_angle=-65,
                     ears=0.12, horns="curved", horn=0.25, tail=0.45, tail_style="tuft",
                     belly=(206, 166, 124), grazer=True),
    "hippopotamus": _q(1.5, 3.3, (108, 92, 96), depth=0.75, leg=0.35, neck=0.15,
                       neck_angle=10, neck_width=0.8, head=(0.9, 0.65), head_angle=-20,
                       ears=0.08, tail=0.35, belly=(176, 124, 112), grazer=True),
    "honeybadger": _q(0.28, 0.7, BLACK, depth=0.7, leg=0.07, neck=0.08, neck_angle=10,
                      neck_width=0.15, head=(0.18, 0.12), head_angle=-20, tail=0.2,
                      patterns=("saddle",), pattern_colour=(206, 206, 198)),
    "hyenaspotted": _q(0.85, 1.15, (176, 150, 110), depth=0.5, slope=0.3, leg=0.08, neck=0.35,
                       neck_angle=25, neck_width=0.22, head=(0.35, 0.24), head_angle=-15,
                       ears=0.1, tail=0.3, tail_style="bushy", patterns=("spots",),
                       pattern_colour=(72, 56, 42)),
    "hyenastriped": _q(0.75, 1.0, (172, 166, 152), depth=0.5, slope=0.3, leg=0.07, neck=0.3,
                       neck_angle=25, neck_width=0.2, head=(0.3, 0.2), head_angle=-15, ears=0.13,
                       tail=0.35, tail_style="bushy", patterns=("bands",),
                       pattern_colour=(35, 32, 30), extras=("mane",)),
    "impala": _q(0.9, 1.25, (172, 102, 56), depth=0.42, leg=0.045, neck=0.4, neck_angle=50,
                 neck_width=0.13, head=(0.28, 0.12), head_angle=-45, ears=0.12, horns="lyre",
                 horn=0.6, tail=0.3, belly=WHITE, patterns=("saddle",),
                 pattern_colour=(140, 74, 40), grazer=True),
    "insectspider": Body("insect", 0.0, 0.035, (40, 36, 30), head=(0.01, 0.01), leg=0.003),
    "jackal": _q(0.45, 0.72, (170, 128, 84), leg=0.04, neck=0.18, neck_angle=30,
                 head=(0.22, 0.11), head_angle=-15, ears=0.09, tail=0.32, tail_style="bushy",
                 belly=(214, 196, 168), patterns=("saddle",), pattern_colour=(62, 58, 54)),
    "koribustard": _b(0.75, 0.8, (140, 124, 98), depth=0.5, leg=0.04, neck=0.5, neck_angle=70,
                      neck_width=0.08, head=(0.12, 0.07), head_angle=-5, tail=0.25,
                      tail_style="wedge", face=(176, 176, 170), extras=("crest",), grazer=True),
    "leopard": _q(0.7, 1.3, (204, 162, 92), depth=0.42, leg=0.07, neck=0.3, neck_angle=20,
                  head=(0.25, 0.18), head_angle=-10, ears=0.06, tail=0.9, tail_style="long",
                  belly=(232, 218, 190), patterns=("rosettes",), pattern_colour=(40, 30, 22)),
    "lionfemale": _q(1.0, 1.6, (198, 158, 98), depth=0.45, leg=0.1, neck=0.3, neck_angle=20,
                     neck_width=0.3, head=(0.38, 0.28), head_angle=-10, ears=0.08, tail=0.9,
                     tail_style="tuft", belly=(220, 196, 154)),
    "lionmale": _q(1.15, 1.9, (196, 150, 88), depth=0.45, leg=0.12, neck=0.3, neck_angle=20,
                   neck_width=0.35, head=(0.45, 0.33), head_angle=-10, ears=0.08, tail=1.0,
                   tail_style="tuft", belly=(216, 188, 146), extras=("mane",)),
    "mongoose": _q(0.2, 0.45, (112, 96, 76), depth=0.6, leg=0.03, neck=0.08, neck_angle=15,
                   head=(0.1, 0.06), head_angle=-15, ears=0.02, tail=0.35, tail_style="long",
                   patterns=("bands",), pattern_colour=(60, 50, 40)),
    "monkeyvervet": _q(0.32, 0.5, (150, 146, 126), depth=0.6, slope=0.12, leg=0.05, neck=0.06,
                       neck_angle=20, neck_width=0.1, head=(0.14, 0.12), head_angle=-10,
                       face=(42, 36, 36), tail=0.65, tail_style="curl"),
    "ostrich": _b(1.3, 1.1, (34, 32, 32), depth=0.45, slope=-0.1, leg=0.06, neck=0.9,
                  neck_angle=80, neck_width=0.08, head=(0.16, 0.08), head_angle=-5,
                  tail=0.3, tail_style="wedge", legs=(200, 164, 150), face=(196, 164, 152),
                  patterns=("rump",), pattern_colour=(240, 238, 232), grazer=True),
    "otherbird": _b(0.25, 0.28, (90, 96, 110), depth=0.6, slope=-0.25, leg=0.012, neck=0.05,
                    neck_angle=50, neck_width=0.05, head=(0.06, 0.045), head_angle=0,
                    tail=0.12, tail_style="wedge", grazer=True),
    "porcupine": _q(0.4, 0.75, (34, 30, 30), depth=0.85, slope=-0.15, leg=0.06, neck=0.06,
                    neck_angle=10, neck_width=0.15, head=(0.16, 0.12), head_angle=-30,
                    tail=0.1, patterns=("quills",), pattern_colour=(232, 228, 220)),
    "reedbuck": _q(0.85, 1.25, (182, 146, 98), depth=0.45, leg=0.05, neck=0.38, neck_angle=45,
                   head=(0.26, 0.12), head_angle=-45, ears=0.13, horns="curved", horn=0.3,
                   tail=0.2, tail_style="bushy", belly=WHITE, grazer=True),
    "reptiles": Body("crawler", 0.12, 0.55, (98, 98, 72), depth=0.6, leg=0.03,
                     head=(0.1, 0.05), tail=0.6, tail_style="long", patterns=("bands",),
                     pattern_colour=(60, 62, 44)),
    "rhinoceros": _q(1.6, 3.0, (132, 126, 120), depth=0.65, leg=0.3, neck=0.25, neck_angle=0,
                     neck_width=0.7, head=(0.75, 0.5), head_angle=-35, ears=0.15, horns="rhino",
                     horn=0.5, tail=0.5, grazer=True),
    "rodents": _q(0.08, 0.15, (124, 104, 84), depth=0.8, leg=0.015, neck=0.02, neck_angle=10,
                  neck_width=0.04, head=(0.05, 0.035), head_angle=-20, ears=0.015, tail=0.13,
                  tail_style="long"),
    "secretarybird": _b(1.05, 0.65, (176, 176, 172), depth=0.35, leg=0.025, legs=BLACK,
                        neck=0.35, neck_angle=70, neck_width=0.06, head=(0.12, 0.07),
                        head_angle=-10, tail=0.55, tail_style="wedge", face=(220, 120, 60),
                        extras=("crest",)),
    "serval": _q(0.58, 0.75, (204, 166, 100), depth=0.42, leg=0.05, neck=0.2, neck_angle=40,
                 head=(0.16, 0.12), head_angle=-10, ears=0.1, tail=0.3, belly=(230, 214, 180),
                 patterns=("spots",), pattern_colour=(32, 26, 22)),
    "steenbok": _q(0.5, 0.72, (196, 120, 70), depth=0.45, leg=0.03, neck=0.25, neck_angle=50,
                   head=(0.18, 0.09), head_angle=-40, ears=0.1, horns="straight", horn=0.12,
                   tail=0.05, belly=WHITE, grazer=True),
    "topi": _q(1.2, 1.55, (142, 70, 48), depth=0.45, slope=0.2, leg=0.07, neck=0.4,
               neck_angle=45, neck_width=0.18, head=(0.5, 0.17), head_angle=-60, ears=0.1,
               horns="curved", horn=0.35, tail=0.4, tail_style="tuft", legs=(150, 120, 80),
               face=(60, 40, 44), patterns=("saddle",), pattern_colour=(68, 44, 52),
               grazer=True),
    "vulture": _b(0.75, 0.75, (94, 72, 56), depth=0.75, slope=0.3, leg=0.04, neck=0.25,
                  neck_angle=25, neck_width=0.07, head=(0.13, 0.08), head_angle=-30, tail=0.25,
                  tail_style="wedge", face=(206, 186, 176), legs=(150, 140, 130)),
    "warthog": _q(0.7, 1.05, (98, 88, 82), depth=0.6, leg=0.07, neck=0.05, neck_angle=0,
                  neck_width=0.35, head=(0.42, 0.3), head_angle=-25, ears=0.08, tail=0.35,
                  tail_style="up", extras=("tusks", "mane"), grazer=True),
    "waterbuck": _q(1.25, 1.9, (116, 100, 84), depth=0.5, leg=0.1, neck=0.45, neck_angle=40,
                    neck_width=0.28, head=(0.42, 0.2), head_angle=-45, ears=0.15,
                    horns="curved", horn=0.6, tail=0.4, tail_style="tuft",
                    patterns=("rump",), pattern_colour=WHITE, grazer=True),
    "wildcat": _q(0.35, 0.6, (142, 128, 102), depth=0.5, leg=0.04, neck=0.12, neck_angle=30,
                  head=(0.14, 0.1), head_angle=-10, ears=0.05, tail=0.32, tail_style="long",
                  patterns=("bands",), pattern_colour=(80, 70, 58)),
    "wildebeest": _q(1.3, 1.7, (96, 94, 96), depth=0.48, slope=0.14, leg=0.09, neck=0.45,
                     neck_angle=30, neck_width=0.32, head=(0.58, 0.24), head_angle=-65,
                     ears=0.1, horns="curved", horn=0.4, tail=0.7, tail_style="tuft",
                     legs=(76, 70, 66), face=(50, 46, 46), patterns=("bands",),
                     pattern_colour=(80, 78, 82), extras=("mane", "beard"), grazer=True),
    "zebra": _q(1.35, 1.5, (238, 234, 226), depth=0.52, leg=0.09, neck=0.6, neck_angle=45,
                neck_width=0.3, head=(0.55, 0.22), head_angle=-55, ears=0.16, tail=0.6,
                tail_style="tuft", patterns=("stripes",), pattern_colour=(22, 20, 20),
                extras=("mane",), grazer=True),
    "zorilla": _q(0.15, 0.35, BLACK, depth=0.7, leg=0.025, neck=0.05, neck_angle=10,
                  head=(0.08, 0.06), head_angle=-15, ears=0.02, tail=0.25, tail_style="bushy",
                  patterns=("lines",), pattern_colour=(236, 236, 230)),
}  # fmt: skip

# Group sizes, distances and activity shape the images; weights shape the label frequencies.
ECOLOGY: dict[str, Ecology] = {
    "wildebeest": Ecology(0.330, "any", 4.0, 14, (4, 55), herd=True, migratory=True,
                          companions=("zebra", "gazellethomsons")),
    "zebra": Ecology(0.185, "day", 3.0, 10, (4, 50), herd=True, migratory=True,
                     companions=("wildebeest",)),
    "gazellethomsons": Ecology(0.140, "day", 3.5, 12, (3, 40), herd=True, migratory=True,
                               companions=("gazellegrants", "wildebeest")),
    "buffalo": Ecology(0.050, "any", 3.0, 10, (5, 50), herd=True, speed=0.9,
                       companions=("otherbird",)),
    "hartebeest": Ecology(0.042, "day", 1.8, 6, (4, 45), herd=True, companions=("topi",)),
    "elephant": Ecology(0.040, "any", 2.2, 8, (7, 60), herd=True, speed=1.0),
    "impala": Ecology(0.032, "day", 3.0, 10, (4, 40), herd=True, companions=("baboon",)),
    "gazellegrants": Ecology(0.030, "day", 2.2, 8, (3, 40), herd=True,
                             companions=("gazellethomsons",)),
    "giraffe": Ecology(0.026, "day", 1.6, 5, (7, 60), herd=True, speed=1.0,
                       companions=("zebra", "impala")),
    "warthog": Ecology(0.020, "day", 1.8, 5, (3, 30)),
    "guineafowl": Ecology(0.018, "day", 5.0, 14, (2, 18), speed=0.6),
    "otherbird": Ecology(0.018, "day", 1.5, 6, (1.5, 15), speed=0.4),
    "hyenaspotted": Ecology(0.015, "night", 1.4, 4, (3, 35)),
    "lionfemale": Ecology(0.011, "night", 1.8, 5, (3, 35), speed=0.9),
    "topi": Ecology(0.008, "day", 1.6, 5, (4, 45), companions=("hartebeest",)),
    "eland": Ecology(0.007, "day", 2.0, 6, (6, 50), herd=True),
    "baboon": Ecology(0.007, "day", 2.5, 8, (3, 30), speed=0.8),
    "reedbuck": Ecology(0.006, "dusk", 1.2, 3, (3, 30)),
    "dikdik": Ecology(0.005, "dusk", 1.3, 2, (2, 15)),
    "koribustard": Ecology(0.005, "day", 1.1, 2, (3, 25), speed=0.6),
    "lionmale": Ecology(0.004, "night", 1.2, 2, (3, 35), speed=0.9,
                        companions=("lionfemale",)),
    "ostrich": Ecology(0.003, "day", 1.4, 4, (6, 50)),
    "hippopotamus": Ecology(0.002, "night", 1.3, 3, (5, 40), speed=0.8),
    "jackal": Ecology(0.002, "dusk", 1.2, 2, (3, 25)),
    "cheetah": Ecology(0.002, "day", 1.3, 3, (4, 35)),
    "mongoose": Ecology(0.002, "day", 2.5, 8, (1.5, 12), speed=0.8),
    "secretarybird": Ecology(0.0015, "day", 1.0, 1, (4, 30), speed=0.8),
    "serval": Ecology(0.0012, "dusk", 1.0, 1, (3, 25)),
    "hare": Ecology(0.0012, "night", 1.0, 1, (1.5, 12), speed=1.0),
    "porcupine": Ecology(0.001, "night", 1.0, 2, (1.5, 15), speed=0.5),
    "aardvark": Ecology(0.001, "night", 1.0, 1, (2, 20), speed=0.7),
    "vulture": Ecology(0.001, "day", 1.8, 5, (4, 35), speed=0.5),
    "bushbuck": Ecology(0.001, "dusk", 1.0, 1, (3, 25)),
    "waterbuck": Ecology(0.0008, "day", 1.5, 4, (5, 45)),
    "leopard": Ecology(0.0006, "night", 1.0, 1, (3, 30)),
    "monkeyvervet": Ecology(0.0006, "day", 2.0, 5, (2, 20), speed=0.8),
    "batearedfox": Ecology(0.0005, "night", 1.5, 3, (2, 20)),
    "cattle": Ecology(0.0005, "day", 5.0, 14, (5, 50), speed=0.9),
    "honeybadger": Ecology(0.0004, "night", 1.0, 1, (2, 20)),
    "aardwolf": Ecology(0.0004, "night", 1.0, 1, (2, 20)),
    "rodents": Ecology(0.0004, "night", 1.0, 2, (0.8, 5), speed=0.5),
    "reptiles": Ecology(0.0003, "day", 1.0, 1, (1.0, 8), speed=0.3),
    "civet": Ecology(0.0003, "night", 1.0, 1, (2, 18)),
    "genet": Ecology(0.0003, "night", 1.0, 1, (1.5, 15)),
    "insectspider": Ecology(0.0003, "any", 1.0, 1, (0.25, 0.6), speed=0.02),
    "hyenastriped": Ecology(0.0002, "night", 1.0, 1, (3, 25)),
    "wildcat": Ecology(0.0002, "night", 1.0, 1, (2, 18)),
    "caracal": Ecology(0.0002, "dusk", 1.0, 1, (3, 25)),
    "bat": Ecology(0.0002, "night", 1.0, 2, (0.8, 4), speed=4.0),
    "duiker": Ecology(0.0002, "dusk", 1.0, 1, (2, 20)),
    "rhinoceros": Ecology(0.0001, "any", 1.0, 2, (6, 45), speed=0.9),
    "steenbok": Ecology(0.0002, "day", 1.0, 1, (3, 25)),
    "zorilla": Ecology(0.0001, "night", 1.0, 1, (1.5, 12)),
}  # fmt: skip

SPECIES: tuple[str, ...] = tuple(c for c in CLASSES if c != EMPTY)

# Per-individual looks for species whose members differ a lot (cattle coats, bird species).
CATTLE_COATS: tuple[RGB, ...] = ((150, 90, 55), (40, 36, 34), (232, 226, 214), (120, 70, 45))
BIRD_COLOURS: tuple[RGB, ...] = (
    (40, 70, 120), (30, 30, 34), (200, 196, 186), (150, 110, 70), (60, 110, 90), (170, 60, 50),
)  # fmt: skip
# Species whose males carry horns or a mane and females do not (about half of those seen).
HORNED_MALES_ONLY: frozenset[str] = frozenset(
    {"impala", "reedbuck", "waterbuck", "bushbuck", "steenbok"}
)


def check_tables() -> None:
    """Every species has a body and an ecology and the class list is the competition's."""
    assert len(CLASSES) == 54 and CLASSES.index(EMPTY) == 15
    assert list(CLASSES) == sorted(CLASSES)
    assert set(BODIES) == set(SPECIES) == set(ECOLOGY)
    for name, eco in ECOLOGY.items():
        assert eco.activity in {"day", "night", "dusk", "any"}, name
        assert all(c in ECOLOGY for c in eco.companions), name
