"""The phrase rules of the draft grammar, in the order they run (grammar.py applies them).

This module holds the output, camera and sensor rules; scenario_rules.py appends the weather,
scenario, time and site rules after them when grammar.py imports it.

Each rule is a regular expression over the space-joined, lower-case tokens and a handler that
records what the words said on the Reading; a handler returning False leaves the words unused.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any



@dataclass
class Said:
    """A value and the words of the text that said it."""

    value: Any
    words: str
    extra: Any = None


N = r"(\d+(?:\.\d+)?)"
TIME_UNIT = r"(seconds?|secs?|s|minutes?|mins?|hours?|hrs?|h)"
LENGTH_UNIT = r"(m|meters?|metres?|ft|feet|foot)"
DEG = r"(?:deg|degrees?)"
_SECONDS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "min": 60, "mins": 60, "minute": 60,
            "minutes": 60, "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600}
RESOLUTIONS = {"240p": (426, 240), "360p": (640, 360), "480p": (854, 480), "540p": (960, 540),
               "720p": (1280, 720), "hd": (1280, 720), "1080p": (1920, 1080), "full hd": (1920, 1080),
               "fhd": (1920, 1080), "1440p": (2560, 1440), "2k": (2560, 1440), "2160p": (3840, 2160),
               "4k": (3840, 2160), "uhd": (3840, 2160), "ultra hd": (3840, 2160), "vga": (640, 480),
               "qvga": (320, 240)}
RULES: list[tuple[re.Pattern, Callable[..., Any]]] = []


def rule(pattern: str) -> Callable:
    def deco(fn: Callable) -> Callable:
        RULES.append((re.compile(rf"\b(?:{pattern})\b"), fn))
        return fn
    return deco


def alt(words: Any) -> str:
    """A regex alternation of phrases, longest first."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def seconds(n: str, unit: str) -> float:
    return float(n) * _SECONDS[unit]


def setting(r: Any, path: tuple, value: Any, words: str) -> None:
    r.settings[path] = Said(value, words)


CAM, SENSOR, WEATHER = ("scene", "camera"), ("scene", "sensor"), ("scene", "weather")


# --- output ----------------------------------------------------------------------------------------

@rule(r"(?:random )?seed (?:of |is |= )?(\d+)")
def _seed(r, m, c):
    seed = int(m.group(1))
    if seed >= 2**63:
        r.ignored.append((m.group(0), "a seed must be below 2**63"))
        return
    setting(r, ("seed",), seed, m.group(0))


@rule(r"(\d{2,4})x(\d{2,4})(?: pixels| resolution)?")
def _wxh(r, m, c):
    w, h = int(m.group(1)), int(m.group(2))
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        r.ignored.append((m.group(0), "width and height must be 16 to 8192 pixels"))
        return
    setting(r, ("output", "resolution"), [w - w % 2, h - h % 2], m.group(0))
    if w % 2 or h % 2:
        r.notes.append(f"'{m.group(0)}': width and height must be even; using {w - w % 2}x{h - h % 2}")


@rule(rf"(?:in |at )?({alt(RESOLUTIONS)})(?: resolution| video)?")
def _resolution(r, m, c):
    setting(r, ("output", "resolution"), list(RESOLUTIONS[m.group(1)]), m.group(0))


@rule(rf"(?:at )?{N} (?:fps|frames? per second|frames? a second|hz|frame rate)")
def _fps(r, m, c):
    fps = float(m.group(1))
    if not 0 < fps <= 240:
        r.ignored.append((m.group(0), "a frame rate must be above 0 and at most 240 fps"))
        return
    setting(r, ("output", "fps"), int(fps) if fps.is_integer() else fps, m.group(0))


@rule(rf"(\d+) (?:clips?|videos?|sequences?)(?: (?:of|lasting|each|each lasting|of about|that last)){{1,2}} {N} {TIME_UNIT}"
      rf"(?: long| each)?")
def _clips_of(r, m, c):
    setting(r, ("output", "clips"), max(1, int(m.group(1))), m.group(0))
    r.clip_s = Said(seconds(m.group(2), m.group(3)), m.group(0))


@rule(r"(?:a dataset of |dataset of |a set of )?(\d+) (?:clips?|videos?|sequences?|samples|recordings)")
def _clips(r, m, c):
    n = int(m.group(1))
    if n < 1:
        return False
    setting(r, ("output", "clips"), n, m.group(0))


@rule(rf"{N} {TIME_UNIT} (?:long |each )?(?:clips?|videos?|sequences?|recordings?)")
@rule(rf"(?:clips?|videos?|sequences?|recordings?) (?:of |lasting |that last |each |are |each lasting |of about |about )*"
      rf"{N} {TIME_UNIT}(?: long| each)?")
