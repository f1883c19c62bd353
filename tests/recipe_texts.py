"""Small inline recipes shared by the recipe tests."""

# the smallest valid recipe: name, seed and the output block
MINIMAL = """\
name: demo
seed: 7
output:
  clips: 4
  frames_per_clip: 8
  fps: 10
  resolution: [96, 64]
"""

# MINIMAL with one group of people and one of vehicles
WITH_ACTORS = MINIMAL + """\
actors:
  - {type: person, count: 2}
  - {type: vehicle, count: 1}
"""
