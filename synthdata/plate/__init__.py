"""The user's own camera: a background plate from footage, its calibration, and a sketch of the
scene over it (walkable ground, zones, tripwires, entries, occluders) turned into ground-plane
data that the `plate` layout (world/layouts/plate.py) reads.

OpenCV lives here (footage reading, background extraction, contours, homographies); what leaves
this package is plain data: numbers, lists and numpy arrays.
"""
