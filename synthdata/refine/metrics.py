"""How far refined frames are from real ones (benchmarks/bench_refiner.py and the tests).

- `classifier_accuracy`: a small CNN trained from scratch (fixed seed) to tell real crops from
  synthetic crops on one set of frames, scored on held-out frames; 0.5 means it cannot tell.
- `feature_distance`: Fréchet distance between Gaussian fits of the features a fixed, randomly
  initialised conv net (seeded; no pretrained weights) gives at every location of the frames.
- `losses.flicker`: warped difference of consecutive frames through the exact flow.
- `actor_contrast`: how strongly the labelled objects stand out from a ring around them (a
  refiner that fades people into the background lowers it).
Frames are lists of (H, W, 3) uint8 arrays.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def _classifier() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(16, 32, 3, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(32, 32, 3, 2, 1), nn.LeakyReLU(0.2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 1))


def _crops(rng: np.random.Generator, frames: list[np.ndarray], n: int, crop: int) -> torch.Tensor:
    out = []
    for i in rng.integers(0, len(frames), size=n):
        f = frames[int(i)]
        y, x = int(rng.integers(0, f.shape[0] - crop + 1)), int(rng.integers(0, f.shape[1] - crop + 1))
        out.append(f[y:y + crop, x:x + crop])
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).float() / 255.0


def classifier_accuracy(real_train: list[np.ndarray], synth_train: list[np.ndarray], real_test: list[np.ndarray],
                        synth_test: list[np.ndarray], *, steps: int = 300, crop: int = 64, batch: int = 16,
                        seed: int = 0, test_crops: int = 256) -> float:
    """Held-out accuracy of a real-vs-synthetic crop classifier (balanced; 0.5 = no gap)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = _classifier()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    target = torch.cat([torch.ones(batch), torch.zeros(batch)])
    for _ in range(steps):
        x = torch.cat([_crops(rng, real_train, batch, crop), _crops(rng, synth_train, batch, crop)])
        loss = F.binary_cross_entropy_with_logits(net(x)[:, 0], target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    rng = np.random.default_rng(seed + 1)
    with torch.no_grad():
        hit_real = (net(_crops(rng, real_test, test_crops, crop))[:, 0] > 0).float().mean()
        hit_synth = (net(_crops(rng, synth_test, test_crops, crop))[:, 0] <= 0).float().mean()
    return float(0.5 * (hit_real + hit_synth))


def _feature_net(seed: int) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(3, 32, 5, 2, 2), nn.ReLU(), nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
                        nn.Conv2d(64, 64, 3, 2, 1), nn.ReLU())
    for m in net:
        if isinstance(m, nn.Conv2d):
            fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
            m.weight.data = torch.randn(m.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5
            m.bias.data.zero_()
    return net.eval()


def _features(net: nn.Module, frames: list[np.ndarray], per_frame: int, seed: int) -> np.ndarray:
    """(N, 64) features at up to `per_frame` locations of each frame (a seeded choice)."""
    rng = np.random.default_rng(seed)
    feats = []
    with torch.no_grad():
        for f in frames:
            x = torch.from_numpy(np.ascontiguousarray(f)).permute(2, 0, 1)[None].float() / 255.0
            y = net(x * 2 - 1)[0]
            y = y.reshape(y.shape[0], -1).T.double().numpy()
            feats.append(y[rng.choice(len(y), size=per_frame, replace=False)] if len(y) > per_frame else y)
    return np.concatenate(feats)


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def feature_distance(a: list[np.ndarray], b: list[np.ndarray], *, seed: int = 0, per_frame: int = 512) -> float:
    """Fréchet distance between the per-location feature distributions of frame sets a and b."""
    net = _feature_net(seed)
    fa, fb = _features(net, a, per_frame, seed + 1), _features(net, b, per_frame, seed + 2)
    mu_a, mu_b = fa.mean(0), fb.mean(0)
    ca, cb = np.cov(fa, rowvar=False), np.cov(fb, rowvar=False)
    sa = _sqrt_psd(ca)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(sa @ cb @ sa), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * cross)


def actor_contrast(frames: np.ndarray, instances: np.ndarray, *, ring: int = 4, min_pixels: int = 30) -> float:
    """How strongly the labelled objects stand out from what surrounds them: over every object of
    at least `min_pixels` pixels in every frame (T, H, W, 3) uint8, the distance (8-bit levels, RGB)
    between its mean colour and the mean colour of a ring `ring` pixels wide around it that no
    object covers, summed; 0 when nothing qualifies. A refiner that fades the actors into the
    background (a way to fool a discriminator trained on footage with few people) lowers it on
    the same instance masks, whatever it does to whole-frame statistics."""
    total = 0.0
    for frame, inst in zip(frames, instances):
        H, W = inst.shape
        for i in np.unique(inst[inst > 0]):
            ys, xs = np.nonzero(inst == i)
            if len(ys) < min_pixels:
                continue
            y0, y1 = max(ys.min() - ring, 0), min(ys.max() + ring + 1, H)
            x0, x1 = max(xs.min() - ring, 0), min(xs.max() + ring + 1, W)
            box = inst[y0:y1, x0:x1]
            mask = box == i
            grown = F.max_pool2d(torch.from_numpy(mask)[None, None].float(), 2 * ring + 1, 1, ring)[0, 0].numpy()
            around = (grown > 0) & (box == 0)
            if around.any():
                img = frame[y0:y1, x0:x1].astype(np.float64)
                total += float(np.linalg.norm(img[mask].mean(0) - img[around].mean(0)))
    return total
