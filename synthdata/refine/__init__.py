"""A learned sim-to-real refiner (torch): a small residual generator trained against a PatchGAN
discriminator on the user's footage and synthdata frames (train.py, `synthdata refiner train`),
applied to each rendered chunk on the render device before encoding (apply.py); labels never
change. See README "A learned sim-to-real refiner".
"""
import synthdata.kernel_cache  # noqa: F401  (before any kernel of this package is compiled or loaded)
