"""Phrase rules for weather, security scenarios, time of day, sites, places and frequencies.

Registered on import into rules.RULES after the output/camera rules, in this order: weather comes
before the scenarios ("falling snow" is snow, not a fall), scenarios before sites ("illegal
parking" is a scenario, "car park" a site), and generic durations last.
"""
from __future__ import annotations

from typing import Any

from synthdata.recipe.draft import lexicon as lx
from synthdata.recipe.draft.rules import N, TIME_UNIT, Said, alt, rule, seconds, setting

W = ("scene", "weather")
LIGHT = ("scene", "lighting")


def scenario(r: Any, name: str, words: str, clause: int, **fields: Any) -> None:
    """Record a security scenario (fields are Said values) in the clause that named it."""
    said = r.scenarios.setdefault(name, Said({}, words))
    if said.words != words and words not in said.words:
        said.words = f"{said.words}; {words}"
    said.value.update({k: Said(v, words) for k, v in fields.items() if v is not None})
    r.scenario_clause.setdefault(name, clause)


# --- weather ---------------------------------------------------------------------------------------

@rule(rf"(?:no|without|not|never|without any|no more) ({alt(k for k, v in lx.WEATHER.items() if v[0] != 'clear')})")
def _no_weather(r, m, c):
    r.weathers.append(Said("clear", m.group(0)))


@rule(rf"(?:({alt(lx.STRENGTH)}) )?({alt(lx.WEATHER)})")
def _weather(r, m, c):
    strength_word, word = m.group(1), m.group(2)
    cond, implied = lx.WEATHER[word]
    strength = lx.STRENGTH.get(strength_word) if strength_word else implied
    r.weathers.append(Said(cond, m.group(0), strength))
    if word in lx.CLOUDS:
        setting(r, LIGHT + ("cloud_cover",), lx.CLOUDS[word], m.group(0))


@rule(alt(lx.ALL_WEATHER))
def _all_weather(r, m, c):
    for cond in ("clear", "rain", "snow", "fog"):
        r.weathers.append(Said(cond, m.group(0)))


@rule(r"after (?:the )?rain|wet (?:ground|roads?|streets?|surfaces?|asphalt|tarmac)|puddles")
def _wet(r, m, c):
    setting(r, W + ("wet_ground",), {"uniform": [0.7, 1.0]}, m.group(0))
    setting(r, W + ("puddles",), {"uniform": [0.3, 0.7]}, m.group(0))


@rule(r"windy|strong wind|wind")
def _wind(r, m, c):
    setting(r, W + ("wind_deg",), {"uniform": [-45, 45]}, m.group(0))


@rule(alt(k for k in lx.CLOUDS if k not in lx.WEATHER))
def _clouds(r, m, c):
    setting(r, LIGHT + ("cloud_cover",), lx.CLOUDS[m.group(0)], m.group(0))
    setting(r, W + ("overcast",), lx.CLOUDS[m.group(0)], m.group(0))


# --- security scenarios ----------------------------------------------------------------------------

@rule(r"illegal(?:ly)? park(?:ing|ed|s)?|parks? illegally|parked illegally|(?:in )?(?:a |the )?no parking"
      r"(?: zone| area| spot| bay)?|fire lane|double park(?:ed|ing|s)?|blocking (?:the )?(?:exit|entrance|lane)")
def _illegal_parking(r, m, c):
    scenario(r, "illegal_parking", m.group(0), c)


@rule(r"(?:goes |going |drives |driving |walks |walking |heads |heading |travels |travelling |comes |coming )?"
      r"(?:the )?wrong (?:way|direction)(?: down| up| along| on)?(?: a| the)?(?: oneway)?(?: street| road| lane)?|"
      r"against (?:the )?(?:traffic|flow)|ghost driver|oneway violation")
def _wrong_way(r, m, c):
    scenario(r, "wrong_way", m.group(0), c)


_BAG = r"(bags?|backpacks?|rucksacks?|suitcases?|luggage|packages?|parcels?|handbags?|box|boxes|objects?|items?)"