def _clip_length(r, m, c):
    r.clip_s = Said(seconds(m.group(1), m.group(2)), m.group(0))


@rule(r"(\d+) frames? (?:per |each |a |in each |in every )?(?:clips?|videos?|sequences?)")
def _frames(r, m, c):
    n = int(m.group(1))
    if not 1 <= n <= 100_000:
        r.ignored.append((m.group(0), "a clip has 1 to 100,000 frames"))
        return
    r.frames = Said(n, m.group(0))


@rule(rf"{N} {TIME_UNIT} (?:of )?(?:video|footage|data|recordings?) (?:in )?(?:total)?")
def _total(r, m, c):
    r.total_s = Said(seconds(m.group(1), m.group(2)), m.group(0))


# --- camera ----------------------------------------------------------------------------------------

_CAMERA_WORDS = re.compile(r"\b(camera|cam|cctv|mounted|mount|high|height|pole|elevated|above|up|ceiling|"
                           r"installed|placed|overhead|tall)\b")


@rule(rf"(?:a |an )?{N} {LENGTH_UNIT}(?: high| up| tall| pole| height| above the ground| above ground| mast)?")
def _length(r, m, c):
    r.lengths.append((c, Said(float(m.group(1)) * (0.3048 if m.group(2) in ("ft", "feet", "foot") else 1.0),
                              m.group(0))))


@rule(rf"(?:tilted|tilt|tilts|pitched|pitch|looking down|angled down|angled|facing down|aimed down|"
      rf"pointing down)(?: of| at| by| down)? {N} ?{DEG}?(?: down| downward| downwards)?")
@rule(rf"{N} {DEG} (?:tilt|down|downward|downwards|pitch|below the horizon|downward tilt)")
def _tilt(r, m, c):
    v = float(m.group(1))
    if not 0 <= v <= 90:
        r.ignored.append((m.group(0), "a tilt must be 0 to 90 degrees below the horizon"))
        return
    setting(r, CAM + ("tilt_deg",), v, m.group(0))


@rule(rf"{N} {DEG} (?:horizontal )?(?:fov|field of view|hfov|lens|wide angle lens|wide|view angle|"
      rf"angle of view|view)")
@rule(rf"(?:fov|field of view|hfov|view angle|angle of view)(?: of)? {N} ?{DEG}?")
def _fov(r, m, c):
    v = float(m.group(1))
    if not 10 <= v <= 179:
        r.notes.append(f"'{m.group(0)}': the field of view is limited to 10-179 degrees; using "
                       f"{min(179.0, max(10.0, v)):g}")
    setting(r, CAM + ("hfov_deg",), min(179.0, max(10.0, v)), m.group(0))


@rule(rf"(?:(?:a |an )?{N} {DEG} )?fish ?eye(?: lens| camera| view)?")
def _fisheye(r, m, c):
    setting(r, CAM + ("model",), "fisheye", m.group(0))
    fov = float(m.group(1)) if m.group(1) else None
    if fov is not None and fov > 179:
        r.notes.append(f"'{m.group(0)}': the field of view is limited to 179 degrees; using 179")
    setting(r, CAM + ("hfov_deg",), min(179.0, fov) if fov else {"uniform": [150, 175]}, m.group(0))


@rule(r"ultra wide|wide angle(?: lens| camera)?|wide lens|wide field of view")
def _wide(r, m, c):
    setting(r, CAM + ("hfov_deg",), {"uniform": [85, 110]}, m.group(0))
    setting(r, CAM + ("k1",), {"uniform": [-0.2, -0.05]}, m.group(0))


@rule(r"telephoto(?: lens)?|narrow (?:lens|view|field of view)|zoomed in|long lens|tele lens")
def _narrow(r, m, c):
    setting(r, CAM + ("hfov_deg",), {"uniform": [20, 35]}, m.group(0))


@rule(r"(\d+|several|multiple)(?= (?:(?:cctv|security|surveillance|ptz|fixed|overlapping|synchroni[sz]ed|"
      r"fish ?eye|dome|wide angle|ceiling|pole|ip|hd|different) )?"
      r"(cameras?|cams?|views?|viewpoints?|camera angles?)\b)")
def _cameras(r, m, c):
    """"two cameras", "several views": the number is used, the camera words stay for other rules
    ("2 ptz cameras")."""
    n = m.group(1)
    r.cameras = Said(int(n) if n.isdigit() else 3, m.string[m.start():m.end(2)])


@rule(r"(?:ptz|pan tilt zoom|pan and tilt|patrolling|patrols|patrol)(?: camera| cameras| dome)?"
      r"(?: with (\d+) presets?| (\d+) presets?)?")
