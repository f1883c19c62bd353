"""Word tables of the draft grammar: which English words mean which recipe values.

Everything here is data: grammar.py matches these words and phrases, mapping.py turns what was
matched into recipe fields. Phrases are lower case, words separated by single spaces (the
tokenizer splits hyphens, so "wrong-way" is matched as "wrong way").
"""
from __future__ import annotations

# --- where -----------------------------------------------------------------------------------------
# phrase -> (layout type, what it is called in comments)
SITES: dict[str, str] = {
    "parking lot": "parking_lot", "parking lots": "parking_lot", "car park": "parking_lot",
    "carpark": "parking_lot", "parking area": "parking_lot", "parking garage": "parking_lot",
    "garage": "parking_lot", "the lot": "parking_lot",
    "street": "street", "streets": "street", "road": "street", "plaza": "street", "square": "street",
    "pedestrian crossing": "street", "crosswalk": "street", "zebra crossing": "street", "intersection": "street",
    "sidewalk": "street", "pavement": "street", "avenue": "street", "high street": "street",
    "downtown": "street", "city centre": "street", "city center": "street", "town centre": "street",
    "bus stop": "street", "boulevard": "street",
    "lobby": "indoor", "corridor": "indoor", "corridors": "indoor", "hallway": "indoor", "hall": "indoor",
    "indoor": "indoor", "indoors": "indoor", "office": "indoor", "foyer": "indoor",
    "atrium": "indoor", "station": "indoor", "mall": "indoor", "shopping centre": "indoor",
    "shopping center": "indoor", "reception": "indoor", "airport": "indoor", "terminal": "indoor",
    "warehouse": "indoor", "shop": "indoor", "store": "indoor", "hospital": "indoor",
    "shopping mall": "indoor", "train station": "indoor", "railway station": "indoor",
    "metro station": "indoor", "subway station": "indoor", "bus station": "indoor", "platform": "indoor",
    "gas station": "parking_lot", "petrol station": "parking_lot", "service station": "parking_lot",
    "forecourt": "parking_lot", "loading dock": "parking_lot", "loading bay": "parking_lot",
}
NARROW_SITES = {"corridor", "corridors", "hallway"}          # indoor, long and narrow
SITE_WORDS_WITH_CROSSING = {"pedestrian crossing", "crosswalk", "zebra crossing", "intersection"}

# --- when ------------------------------------------------------------------------------------------
TIMES: dict[str, str] = {
    "day": "day", "daytime": "day", "daylight": "day", "morning": "day", "afternoon": "day",
    "noon": "day", "midday": "day", "by day": "day", "during the day": "day",
    "dusk": "dusk", "evening": "dusk", "twilight": "dusk", "sunset": "dusk", "dawn": "dusk",
    "sunrise": "dusk", "golden hour": "dusk",
    "night": "night", "nighttime": "night", "midnight": "night", "at night": "night", "dark": "night",
    "darkness": "night", "after dark": "night", "nights": "night",
}
ALL_TIMES = {"any time of day", "all times of day", "day and night", "day or night", "around the clock",
             "mixed lighting", "any time"}

# --- weather ---------------------------------------------------------------------------------------
WEATHER: dict[str, tuple[str, str | None]] = {   # word -> (condition, implied strength)
    "rain": ("rain", None), "raining": ("rain", None), "rainy": ("rain", None), "rainfall": ("rain", None),
    "drizzle": ("rain", "light"), "drizzling": ("rain", "light"), "showers": ("rain", "moderate"),
    "shower": ("rain", "moderate"), "downpour": ("rain", "heavy"), "storm": ("rain", "heavy"),
    "stormy": ("rain", "heavy"), "thunderstorm": ("rain", "heavy"), "pouring": ("rain", "heavy"),
    "snow": ("snow", None), "snowing": ("snow", None), "snowy": ("snow", None), "snowfall": ("snow", None),
    "falling snow": ("snow", None), "snow falling": ("snow", None), "snow falls": ("snow", None),
    "rain falls": ("rain", None), "rain falling": ("rain", None), "falling rain": ("rain", None), "blizzard": ("snow", "heavy"),
    "flurries": ("snow", "light"), "sleet": ("snow", "light"),
    "fog": ("fog", None), "foggy": ("fog", None), "mist": ("fog", "light"), "misty": ("fog", "light"),
    "haze": ("fog", "light"), "hazy": ("fog", "light"), "smog": ("fog", "moderate"),
    "clear": ("clear", None), "dry": ("clear", None), "sunny": ("clear", None), "clear sky": ("clear", None),
    "clear skies": ("clear", None), "fine weather": ("clear", None),
}
ALL_WEATHER = {"any weather", "all weather", "mixed weather", "varied weather", "varying weather",
               "all kinds of weather", "different weather"}