@rule(rf"(?:abandon(?:s|ed|ing)?|unattended|left behind|leaves?|leaving|left|drops?|dropping|dropped|"
      rf"dumps?|forgotten|forgets|suspicious|puts? down) (?:a |an |the |his |her |their |some )?"
      rf"(?:suspicious |unattended )?{_BAG}(?: behind| unattended| and walks away| and leaves)?|"
      rf"{_BAG} (?:is |are |gets |being )?(?:left|abandoned|unattended|left behind|dropped)")
def _abandoned(r, m, c):
    bag = m.group(1) or m.group(2)
    style = "backpack" if bag.startswith(("backpack", "rucksack")) else ("handbag" if bag.startswith("handbag")
                                                                         else None)
    scenario(r, "abandoned_bag", m.group(0), c, style=style)


@rule(r"(?:later |then |and )?(?:(?:is |gets |being )?picked up|picks (?:it |them )?up|taken away|removed|stolen|"
      r"takes it|collects it|retrieved|someone takes it)(?: again)?(?: by (someone else|another person|a thief|"
      r"a stranger|somebody else|the owner|its owner|the same person))?")
def _pickup(r, m, c):
    if "abandoned_bag" not in r.scenarios and "stolen" not in m.group(0):
        return False
    by = m.group(1)
    who = None if not by else ("owner" if "owner" in by or "same" in by else "other")
    if "stolen" in m.group(0) and who is None:
        who = "other"
    scenario(r, "abandoned_bag", m.group(0), c, pickup_probability=1.0, pickup_by=who)


@rule(r"tamper(?:s|ed|ing)?(?: with)?(?: the)?(?: camera| lens)?|vandali[sz](?:es|ed|ing|m)(?: the camera)?|"
      r"(?:covers?|covered|covering|blocks?|blocked|blocking|obstructs?|obstructed|hand over|bag over)"
      r" (?:the )?(?:camera|lens|view)|(?:spray(?:s|ed|ing)?|paints?|smears?|smeared)(?: paint)?"
      r"(?: on| over| onto| at)? (?:the )?(?:camera|lens)|(?:knocks?|knocked|hits?|turns?|rotates?|pushes?|bumps?)"
      r" (?:the )?camera(?: away| aside)?|camera (?:is |gets )?(?:knocked|moved|turned|rotated|pushed|bumped)"
      r"(?: away| aside)?")
def _tamper(r, m, c):
    w = m.group(0)
    kind = ("covered" if any(x in w for x in ("cover", "block", "obstruct", "over the", "hand", "bag"))
            else "blur" if any(x in w for x in ("spray", "paint", "smear"))
            else "moved" if any(x in w for x in ("knock", "moved", "turn", "rotat", "push", "bump", "hit"))
            else None)
    scenario(r, "tamper", w, c, kind=kind)


@rule(r"(?:a |the )?(?:trip ?wire|virtual (?:line|fence))(?: crossings?| line)?|line crossings?|crosses (?:a |the )?(?:line|boundary|perimeter line)|"
      r"(?:crossing|crosses|cross) (?:the|a) (?:line|fence line|boundary|tripwire)|perimeter (?:breach|crossing)|"
      r"(?:jumps?|climbs?|hops?|scales?)(?: over)? (?:the |a )?(?:fence|wall|barrier)")
def _line(r, m, c):
    scenario(r, "line_crossing", m.group(0), c)


@rule(r"intrusions?|intrud(?:es|ing)|trespass(?:es|ing)?|break(?:s|ing)? in(?:to)?|broke in(?:to)?|"
      r"restricted (?:area|zone|yard|section)|sneaks? in(?:to)?|unauthori[sz]ed (?:entry|access)|"
      r"enters? (?:a |the )?(?:restricted|forbidden|closed|secure)(?: area| zone| yard)?|off limits|"
      r"forbidden (?:area|zone)|staff only(?: area| zone)?|secure (?:area|zone)|perimeter")
def _intrusion(r, m, c):
    scenario(r, "intrusion", m.group(0), c)


