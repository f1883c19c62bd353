"""Geometry and the camera: primitives, footprints, projection, camera models and motion."""