STRENGTH: dict[str, str] = {
    "light": "light", "slight": "light", "gentle": "light", "soft": "light", "thin": "light",
    "patchy": "light", "some": "light", "little": "light",
    "moderate": "moderate", "medium": "moderate", "steady": "moderate",
    "heavy": "heavy", "strong": "heavy", "thick": "heavy", "dense": "heavy", "torrential": "heavy",
    "hard": "heavy", "intense": "heavy", "pea soup": "heavy",
}
# condition -> strength -> (recipe field under scene.weather, value)
STRENGTH_VALUES: dict[str, dict[str, tuple[str, dict]]] = {
    "rain": {"light": ("rain_intensity", {"uniform": [0.15, 0.35]}),
             "moderate": ("rain_intensity", {"uniform": [0.4, 0.65]}),
             "heavy": ("rain_intensity", {"uniform": [0.75, 1.0]})},
    "snow": {"light": ("snow_intensity", {"uniform": [0.15, 0.35]}),
             "moderate": ("snow_intensity", {"uniform": [0.4, 0.65]}),
             "heavy": ("snow_intensity", {"uniform": [0.75, 1.0]})},
    "fog": {"light": ("fog_visibility_m", {"uniform": [200, 600]}),
            "moderate": ("fog_visibility_m", {"uniform": [60, 150]}),
            "heavy": ("fog_visibility_m", {"uniform": [15, 40]})},
}
CLOUDS: dict[str, float | dict] = {"overcast": {"uniform": [0.8, 1.0]}, "cloudy": {"uniform": [0.6, 0.9]},
                                   "grey": {"uniform": [0.7, 1.0]}, "gray": {"uniform": [0.7, 1.0]},
                                   "sunny": {"uniform": [0.0, 0.2]}, "clear sky": {"uniform": [0.0, 0.2]},
                                   "clear skies": {"uniform": [0.0, 0.2]}}

# --- who -------------------------------------------------------------------------------------------
# noun -> (actor type, vehicle kind or None, implied behaviour or None)
ACTORS: dict[str, tuple[str, str | None, str | None]] = {}
for _w in ("people", "person", "persons", "pedestrian", "pedestrians", "walker", "walkers", "man", "men",
           "woman", "women", "worker", "workers", "shopper", "shoppers", "commuter", "commuters", "visitor",
           "visitors", "passersby", "passer by", "passers by", "customer", "customers", "student",
           "students", "employee", "employees", "staff", "guard", "guards", "child", "children", "kid",
           "kids", "adult", "adults", "individual", "individuals", "someone", "somebody", "human", "humans",
           "tourist", "tourists", "passenger", "passengers", "traveller", "travellers", "traveler",
           "travelers", "figure", "figures", "guy", "guys", "others", "other people", "everyone else", "the rest"):
    ACTORS[_w] = ("person", None, None)
ACTORS.update({"jogger": ("person", None, "run"), "joggers": ("person", None, "run"),
               "runner": ("person", None, "run"), "runners": ("person", None, "run"),
               "loiterer": ("person", None, "loiter"), "loiterers": ("person", None, "loiter"),
               "visitor": ("person", None, "visit"), "visitors": ("person", None, "visit"),
               "customer": ("person", None, "visit"), "customers": ("person", None, "visit"),
               "shopper": ("person", None, "visit"), "shoppers": ("person", None, "visit")})
# people nouns that name a security scenario: "three intruders" -> intrusion with count 3
SCENARIO_NOUNS: dict[str, str] = {
    "intruder": "intrusion", "intruders": "intrusion", "trespasser": "intrusion", "trespassers": "intrusion",
    "burglar": "intrusion", "burglars": "intrusion", "thief": "intrusion", "thieves": "intrusion",
    "loiterer": "loitering", "loiterers": "loitering", "vandal": "tamper", "vandals": "tamper"}
for _w in SCENARIO_NOUNS:
    ACTORS.setdefault(_w, ("person", None, None))