@rule(r"(?:a |large |big |small |dense )?(?:crowds?|throng|mob|flash mob|protest|rally|gathering|gathers|"
      r"gather|groups? of people (?:gather(?:s|ing)?|forms?|forming)|people (?:gather(?:ing)?|cluster(?:ing)?)|"
      r"cluster of people)(?: of (?:about |around |some )?(\d+)(?: people| persons)?)?"
      r"(?: (?:that |which |and )?(?:then )?(disperses?|scatters?|breaks up|stays?|remains?|lingers?))?")
def _crowd(r, m, c):
    size = min(40, max(2, int(m.group(1)))) if m.group(1) else None
    then = m.group(2)
    disperse = None if not then else any(w in then for w in ("dispers", "scatter", "break"))
    scenario(r, "crowd", m.group(0), c, size=size, disperse=disperse)


@rule(r"(?:then |and |before |later )?(?:dispers(?:es|e|ing)|scatters?|scattering|breaks up|breaking up|"
      r"(?:stays|remains) (?:together|there))")
def _disperse(r, m, c):
    if "crowd" not in r.scenarios:
        return False
    scenario(r, "crowd", m.group(0), c, disperse="stay" not in m.group(0) and "remain" not in m.group(0))


@rule(r"(?:(forwards?|backwards?|face first|on (?:his|her|their) back) )?(?:falls?|fell|fallen|falling|"
      r"collaps(?:es|ed|ing|e)|trips?|tripping|slips?|slipping|faints?|fainted|passes out|"
      r"man down|person down)(?: and falls)?(?: down| over)?(?: (forwards?|backwards?|face first|"
      r"on (?:his|her|their) back))?(?: and (?:lies|stays|remains) (?:still|down|there))?|lying on the "
      r"(?:floor|ground)")
def _fall(r, m, c):
    how = m.group(1) or m.group(2) or ""
    direction = "forward" if how.startswith(("forward", "face")) else ("backward" if how else None)
    scenario(r, "fall", m.group(0), c, direction=direction)


@rule(r"loiter(?:s|ing|er|ers)?|linger(?:s|ing)?|hang(?:s|ing)? (?:around|about|out)|hung around|"
      r"lurk(?:s|ing)?|prowl(?:s|ing|er)?|dwell(?:s|ing)?|idl(?:es|ing) around|waits? around")
def _loitering(r, m, c):
    scenario(r, "loitering", m.group(0), c)


@rule(r"(?:someone|somebody|a (?:person|man|woman|kid|child|thief|jogger)|one person) "
      r"(?:runs?|sprints?|dashes|rushes|jogs?|running)(?: across| through| past| by| away)?|"
      r"(?:a )?(?:sudden )?(?:sprint|running person|person running)")
def _running(r, m, c):
    scenario(r, "running", m.group(0), c)


# --- when and where --------------------------------------------------------------------------------

@rule(alt(lx.ALL_TIMES))
def _all_times(r, m, c):
    for t in ("day", "dusk", "night"):
        r.times.append(Said(t, m.group(0)))


@rule(alt(lx.TIMES))
def _time(r, m, c):
    r.times.append(Said(lx.TIMES[m.group(0)], m.group(0)))


@rule(r"(?:at |around )?(\d{1,2})(?: 00)? (am|pm|o clock)")
def _clock(r, m, c):
    hour = int(m.group(1))
    if hour > 12:
        return False
    h = hour % 12 + (12 if m.group(2) == "pm" else 0)
    r.times.append(Said("day" if 8 <= h <= 16 else "dusk" if h in (6, 7, 17, 18, 19) else "night", m.group(0)))


@rule(r"low sun|long shadows|sun low(?: in the sky)?|setting sun")
def _low_sun(r, m, c):
    setting(r, LIGHT + ("sun_elevation_deg",), {"uniform": [4, 15]}, m.group(0))


@rule(r"sodium(?: lights?| lamps?| street lights?)?|orange street ?lights?")
def _sodium(r, m, c):
    setting(r, LIGHT + ("lamp_color",), "sodium", m.group(0))


@rule(r"led(?: lights?| lamps?| street ?lights?)|white street ?lights?")
def _led(r, m, c):
    setting(r, LIGHT + ("lamp_color",), "led", m.group(0))


