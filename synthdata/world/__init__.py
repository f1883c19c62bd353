"""The simulated world: numpy only, metres and seconds, no pixels (DESIGN.md §2).

Words used with one meaning each in world/ and the code that reads it:
  scene      the recipe's `scene:` section: layout, camera, lighting, weather and sensor settings
  layout     the static place a clip plays in (world/layouts/base.py; types in world/layouts/registry.py)
  world      one simulated clip: every actor's per-frame state, camera, lighting (World)
  scenario   the recipe's `scenario:` section: scripted security behaviours
  behavior   an actor's motion (walk, run, loiter, drive, park, ...) and a scenario behaviour's name,
             spelled `behavior` in recipes and in stored JSON (params, tracks attributes)
  appearance how a clip looks besides its geometry (world/appearance.py)
"""
import synthdata.kernel_cache  # noqa: F401  (before any kernel of this package is compiled or loaded)