for _w, _k in (("car", "car"), ("cars", "car"), ("taxi", "car"), ("taxis", "car"), ("cab", "car"),
               ("cabs", "car"), ("suv", "car"), ("suvs", "car"), ("sedan", "car"), ("sedans", "car"),
               ("van", "van"), ("vans", "van"), ("minivan", "van"), ("minivans", "van"), ("pickup", "van"),
               ("pickups", "van"), ("truck", "truck"), ("trucks", "truck"), ("lorry", "truck"),
               ("lorries", "truck"), ("bus", "bus"), ("buses", "bus"), ("coach", "bus"), ("coaches", "bus"),
               ("bicycle", "bicycle"), ("bicycles", "bicycle"), ("bike", "bicycle"), ("bikes", "bicycle"),
               ("cyclist", "bicycle"), ("cyclists", "bicycle"), ("motorcycle", "motorcycle"),
               ("motorcycles", "motorcycle"), ("motorbike", "motorcycle"), ("motorbikes", "motorcycle"),
               ("motorcyclist", "motorcycle"), ("motorcyclists", "motorcycle"), ("scooter", "motorcycle"),
               ("scooters", "motorcycle"), ("vehicle", None), ("vehicles", None), ("traffic", None),
               ("automobile", "car"), ("automobiles", "car")):
    ACTORS[_w] = ("vehicle", _k, "drive" if _w == "traffic" else None)
VEHICLE_KINDS = ("car", "van", "truck", "bus", "bicycle", "motorcycle")
# things people ask for that synthdata does not make: word -> what comes nearest
UNSUPPORTED: dict[str, str] = {
    "forklift": "vehicle kind van", "forklifts": "vehicle kind van", "tractor": "vehicle kind truck",
    "tractors": "vehicle kind truck", "tram": "vehicle kind bus", "trams": "vehicle kind bus",
    "train": "vehicle kind bus", "trains": "vehicle kind bus", "ambulance": "vehicle kind van",
    "skateboard": "vehicle kind bicycle", "skateboarder": "vehicle kind bicycle",
    "wheelchair": "person", "stroller": "person", "pram": "person", "trolley": "person", "cart": "person",
    "dog": "none (people and vehicles only)", "dogs": "none (people and vehicles only)",
    "cat": "none (people and vehicles only)", "cats": "none (people and vehicles only)",
    "animal": "none (people and vehicles only)", "animals": "none (people and vehicles only)",
    "bird": "none (people and vehicles only)", "birds": "none (people and vehicles only)",
    "horse": "none (people and vehicles only)", "drone": "none (no aircraft)", "drones": "none (no aircraft)",
    "helicopter": "none (no aircraft)", "plane": "none (no aircraft)", "boat": "none (no boats)",
    "umbrella": "none (people carry bags only)", "umbrellas": "none (people carry bags only)",
    "gun": "none", "weapon": "none", "knife": "none", "fight": "crowd or running",
    "fighting": "crowd or running", "fire": "none", "smoke": "fog", "beach": "street (plaza)",
    "park": "street (plaza)", "forest": "none (parking lot, street or indoor)",
}

# behaviour word -> (actor type, behaviour)
BEHAVIOURS: dict[str, tuple[str, str]] = {}
for _w in ("walking", "walks", "walk", "strolling", "stroll", "strolls", "wanders", "wander", "wandering around",
           "walks around", "walking about", "wandering", "commuting", "passing",
           "walking around", "walking by", "walking past", "crossing"):
    BEHAVIOURS[_w] = ("person", "walk")
for _w in ("running", "runs", "run", "jogging", "jog", "jogs", "sprinting", "sprint", "rushing", "hurrying"):
    BEHAVIOURS[_w] = ("person", "run")
for _w in ("standing", "stands", "stand", "waiting", "waits", "wait", "queueing", "queuing", "idle",
           "chatting", "talking", "standing around", "standing still"):
    BEHAVIOURS[_w] = ("person", "stand")
for _w in ("loitering", "loiter", "loiters", "lingering", "linger", "lingers", "hanging around",
           "hanging about", "milling around", "milling about"):
    BEHAVIOURS[_w] = ("person", "loiter")
for _w in ("visiting", "visit", "visits", "stopping by", "stops by", "stop by", "dropping by", "drops by",
           "browsing", "browses", "stopping at", "stops at", "popping in", "pops in"):
    BEHAVIOURS[_w] = ("person", "visit")
for _w in ("driving", "drives", "drive", "moving", "passing by", "driving by", "driving past", "in motion"):
    BEHAVIOURS[_w] = ("vehicle", "drive")
for _w in ("parking", "parks", "pulling in", "pull in", "pulls in", "arriving"):
    BEHAVIOURS[_w] = ("vehicle", "park")
for _w in ("parked", "stationary", "stopped", "standing still"):
    BEHAVIOURS.setdefault(_w, ("vehicle", "parked"))

