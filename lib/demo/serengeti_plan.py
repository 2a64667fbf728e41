"""Everything about the Serengeti demo that is decided before any pixel is drawn.

Planning runs in the parent process from generators seeded by (seed, purpose, index), so the
CSVs, the truth table and every image's content never depend on how the process pool
schedules rendering. The story it tells follows the real survey: a grid of camera sites with
2-D positions, seasons S1-S11 in calendar order (S11 held out as the test set), rolls and
capture numbers per site, about 70% empty triggers (heat and wind, mostly by day), species
drawn from a long-tailed mix whose shares depend on the hour (nocturnal species at night) and
the month (the migration), and herds that trigger several neighbouring cameras within
seconds to minutes of each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import numpy as np

from lib.demo.serengeti_bodies import Camera, Individual, Pose, animal_shapes, box_of
from lib.demo.serengeti_species import (
    BIRD_COLOURS,
    BODIES,
    CATTLE_COATS,
    CLASSES,
    ECOLOGY,
    EMPTY,
    SPECIES,
)

FULL_SIZE = (2048, 1536)
TEST_SEASON = 11


@dataclass(frozen=True)
class Season:
    number: int
    start: date
    days: int
    weight: float  # share of the demo's sequences (S9-S11 are larger: stacking needs them)

    @property
    def split(self) -> str:
        return "test" if self.number == TEST_SEASON else "train"


# In calendar order like the real survey (2010-2016); months differ, so the migration and
# the state of the grass differ between seasons.
SEASONS: tuple[Season, ...] = (
    Season(1, date(2010, 7, 1), 80, 1.0),
    Season(2, date(2010, 10, 2), 82, 1.0),
    Season(3, date(2011, 1, 10), 90, 1.0),
    Season(4, date(2011, 6, 1), 90, 1.0),
    Season(5, date(2012, 3, 1), 92, 1.0),
    Season(6, date(2012, 11, 10), 90, 1.0),
    Season(7, date(2013, 6, 15), 95, 1.0),
    Season(8, date(2014, 2, 1), 95, 1.0),
    Season(9, date(2014, 10, 5), 100, 2.2),
    Season(10, date(2015, 5, 20), 100, 2.2),
    Season(11, date(2016, 3, 15), 100, 2.2),
)
SEASON_BY_NUMBER = {s.number: s for s in SEASONS}

HABITATS = ("plains", "woodland", "kopje", "riverine")
HABITAT_WEIGHTS = (0.35, 0.35, 0.15, 0.15)
GRID_KM = 2.0  # spacing of the camera grid (the real one is about 5 km² per camera)
NEIGHBOUR_KM = 3.2  # cameras this close can see the same herd
HERD_EVENT_SHARE = 0.22  # share of herd-species visits that pass several cameras
SECOND_SPECIES = 0.06  # share of animal visits with a second species
SHOTS = (1, 2, 3)
SHOT_WEIGHTS = (0.12, 0.08, 0.80)
SUNRISE, SUNSET = 6.5, 19.0  # near the equator, the same all year
MIN_GAP = timedelta(seconds=45)  # a camera re-arms before it can trigger again
SENSOR_M, SENSOR_NIGHT_M = 28.0, 14.0  # farthest triggering animal by day and by night
STRIP_SHARE = {"light": 0.066, "dark": 0.055}  # information strip rows per image height


@dataclass(frozen=True)
class Site:
    """One camera: its place on the grid and everything its fixed view is drawn from."""

    index: int
    site_id: str  # grid cell, e.g. "B04"
    x_km: float
    y_km: float
    habitat: str
    camera: Camera
    tufts: bool  # tall grass in front of the lens (sways in the wind)
    brand: str  # information strip style ("light" or "dark")
    seed: tuple[int, ...]


@dataclass(frozen=True)
class Shot:
    when: datetime
    gains: tuple[float, float, float]  # light per channel (equal at night)
    sway: int  # pixels the wind shifts the foreground grass
    damage: str  # "", "truncated" or "empty": a file the camera or the copy broke


@dataclass(frozen=True)
class Animal:
    individual: Individual
    poses: tuple[Pose, ...]  # one per shot


@dataclass(frozen=True)
class Sequence:
    """One capture: 1-3 shots at one site, with everything needed to draw them."""

    season: int
    site: Site
    roll: int
    capture: int
    first_pict: int
    shots: tuple[Shot, ...]
    night: bool
    greenness: float  # 0 dry grass .. 1 green
    temperature: int
    cloud: bool  # a cloud shadow drifts over the scene between shots
    animals: tuple[Animal, ...]
    species: tuple[str, ...]  # labelled species in class order (empty: none)
    event: int  # herd/visit/empty event number; shared by the sequences of one herd
    kind: str  # "empty", "visit" or "herd"
    seed: tuple[int, ...]

    @property
    def split(self) -> str:
        return SEASON_BY_NUMBER[self.season].split

    @property
    def seq_id(self) -> str:
        return f"SER_S{self.season}#{self.site.site_id}#{self.roll}#{self.capture}"

    @property
    def file_names(self) -> tuple[str, ...]:
        s, site, r = self.season, self.site.site_id, self.roll
        return tuple(
            f"S{s}/{site}/{site}_R{r}/S{s}_{site}_R{r}_PICT{self.first_pict + k:04d}.JPG"
            for k in range(len(self.shots))
        )

    @property
    def labels(self) -> tuple[int, ...]:
        present = set(self.species) or {EMPTY}
        return tuple(int(c in present) for c in CLASSES)


@dataclass(frozen=True)
class Draft:
    """A sequence before rolls and capture numbers are known."""

    season: int
    site: Site
    when: datetime
    species: tuple[str, ...]
    event: int
    kind: str
    herd: bool  # animals move as a migrating herd (walking or running through)


# ---------------------------------------------------------------- sites


def default_sites(sequences: int) -> int:
    """About 30 sequences per camera: enough repeats of each view, enough views."""
    return int(min(36, max(4, round(sequences / 30))))


def make_sites(seed: int, count: int, image_size: tuple[int, int]) -> list[Site]:
    """Cameras on a compact block of the grid (rows B.., columns 03..), a few cells without
    a camera, positions jittered within their cell."""
    rng = np.random.default_rng([seed, 1])
    columns = max(2, math.ceil(math.sqrt(count / 0.85)))
    cells = [(r, c) for r in range(math.ceil(count / 0.85 / columns) + 1) for c in range(columns)]
    chosen = sorted(rng.choice(len(cells), size=count, replace=False).tolist())
    width, height = image_size
    sites = []
    for index, cell in enumerate(chosen):
        row, col = cells[cell]
        site_rng = np.random.default_rng([seed, 1, index])
        brand = "light" if site_rng.random() < 0.7 else "dark"
        strip = strip_rows(brand, height)
        camera = Camera(
            width=width,
            height=height,
            focal=float(site_rng.uniform(0.85, 1.05)) * width,
            horizon=float(site_rng.uniform(0.3, 0.48)) * height,
            elevation=float(site_rng.uniform(0.5, 0.9)),
            strip=strip,
        )
        sites.append(
            Site(
                index=index,
                site_id=f"{chr(ord('B') + row)}{col + 3:02d}",
                x_km=round((col + float(site_rng.uniform(-0.25, 0.25))) * GRID_KM, 3),
                y_km=round((row + float(site_rng.uniform(-0.25, 0.25))) * GRID_KM, 3),
                habitat=str(site_rng.choice(HABITATS, p=HABITAT_WEIGHTS)),
                camera=camera,
                tufts=bool(site_rng.random() < 0.6),
                brand=brand,
                seed=(seed, 2, index),
            )
        )
    return sorted(sites, key=lambda s: s.site_id)


def strip_rows(brand: str, height: int) -> int:
    """Height of the information strip; the real DLC strip is 102 of 1536 rows."""
    return max(6, round(STRIP_SHARE[brand] * height))


def neighbours(sites: list[Site], site: Site) -> list[Site]:
    """Other cameras within NEIGHBOUR_KM, nearest first."""
    near = [
        (math.dist((s.x_km, s.y_km), (site.x_km, site.y_km)), s.site_id, s)
        for s in sites
        if s is not site
    ]
    return [s for d, _, s in sorted(near) if d <= NEIGHBOUR_KM]


# ---------------------------------------------------------------- calendar and counts


def season_counts(sequences: int) -> dict[int, int]:
    """Sequences per season by weight (largest remainder), at least two per season."""
    weights = np.array([s.weight for s in SEASONS])
    spare = sequences - 2 * len(SEASONS)
    raw = spare * weights / weights.sum()
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts), kind="stable")[: spare - counts.sum()]:
        counts[i] += 1
    return {s.number: int(2 + c) for s, c in zip(SEASONS, counts, strict=True)}


def greenness(month: int) -> float:
    """State of the grass: green in the long and short rains, dry from July to October."""
    if month in (12, 1, 2, 3, 4, 5):
        return 1.0
    return 0.5 if month in (6, 11) else 0.0


def migration(month: int) -> float:
    """Multiplier for migratory species: the herds are around in the wet season."""
    return 1.7 if greenness(month) == 1.0 else (1.0 if greenness(month) == 0.5 else 0.35)


def sun(hour: float) -> float:
    """Sun elevation as 0 (below the horizon) .. 1 (noon)."""
    if hour < SUNRISE or hour >= SUNSET:
        return 0.0
    return math.sin(math.pi * (hour - SUNRISE) / (SUNSET - SUNRISE))


HOURS = np.arange(24) + 0.5
ACTIVITY: dict[str, np.ndarray] = {
    "day": np.array([0.08 + sun(h) for h in HOURS]),
    "night": np.array([1.0 if sun(h) == 0 else 0.06 + 0.3 * (sun(h) < 0.3) for h in HOURS]),
    "dusk": np.array(
        [0.15 + (0.8 if 0 < sun(h) < 0.45 else 0) + 0.3 * (sun(h) == 0) for h in HOURS]
    ),
    "any": np.array([0.6 + 0.4 * sun(h) for h in HOURS]),
    # empty triggers: heat shimmer and wind by day, much rarer at night
    "empty": np.array([0.12 + 1.2 * sun(h) ** 1.5 for h in HOURS]),
}


def draw_day(rng: np.random.Generator, season: Season) -> date:
    return season.start + timedelta(days=int(rng.integers(0, season.days)))


def draw_time(rng: np.random.Generator, day: date, activity: str) -> datetime:
    """A time of day on `day` that follows an activity pattern (see ACTIVITY)."""
    weights = ACTIVITY[activity] / ACTIVITY[activity].sum()
    second = int(rng.choice(24, p=weights)) * 3600 + int(rng.integers(0, 3600))
    return datetime.combine(day, datetime.min.time()) + timedelta(seconds=second)


def hour_of(when: datetime) -> float:
    return when.hour + when.minute / 60 + when.second / 3600


def is_night(when: datetime) -> bool:
    return sun(hour_of(when)) == 0.0


# ---------------------------------------------------------------- events


# Species that favour a habitat are seen more often at its cameras (and others less), so a
# site's own history is informative, as it is in the real survey.
HABITAT_AFFINITY: dict[str, dict[str, float]] = {
    "plains": {"gazellethomsons": 1.8, "gazellegrants": 1.6, "wildebeest": 1.3, "ostrich": 2.0,
               "koribustard": 2.0, "topi": 1.5, "cheetah": 2.0, "jackal": 1.6, "hare": 1.5,
               "secretarybird": 2.0, "impala": 0.4, "giraffe": 0.5, "dikdik": 0.2,
               "bushbuck": 0.2, "baboon": 0.4, "monkeyvervet": 0.3},
    "woodland": {"impala": 2.0, "giraffe": 1.8, "elephant": 1.5, "dikdik": 2.5, "buffalo": 1.2,
                 "guineafowl": 1.5, "warthog": 1.3, "gazellethomsons": 0.5, "ostrich": 0.4,
                 "koribustard": 0.5},
    "kopje": {"baboon": 2.5, "leopard": 3.0, "monkeyvervet": 1.5, "reptiles": 3.0,
              "rodents": 2.5, "mongoose": 2.0, "lionfemale": 1.5, "lionmale": 1.5,
              "porcupine": 2.0, "vulture": 1.5},
    "riverine": {"hippopotamus": 5.0, "waterbuck": 4.0, "bushbuck": 4.0, "reedbuck": 2.5,
                 "buffalo": 1.6, "elephant": 1.5, "monkeyvervet": 3.0, "baboon": 1.5,
                 "otherbird": 1.5, "gazellethomsons": 0.4, "gazellegrants": 0.5},
}  # fmt: skip


def species_weights(month: int, habitat: str, herd_only: bool = False) -> np.ndarray:
    """Probability of each species for a visit in `month` at a camera in `habitat`."""
    affinity = HABITAT_AFFINITY[habitat]
    weights = np.array(
        [
            ECOLOGY[s].weight
            * (migration(month) if ECOLOGY[s].migratory else 1.0)
            * affinity.get(s, 1.0)
            for s in SPECIES
        ]
    )
    if herd_only:
        weights *= np.array([ECOLOGY[s].herd for s in SPECIES], dtype=float)
    return weights / weights.sum()


def plan_events(
    seed: int, sites: list[Site], counts: dict[int, int], empty_share: float
) -> list[Draft]:
    """Empty triggers, single-camera visits and multi-camera herd passages for every season."""
    drafts: list[Draft] = []
    event = 0
    for season in SEASONS:
        rng = np.random.default_rng([seed, 3, season.number])
        active = [s for s in sites if rng.random() < 0.9] or sites[:1]
        total = counts[season.number]
        share = float(np.clip(empty_share + rng.normal(0, 0.025), 0.0, 1.0))
        wanted = round((1 - share) * total)
        if 0 < empty_share < 1 and total >= 2:
            wanted = min(total - 1, max(1, wanted))
        made = 0
        force_herd = season.number >= 9  # the stacking and the test seasons need herds
        while made < wanted:
            site = active[int(rng.integers(len(active)))]
            day = draw_day(rng, season)
            near = [s for s in neighbours(sites, site) if s in active]
            herd_possible = bool(near) and wanted - made >= 2
            weights = species_weights(day.month, site.habitat)
            if force_herd and herd_possible:
                herd_weights = species_weights(day.month, site.habitat, herd_only=True)
                main = SPECIES[int(rng.choice(len(SPECIES), p=herd_weights))]
            else:
                main = SPECIES[int(rng.choice(len(SPECIES), p=weights))]
            eco = ECOLOGY[main]
            when = draw_time(rng, day, eco.activity)
            species = [main]
            if rng.random() < SECOND_SPECIES:
                species.append(_companion(rng, main, weights))
            herd = herd_possible and eco.herd and (force_herd or rng.random() < HERD_EVENT_SHARE)
            cameras = [site]
            if herd:
                force_herd = False
                extra = int(rng.integers(1, min(3, len(near), wanted - made - 1) + 1))
                cameras += near[:extra]
            for k, camera in enumerate(cameras):
                delay = 0.0 if k == 0 else _herd_delay(rng, site, camera)
                kept = [s for j, s in enumerate(species) if j == 0 or k == 0 or rng.random() < 0.6]
                drafts.append(
                    Draft(
                        season=season.number,
                        site=camera,
                        when=when + timedelta(seconds=round(delay)),
                        species=_in_class_order(kept),
                        event=event,
                        kind="herd" if herd else "visit",
                        herd=herd,
                    )
                )
            made += len(cameras)
            event += 1
        for _ in range(total - made):
            site = active[int(rng.integers(len(active)))]
            when = draw_time(rng, draw_day(rng, season), "empty")
            drafts.append(Draft(season.number, site, when, (), event, "empty", False))
            event += 1
    return drafts


def _companion(rng: np.random.Generator, main: str, weights: np.ndarray) -> str:
    """A second species: a usual companion when the main one has any, else any other."""
    options = ECOLOGY[main].companions
    if options and rng.random() < 0.8:
        return options[int(rng.integers(len(options)))]
    others = weights.copy()
    others[SPECIES.index(main)] = 0
    return SPECIES[int(rng.choice(len(SPECIES), p=others / others.sum()))]


def _herd_delay(rng: np.random.Generator, first: Site, other: Site) -> float:
    """Seconds until the herd reaches a neighbouring camera: mostly within a minute or two."""
    km = math.dist((first.x_km, first.y_km), (other.x_km, other.y_km))
    return float(km * rng.uniform(4.0, 40.0) + abs(rng.normal(0, 8.0))) * rng.choice([-1, 1])


def _in_class_order(species: list[str]) -> tuple[str, ...]:
    return tuple(sorted(set(species), key=CLASSES.index))


# ---------------------------------------------------------------- whole demo


@dataclass(frozen=True)
class Demo:
    sites: tuple[Site, ...]
    sequences: tuple[Sequence, ...]  # in table order (season, site, roll, capture)


def plan_demo(
    seed: int,
    sequences: int,
    image_size: tuple[int, int] = FULL_SIZE,
    empty_share: float = 0.7,
    broken_share: float = 0.002,
    sites: int | None = None,
) -> Demo:
    site_list = make_sites(seed, sites or default_sites(sequences), image_size)
    drafts = plan_events(seed, site_list, season_counts(sequences), empty_share)
    drafts = _spread_per_camera(drafts)
    sequences_out = _number(seed, drafts)
    sequences_out = _break_files(seed, sequences_out, broken_share)
    return Demo(tuple(site_list), tuple(sequences_out))


def _spread_per_camera(drafts: list[Draft]) -> list[Draft]:
    """A camera cannot trigger again while it re-arms: push later triggers back."""
    out: list[Draft] = []
    key = lambda d: (d.season, d.site.site_id, d.when, d.event)  # noqa: E731
    last: dict[tuple[int, str], datetime] = {}
    for draft in sorted(drafts, key=key):
        slot = (draft.season, draft.site.site_id)
        when = draft.when
        if slot in last and when < last[slot] + MIN_GAP:
            when = last[slot] + MIN_GAP
        last[slot] = when
        out.append(
            Draft(
                draft.season, draft.site, when, draft.species, draft.event, draft.kind, draft.herd
            )
        )
    return out


def _number(seed: int, drafts: list[Draft]) -> list[Sequence]:
    """Rolls (the camera was serviced every few weeks), capture numbers from 1 per roll and
    image numbers (PICT) running on through a roll; then plan each sequence's content."""
    by_camera: dict[tuple[int, str], list[Draft]] = {}
    for draft in drafts:
        by_camera.setdefault((draft.season, draft.site.site_id), []).append(draft)
    out: list[Sequence] = []
    for (season_no, site_id), group in sorted(by_camera.items()):
        season = SEASON_BY_NUMBER[season_no]
        rng = np.random.default_rng([seed, 4, season_no, _site_number(site_id)])
        services, day = [], 0.0
        while True:
            day += float(rng.uniform(25, 45))
            if day >= season.days - 5:
                break
            services.append(
                datetime.combine(season.start, datetime.min.time()) + timedelta(days=day)
            )
        group = sorted(group, key=lambda d: d.when)
        periods = [sum(d.when >= s for s in services) for d in group]
        rolls = {p: k + 1 for k, p in enumerate(sorted(set(periods)))}  # R1, R2.. with images
        capture: dict[int, int] = {}
        pict: dict[int, int] = {}
        for draft, period in zip(group, periods, strict=True):
            roll = rolls[period]
            capture[roll] = capture.get(roll, 0) + 1
            content_seed = (seed, 5, season_no, _site_number(site_id), roll, capture[roll])
            sequence = plan_sequence(
                draft, roll, capture[roll], pict.get(roll, 0) + 1, content_seed
            )
            pict[roll] = pict.get(roll, 0) + len(sequence.shots)
            out.append(sequence)
    return out


