"""Security: scripted behaviours, zones, the scripts enacted on a World, and event labels."""
