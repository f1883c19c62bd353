"""Recipes: YAML in, validated `Recipe` out (DESIGN.md §1, §5).

    recipe = load_recipe("recipe.yaml", ["output.clips=8"])
    text = recipe_to_yaml(recipe)          # the resolved recipe as run
"""
from __future__ import annotations

from synthdata.recipe.distributions import Dist
from synthdata.recipe.loader import load_recipe, recipe_to_yaml
from synthdata.recipe.schema import Recipe

__all__ = ["Dist", "Recipe", "load_recipe", "recipe_to_yaml"]