def _site_number(site_id: str) -> int:
    return (ord(site_id[0]) - ord("A")) * 100 + int(site_id[1:])


def plan_sequence(
    draft: Draft, roll: int, capture: int, first_pict: int, seed: tuple[int, ...]
) -> Sequence:
    rng = np.random.default_rng(list(seed))
    shots_n = int(rng.choice(SHOTS, p=SHOT_WEIGHTS))
    offsets = [0]
    for _ in range(shots_n - 1):
        offsets.append(offsets[-1] + int(rng.choice([0, 1, 2], p=[0.15, 0.75, 0.10])))
    night = is_night(draft.when)
    elevation = sun(hour_of(draft.when))
    cloudiness = float(rng.uniform(0.85, 1.05))
    flash = float(rng.uniform(0.85, 1.15))
    windy = float(rng.uniform(0.2, 1.0))
    pad = max(2, round(0.004 * draft.site.camera.width))
    shots = []
    for offset in offsets:
        if night:
            g = flash * float(rng.normal(1.0, 0.015))  # the flash recharges unevenly
            gains = (g, g, g)
        else:
            g = (0.55 + 0.6 * elevation**0.5) * cloudiness * float(rng.normal(1.0, 0.01))
            warm = 1.0 - elevation
            gains = (g * (1 + 0.12 * warm), g, g * (1 - 0.18 * warm))
        sway = int(np.clip(round(rng.normal(0, windy * pad / 2.5)), -pad, pad))
        shots.append(
            Shot(
                draft.when + timedelta(seconds=offset),
                tuple(round(v, 4) for v in gains),  # type: ignore[arg-type]
                sway if draft.site.tufts else 0,
                "",
            )
        )
    temperature = round(float(15 + 12 * elevation + rng.normal(0, 1.5)))
    animals = []
    for k, name in enumerate(draft.species):
        animals += plan_group(rng, draft, name, offsets, lead=k == 0)
    animals.sort(key=lambda a: -a.poses[len(a.poses) // 2].z)  # far to near
    return Sequence(
        season=draft.season,
        site=draft.site,
        roll=roll,
        capture=capture,
        first_pict=first_pict,
        shots=tuple(shots),
        night=night,
        greenness=greenness(draft.when.month),
        temperature=temperature,
        cloud=not night and rng.random() < 0.12,
        animals=tuple(animals),
        species=draft.species,
        event=draft.event,
        kind=draft.kind,
        seed=seed,
    )


def plan_group(
    rng: np.random.Generator, draft: Draft, name: str, offsets: list[int], lead: bool
) -> list[Animal]:
    """A group of one species: where it stands, which way it moves and how fast.

    The first individual is at the group's centre and in the frame at the middle shot, so a
    labelled species is always visible in at least one shot; the others spread around it and
    may walk in or out of the frame between shots.
    """
    eco, body = ECOLOGY[name], BODIES[name]
    cam = draft.site.camera
    count = 1 + int(rng.poisson(max(0.0, eco.group - 1)))
    if draft.herd:
        count += int(rng.integers(0, 3))
    count = min(count, eco.group_max)
    if not lead:
        count = max(1, count // 2)
    near, far = eco.distance
    visible_ground = cam.focal * cam.elevation / max(1.0, cam.height - cam.strip - cam.horizon)
    if body.kind not in {"insect", "flyer"}:
        near = max(near, (1.0 if body.shoulder < 1.0 else 0.6) * visible_ground)
    far = max(far, near * 1.2)
    # The motion sensor fires for a warm body within ~25 m (the flash reaches ~15 m at
    # night); companions of the animal that triggered it may stand further out.
    reach = far if not lead else min(far, SENSOR_NIGHT_M if is_night(draft.when) else SENSOR_M)
    z0 = float(np.exp(rng.uniform(np.log(near), np.log(max(reach, near * 1.1)))))
    behaviour = _behaviour(rng, body.grazer, draft.herd)
    facing = 1 if rng.random() < 0.5 else -1
    speed = {
        "graze": rng.uniform(0.0, 0.25),
        "walk": eco.speed * rng.uniform(0.7, 1.3),
        "run": eco.speed * rng.uniform(3.0, 5.0),
        "stand": 0.0,
    }[behaviour]
    mid = offsets[len(offsets) // 2]
    u = float(rng.uniform(-0.8, 0.8))
    out = []
    for i in range(count):
        if i == 0:
            z, x = z0, u * (cam.width / 2) * z0 / cam.focal
        else:
            z = float(np.clip(z0 * np.exp(rng.normal(0, 0.3)), near, far * 1.2))
            x = u * (cam.width / 2) * z0 / cam.focal + float(rng.normal(0, 1.5 + 0.6 * count))
        own_speed = float(speed) * float(rng.uniform(0.85, 1.15))
        own_facing = facing if rng.random() < 0.9 or behaviour != "graze" else -facing
        phase0 = float(rng.uniform(0, 2 * math.pi))
        lift = 0.0
        if body.kind in {"insect", "flyer"}:
            target = rng.uniform(0.25, 0.75) * (cam.height - cam.strip)
            lift = max(0.0, (cam.ground_row(z) - target) * z / cam.focal)
        stride = {"graze": 0.03, "walk": 0.16, "run": 0.32, "stand": 0.0}[behaviour]
        cadence = {"graze": 0.3, "walk": 1.0, "run": 2.4, "stand": 0.0}[behaviour]
        grazing = behaviour == "graze"
        poses = tuple(
            Pose(
                x=round(x + own_facing * own_speed * (t - mid), 4),
                z=round(z, 4),
                facing=own_facing,
                phase=round(phase0 + 2 * math.pi * cadence * t, 4),
                stride=stride,
                head_down=bool(grazing and rng.random() < 0.7),
                lift=round(lift, 4),
            )
            for t in offsets
        )
        out.append(Animal(_individual(rng, name), poses))
    return out


def _behaviour(rng: np.random.Generator, grazer: bool, herd: bool) -> str:
    if herd:
        return str(rng.choice(["walk", "run", "graze"], p=[0.65, 0.25, 0.10]))
    if grazer:
        return str(rng.choice(["walk", "graze", "run", "stand"], p=[0.45, 0.38, 0.07, 0.10]))
    return str(rng.choice(["walk", "run", "stand"], p=[0.72, 0.08, 0.20]))


def _individual(rng: np.random.Generator, name: str) -> Individual:
    body, eco = BODIES[name], ECOLOGY[name]
    scale = float(np.clip(rng.normal(1.0, 0.06), 0.85, 1.15))
    if eco.group > 1.5 and rng.random() < 0.12:
        scale *= 0.62  # a calf or juvenile
    if name == "cattle":
        colour = CATTLE_COATS[int(rng.integers(len(CATTLE_COATS)))]
    elif name == "otherbird":
        colour = BIRD_COLOURS[int(rng.integers(len(BIRD_COLOURS)))]
    else:
        colour = body.colour
    jitter = float(rng.uniform(0.93, 1.07))
    colour = tuple(min(255, round(c * jitter)) for c in colour)  # type: ignore[assignment]
    return Individual(
        name, round(scale, 4), int(rng.integers(0, 2**31 - 1)), bool(rng.random() < 0.5), colour
    )


def _break_files(seed: int, sequences: list[Sequence], share: float) -> list[Sequence]:
    """Damage a few files as real collections have them: truncated copies and empty files,
    plus one test sequence with no readable image at all (the write-up falls back to class
    priors for those)."""
    if share <= 0:
        return sequences
    rng = np.random.default_rng([seed, 6])
    images = [(i, k) for i, s in enumerate(sequences) for k in range(len(s.shots))]
    count = max(1, round(share * len(images)))
    chosen = {
        images[j]: ("truncated" if rng.random() < 0.7 else "empty")
        for j in rng.choice(len(images), size=min(count, len(images)), replace=False)
    }
    tests = [i for i, s in enumerate(sequences) if s.split == "test"]
    if len(tests) > 1:
        whole = tests[int(rng.integers(len(tests)))]
        chosen.update({(whole, k): "empty" for k in range(len(sequences[whole].shots))})
    out = []
    for i, seq in enumerate(sequences):
        shots = tuple(
            Shot(s.when, s.gains, s.sway, chosen.get((i, k), "")) for k, s in enumerate(seq.shots)
        )
        out.append(replace(seq, shots=shots))
    return out


# ---------------------------------------------------------------- truth


def visible_boxes(seq: Sequence, shot: int) -> list[tuple[str, tuple[float, float, float, float]]]:
    """(species, box in pixels clipped to the picture above the strip) of every individual
    that shows in a shot."""
    cam = seq.site.camera
    bottom = cam.height - cam.strip
    out = []
    for animal in seq.animals:
        x1, y1, x2, y2 = box_of(animal_shapes(animal.individual, animal.poses[shot], cam, False))
        x1, y1 = max(0.0, x1), max(0.0, y1)
        x2, y2 = min(float(cam.width), x2), min(float(bottom), y2)
        if x2 > x1 and y2 > y1:
            out.append((animal.individual.species, (x1, y1, x2, y2)))
    return out
