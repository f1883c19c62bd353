"""Actors: bodies, clothing, vehicles and how they move and act."""