@rule(r"(\d+) (?:ptz )?presets?()")
def _ptz(r, m, c):
    setting(r, SENSOR + ("ptz", "enabled"), True, m.group(0))
    n = m.group(1) or m.group(2)
    if n:
        setting(r, SENSOR + ("ptz", "presets"), max(2, min(8, int(n))), m.group(0))


@rule(r"(busy|bustling|crowded|packed|lively|quiet|calm|empty|deserted|sparse)"
      r"(?= (?:street|streets|road|plaza|square|lobby|hall|corridor|station|car park|parking lot|scene|area|mall|"
      r"avenue|high street|city centre|downtown|intersection|foyer|office|airport|terminal|shop|store))")
def _density(r, m, c):
    w = m.group(1)
    r.density = Said("busy" if w in ("busy", "bustling", "crowded", "packed", "lively")
                     else "empty" if w in ("empty", "deserted") else "quiet", w)


@rule(r"low (?:mounted )?camera|eye level|at head height|low mount(?:ed)?")
def _low(r, m, c):
    setting(r, CAM + ("height_m",), {"uniform": [2.2, 3.0]}, m.group(0))


@rule(r"high (?:up|mounted|camera|mount)|rooftop|on a roof|elevated camera|tall pole|birds eye(?: view)?")
def _high(r, m, c):
    setting(r, CAM + ("height_m",), {"uniform": [10, 15]}, m.group(0))


@rule(r"overhead|top down|looking straight down|straight down")
def _overhead(r, m, c):
    setting(r, CAM + ("tilt_deg",), {"uniform": [70, 88]}, m.group(0))


@rule(r"shallow angle|looking across|low angle|nearly horizontal")
def _shallow(r, m, c):
    setting(r, CAM + ("tilt_deg",), {"uniform": [8, 18]}, m.group(0))


@rule(r"shaky|shaking|wobbly|wobbling|vibrating|vibration|camera shake|shakes")
def _shake(r, m, c):
    setting(r, SENSOR + ("shake_deg",), {"uniform": [0.2, 0.8]}, m.group(0))


@rule(r"colou?r night vision|colou?r (?:at )?night|full colou?r|starlight")
def _color_night(r, m, c):
    setting(r, SENSOR + ("night_mode",), "color", m.group(0))


@rule(r"infrared|ir|night vision|black and white|monochrome|greyscale|grayscale|nir")
def _ir(r, m, c):
    setting(r, SENSOR + ("night_mode",), "ir", m.group(0))


_SENSOR_PHRASES: list[tuple[str, tuple, Any]] = [
    (r"grainy|noisy|sensor noise|noise|high gain", ("gain",), {"uniform": [8, 24]}),
    (r"blurry|out of focus|defocused|soft focus|unfocused", ("defocus_px",), {"uniform": [2, 5]}),
    (r"dirty (?:lens|camera|dome)|smudged (?:lens|dome)|dust on the lens|dirt on the lens", ("lens_dirt",),
     {"uniform": [0.3, 0.7]}),
    (r"(?:rain ?drops|water drops|droplets) on the (?:lens|dome|camera|glass)", ("raindrops",),
     {"randint": [6, 20]}),
    (r"motion blur", ("shutter",), 1.0),
    (r"rolling shutter", ("rolling_shutter_ms",), {"uniform": [10, 30]}),
    (r"vignetting|vignette|dark corners", ("vignetting",), {"uniform": [0.3, 0.6]}),
    (r"low bit ?rate|heavily compressed|compression artifacts|compression artefacts|blocky|"
     r"low quality(?: compression| video| footage)?|heavy compression|strong compression",
     ("crf",), {"randint": [32, 40]}),
    (r"(?:no |without (?:a |the )?)(?:timestamp|time stamp|overlay|on screen text|osd)|clean image",
     ("overlay", "enabled"), False),
    (r"(?:with (?:a |the )?)?(?:timestamp|time stamp|overlay|on screen text|osd)", ("overlay", "enabled"), True),
    (r"(?:sudden )?light(?:ing)? changes|lights? (?:switch(?:ed|ing)?|turn(?:ed|ing)?) (?:on|off)|"
     r"flickering lights?|flicker", ("light_changes",), {"randint": [1, 2]}),
]


def _sensor_handler(path: tuple, value: Any) -> Callable:
    def handler(r, m, c):
        setting(r, SENSOR + path, value, m.group(0))
    return handler


for _pattern, _path, _value in _SENSOR_PHRASES:
    RULES.append((re.compile(rf"\b(?:{_pattern})\b"), _sensor_handler(_path, _value)))