# layout features: (field, value, the layout types that have it)
FEATURES: list[tuple[str, str, Any, tuple[str, ...]]] = [
    (r"(?:no|without) (?:a )?fence", "fence", False, ("parking_lot",)),
    (r"fenced(?: in)?|(?:with )?a fence|fences?", "fence", True, ("parking_lot",)),
    (r"(?:no|without) trees", "trees", 0, ("parking_lot", "street", "indoor")),
    (r"(?:lots of |many )?trees", "trees", {"randint": [3, 8]}, ("parking_lot", "street")),
    (r"(?:potted )?plants", "trees", {"randint": [1, 4]}, ("indoor",)),
    (r"benches|bench|seating", "benches", {"randint": [2, 5]}, ("street", "indoor")),
    (r"pillars|columns", "pillars", {"randint": [2, 6]}, ("indoor",)),
    (r"(?:street|parallel|kerbside|curbside|on street) parking", "street_parking", True, ("street",)),
    (r"buildings|facades|shop fronts", "buildings", {"randint": [3, 7]}, ("parking_lot", "street")),
    (r"(?:light poles|lamp posts|lampposts|street ?lights|street lamps)", "light_poles", {"randint": [3, 6]},
     ("parking_lot", "street")),
    (r"(?:planting )?islands", "islands", True, ("parking_lot",)),
]


def _feature(key: str, value: Any, layouts: tuple[str, ...]):
    def handler(r, m, c):
        r.features[key] = Said(value, m.group(0), layouts)
    return handler


for _pattern, _key, _value, _layouts in FEATURES:
    rule(_pattern)(_feature(_key, _value, _layouts))


PLACES = {"gate": "far", "gates": "far", "fence": "far", "back": "far", "far end": "far", "yard": "far",
          "entrance": "entrance", "entry": "entrance", "door": "entrance", "doors": "entrance",
          "doorway": "entrance", "exit": "entrance", "lift": "entrance", "elevator": "entrance",
          "desk": "desk", "reception desk": "desk", "counter": "desk", "kiosk": "desk",
          "walkway": "walkway", "sidewalk": "walkway", "footpath": "walkway", "kerb": "walkway",
          "curb": "walkway", "benches": "seats", "bench": "seats", "seats": "seats", "waiting area": "seats",
          "middle": "middle", "centre": "middle", "center": "middle", "fountain": "middle",
          "aisle": "aisle", "driveway": "aisle", "cars": "aisle", "atm": "entrance", "stairs": "entrance",
          "shop front": "entrance", "shop window": "entrance", "bus stop": "walkway", "corner": "corner"}


@rule(rf"(?:by|near|at|in|around|outside|beside|next to|in front of|close to|inside|into|on|along|"
      rf"through|behind|towards|toward) (?:the |a |an |its )?(?:main |front |back |side |far |restricted )?"
      rf"({alt(PLACES)})")
def _place(r, m, c):
    r.places.append((c, Said(PLACES[m.group(1)], m.group(0), m.group(1))))
    if m.group(1) in lx.SITES:                       # "at a bus stop": a place that also names the site
        r.sites.append(Said(lx.SITES[m.group(1)], m.group(1)))


@rule(alt(lx.SITES))
def _site(r, m, c):
    r.sites.append(Said(lx.SITES[m.group(0)], m.group(0)))


@rule(rf"(?:in )?{N} (?:percent|pc) of (?:the )?(?:clips|videos|time)|{alt(lx.FREQUENCY)}")
def _frequency(r, m, c):
    p = float(m.group(1)) / 100 if m.group(1) else lx.FREQUENCY[m.group(0)]
    if not 0 <= p <= 1:
        return False
    r.frequencies.append((c, Said(p, m.group(0))))


@rule(rf"(?:for |lasting |during |over |about |around |at least |more than |after )*{N} {TIME_UNIT}"
      rf"(?: long| or more| or longer)?")
def _duration(r, m, c):
    r.durations.append((c, Said(seconds(m.group(1), m.group(2)), m.group(0))))