# people and vehicles coming into or going out of the view -> the group's enters / leaves flag
ENTERS_LEAVES: dict[str, str] = {
    "enters": "enters", "enter": "enters", "entering": "enters", "arrives": "enters", "arriving": "enters",
    "comes in": "enters", "coming in": "enters", "walks in": "enters", "walking in": "enters",
    "drives in": "enters", "driving in": "enters", "leaves": "leaves", "leave": "leaves", "leaving": "leaves",
    "exits": "leaves", "exiting": "leaves", "walks out": "leaves", "walks away": "leaves", "goes away": "leaves",
    "walking out": "leaves", "walking away": "leaves", "departs": "leaves", "departing": "leaves"}

# people carrying bags: phrase -> bag style (None: either)
BAGS: dict[str, str | None] = {}
for _lead in ("with", "carrying", "holding", "wearing"):
    for _art in ("", "a ", "their ", "some "):
        BAGS.update({f"{_lead} {_art}bags": None, f"{_lead} {_art}bag": None, f"{_lead} {_art}backpacks": "backpack",
                     f"{_lead} {_art}backpack": "backpack", f"{_lead} {_art}rucksacks": "backpack",
                     f"{_lead} {_art}rucksack": "backpack", f"{_lead} {_art}handbags": "handbag",
                     f"{_lead} {_art}handbag": "handbag", f"{_lead} {_art}luggage": None,
                     f"{_lead} {_art}shopping bags": "handbag"})

# quantity words -> (recipe count, how it reads in comments)
QUANTITIES: dict[str, object] = {
    "no": 0, "zero": 0, "without": 0, "a single": 1, "one": 1, "a": 1, "an": 1, "single": 1, "lone": 1,
    "someone": 1, "somebody": 1, "a pair of": 2, "pair of": 2, "a couple of": 2, "a couple": 2,
    "couple of": 2, "two": 2, "both": 2,
    "a few": {"randint": [2, 4]}, "few": {"randint": [2, 4]}, "some": {"randint": [2, 5]},
    "several": {"randint": [3, 6]}, "a handful of": {"randint": [3, 5]}, "a group of": {"randint": [3, 6]},
    "groups of": {"randint": [4, 8]}, "many": {"randint": [10, 20]}, "lots of": {"randint": [10, 20]},
    "a lot of": {"randint": [10, 20]}, "plenty of": {"randint": [8, 15]}, "numerous": {"randint": [10, 20]},
    "dozens of": {"randint": [20, 40]}, "busy": {"randint": [12, 24]}, "heavy": {"randint": [8, 14]},
    "light": {"randint": [1, 3]}, "sparse": {"randint": [1, 3]}, "occasional": {"randint": [0, 2]},
    "lots": {"randint": [10, 20]}, "crowds of": {"randint": [20, 40]}, "a crowd of": {"randint": [15, 30]},
}
APPROX = ("about", "around", "roughly", "approximately", "approx", "circa", "some", "maybe", "nearly",
          "almost", "like")
AT_MOST = ("up to", "at most", "no more than", "fewer than", "less than", "under")
AT_LEAST = ("at least", "more than", "over", "no fewer than", "no less than")

# --- how often -------------------------------------------------------------------------------------
FREQUENCY: dict[str, float] = {
    "always": 1.0, "every clip": 1.0, "each clip": 1.0, "in every clip": 1.0, "in each clip": 1.0,
    "every time": 1.0, "every video": 1.0, "usually": 0.75, "mostly": 0.75, "often": 0.7,
    "frequently": 0.7, "most clips": 0.75, "in most clips": 0.75, "most of the time": 0.75,
    "sometimes": 0.4, "occasionally": 0.3, "some clips": 0.4, "in some clips": 0.4, "now and then": 0.3,
    "at times": 0.4, "rarely": 0.15, "seldom": 0.15, "in a few clips": 0.2, "once in a while": 0.2,
    "half the time": 0.5, "in half the clips": 0.5, "in half of the clips": 0.5, "half the clips": 0.5,
}

# words that carry no recipe meaning on their own and are never reported
STOP = set("""
a an the of and or with in on at by to for from into onto near nearby next beside around about over under
is are was were be being been it its this that these those there their they them he she his her him
who which while where when as then also plus some any each every all but so very quite just too
has have having had do does doing done get gets getting go goes going come comes coming
s scene scenes video videos footage clip clips camera cameras cctv surveillance shot shots view views
looking look looks watching watches watch seen see shows showing show filmed recorded recording
for direction directions way ways
dataset data set sequences sequence generate make create render want need please i we you me us our my
your one ones other others another across through past along up down out away back off here
like kind type sort lot lots time times place area areas side spot somewhere something thing things
same various mixed both either neither than only more less much few little new old big small
large huge wide high low long short mounted mount installed placed positioned pointing facing
synthetic realistic typical normal regular ordinary standard simple basic nice good some
add make change set use switch turn put instead now also still keep it its oneway way please should
""".split())
