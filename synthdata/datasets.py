"""PyTorch datasets over a synthdata output folder (local path or fsspec URL).

    ds = FrameDataset("out/", min_visibility=0.3)
    loader = DataLoader(ds, batch_size=8, num_workers=4, collate_fn=collate)

`FrameDataset` yields one frame at a time: (image (3, H, W) uint8, or float in 0..1 with
`image_dtype=torch.float32`, target). `ClipDataset` yields windows of `window` frames:
(frames (T, 3, H, W), [target per frame]). A target is a dict of tensors for the objects kept:

  boxes       (N, 4) float32 visible boxes x1, y1, x2, y2 in pixels (top-left origin, x2 = x + w)
  labels      (N,) int64 1-based index into `dataset.categories` (0 is left for background)
  track_ids   (N,) int64 track id within the clip
  visibility  (N,) float32 visible / amodal pixels
  keypoints   (N, 17, 3) float32 COCO-17 [x, y, v]; zeros for objects without a skeleton
  masks       (N, H, W) uint8, only with `with_masks=True`
  clip_id, camera, frame: where the frame comes from (camera "cam0" in one-camera datasets)
  and, with `modalities=[...]`, the frame's dense maps (README "Dense ground truth"):
  depth (H, W) float32 metres (inf: sky), flow / backflow (2, H, W) float32 pixels (NaN where
  invalid), instances (H, W) int32 track ids, classes (H, W) uint8 category ids ("rgb" is the image)

Each camera of a clip with several is its own video: items run over (clip_id, camera) in table
order (`cameras=[...]` keeps some); track ids are global, the same in every camera.
Objects with no visible pixels (null box) are never kept. Files are opened lazily in each
DataLoader worker; frames are decoded a keyframe interval at a time, straight to planar RGB, and
the last two intervals and the last two clips' labels are cached, so reading frames in order
decodes each frame once. The decoder uses as many threads as torch (one in DataLoader workers).
"""
from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from synthdata.errors import DatasetError
from synthdata.io import rle
from synthdata.io.reader import Dataset, open_dataset

TARGET_COLUMNS = ["frame", "track_id", "category", "x", "y", "w", "h", "visibility", "keypoints"]


def decoder_threads() -> int:
    """FFmpeg decoder threads: as many as torch may use in this process (DataLoader workers run
    torch with one thread, so each worker decodes on one core; the main process uses them all)."""
    return max(1, torch.get_num_threads())


def _lru_put(cache: OrderedDict, key: Any, value: Any, size: int) -> Any:
    cache[key] = value
    while len(cache) > size:
        cache.popitem(last=False)
    return value


class _Labelled(torch.utils.data.Dataset):
    """Shared part: lazy per-process reader, label filters, per-clip target cache."""

    def __init__(self, path: str, *, categories: Sequence[str] | None, min_visibility: float,
                 min_box_height: float, with_masks: bool, transform: Callable | None,
                 image_dtype: torch.dtype, modalities: Sequence[str] = (), cameras: Sequence[str] | None = None):
        ds = open_dataset(path)
        known = ds.categories
        wanted = list(categories) if categories is not None else known
        unknown = [c for c in wanted if c not in known]
        if unknown:
            raise DatasetError(f"{path}: categories {unknown} are not in the dataset (it has {known})")
        self.path, self.categories = path, wanted
        self.min_visibility, self.min_box_height = float(min_visibility), float(min_box_height)
        self.with_masks, self.transform, self.image_dtype = with_masks, transform, image_dtype
        have = ds.cameras()
        if cameras is not None and [c for c in cameras if c not in have]:
            raise DatasetError(f"{path}: cameras {[c for c in cameras if c not in have]} are not in the dataset "
                               f"(it has {have})")
        views = [v for v in ds.views() if cameras is None or v[1] in cameras]
        self.clip_ids = [cid for cid, _ in views]          # one entry per (clip, camera)
        self.cameras = [cam for _, cam in views]
        infos = [ds.view_info(cid, cam) for cid, cam in views]
        self.num_frames = np.array([r["num_frames"] for r in infos], np.int64)
        self._sizes = {v: (r["height"], r["width"]) for v, r in zip(views, infos)}
        self._position = {v: i for i, v in enumerate(views)}
        self._ds: Dataset | None = ds
        self.modalities = [m for m in dict.fromkeys(modalities) if m != "rgb"]
        for cid, cam in views:
            lacking = [m for m in self.modalities if m not in ds.modalities(cid, cam)]
            if lacking:
                raise DatasetError(f"{path}: clip {cid} has no {', '.join(lacking)} stored (it has "
                                   f"{', '.join(ds.modalities(cid, cam))}); generate with output.modalities")
        self._pid = os.getpid()
        self._targets: OrderedDict[tuple[str, str], list[dict]] = OrderedDict()
        self._segments: OrderedDict[tuple[str, str, int], np.ndarray] = OrderedDict()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_ds=None, _targets=OrderedDict(), _segments=OrderedDict())
        return state

    def dataset(self) -> Dataset:
        """This process's reader (DataLoader workers each open their own)."""
        if self._ds is None or self._pid != os.getpid():
            self._ds = open_dataset(self.path)
            self._pid = os.getpid()
            self._targets.clear()
            self._segments.clear()
        return self._ds

    def label_of(self, category: str) -> int:
        return self.categories.index(category) + 1

    def clip_targets(self, clip_id: str, camera: str | None = None) -> list[dict]:
        """One target dict per frame of the clip as `camera` saw it (None: the clip's only camera;
        masks left encoded until `finish_target`)."""
        camera = camera if camera is not None else self.dataset().view_info(clip_id)["camera"]
        key = (clip_id, camera)
        if key in self._targets:
            self._targets.move_to_end(key)
            return self._targets[key]
        columns = TARGET_COLUMNS + (["mask"] if self.with_masks else [])
        t = self.dataset().objects_for(clip_id, columns=columns, camera=camera).to_pydict()
        n = int(self.num_frames[self._position[key]])
        keep = [i for i, (c, h, v) in enumerate(zip(t["category"], t["h"], t["visibility"]))
                if h is not None and c in self.categories and h >= self.min_box_height
                and (v if v is not None else 0.0) >= self.min_visibility]
        frame = np.array([t["frame"][i] for i in keep], np.int64)
        xywh = np.array([[t[k][i] for k in "xywh"] for i in keep], np.float32).reshape(-1, 4)
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], 1)
        kps = np.zeros((len(keep), 17, 3), np.float32)
        for j, i in enumerate(keep):
            if t["keypoints"][i] is not None:
                kps[j] = np.asarray(t["keypoints"][i], np.float32).reshape(17, 3)
        labels = np.array([self.label_of(t["category"][i]) for i in keep], np.int64)
        tracks = np.array([t["track_id"][i] for i in keep], np.int64)
        vis = np.array([t["visibility"][i] for i in keep], np.float32)
        masks = [t["mask"][i] for i in keep] if self.with_masks else None
        bounds = np.searchsorted(frame, np.arange(n + 1))
        targets = []
        for f in range(n):
            s = slice(bounds[f], bounds[f + 1])
            target = {"boxes": torch.from_numpy(boxes[s]), "labels": torch.from_numpy(labels[s]),
                      "track_ids": torch.from_numpy(tracks[s]), "visibility": torch.from_numpy(vis[s]),
                      "keypoints": torch.from_numpy(kps[s]), "clip_id": clip_id, "camera": camera, "frame": f}
            if masks is not None:
                target["masks"] = masks[s]
            targets.append(target)
        return _lru_put(self._targets, key, targets, 2)

    def finish_target(self, target: dict) -> dict:
        """A copy of a cached target with masks decoded to (N, H, W) uint8."""
        out = dict(target)
        if self.with_masks:
            h, w = self._sizes[(target["clip_id"], target["camera"])]
            if any(m is None for m in target["masks"]):
                raise DatasetError(f"{self.path}: clip {target['clip_id']} frame {target['frame']} has no "
                                   f"masks stored (made with output.masks=false); use with_masks=False")
            masks = [rle.decode(m) for m in target["masks"]]
            out["masks"] = (torch.from_numpy(np.stack(masks)) if masks
                            else torch.zeros((0, h, w), dtype=torch.uint8))
        return out

    def add_dense(self, target: dict, clip_id: str, frame: int) -> dict:
        """The target with the frame's dense maps (`modalities`) added as tensors."""
        for m in self.modalities:
            a = self.dataset().read_dense(clip_id, m, frame, frame + 1, camera=target["camera"])[0]
            target[m] = torch.from_numpy(np.ascontiguousarray(np.moveaxis(a, -1, 0) if a.ndim == 3 else a))
        return target

    def to_image(self, frames: np.ndarray) -> torch.Tensor:
        """(..., 3, H, W) uint8 -> a tensor in `image_dtype` (floats scaled to 0..1)."""
        x = torch.from_numpy(frames)
        return x if self.image_dtype == torch.uint8 else x.to(self.image_dtype) / 255.0


class FrameDataset(_Labelled):
    """Every frame of every clip, in (clip_id, frame) order; see the module docstring."""

    def __init__(self, path: str, *, categories: Sequence[str] | None = None, min_visibility: float = 0.0,
                 min_box_height: float = 0, with_masks: bool = False, transform: Callable | None = None,
                 image_dtype: torch.dtype = torch.uint8, modalities: Sequence[str] = (),
                 cameras: Sequence[str] | None = None):
        super().__init__(path, categories=categories, min_visibility=min_visibility,
                         min_box_height=min_box_height, with_masks=with_masks, transform=transform,
                         image_dtype=image_dtype, modalities=modalities, cameras=cameras)
        self.starts = np.concatenate([[0], np.cumsum(self.num_frames)])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def locate(self, index: int) -> tuple[str, int]:
        """(clip_id, frame) of dataset item `index`."""
        clip_id, _, frame = self.locate_view(index)
        return clip_id, frame

    def locate_view(self, index: int) -> tuple[str, str, int]:
        """(clip_id, camera, frame) of dataset item `index`."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"frame index {index} outside 0..{len(self) - 1}")
        index %= len(self)
        c = int(np.searchsorted(self.starts, index, side="right")) - 1
        return self.clip_ids[c], self.cameras[c], index - int(self.starts[c])

    def frame(self, clip_id: str, frame: int, camera: str | None = None) -> np.ndarray:
        """(3, H, W) uint8, an array the caller owns, decoded straight to planar RGB. A read in
        order (or from a keyframe) takes the next frame from the open decoder; any other read
        decodes the keyframe interval holding `frame` once and caches it."""
        video = self.dataset().video(clip_id, camera)
        start, stop = video.segment(frame)
        key = (clip_id, camera, start)
        if key in self._segments:
            self._segments.move_to_end(key)
            return self._segments[key][frame - start].copy()
        if video.next_frame == frame or frame == start:
            return video.frames(frame, frame + 1, channels_first=True, threads=decoder_threads())[0]
        seg = _lru_put(self._segments, key, video.frames(start, stop, channels_first=True,
                                                         threads=decoder_threads()), 2)
        return seg[frame - start].copy()

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict]:
        clip_id, camera, f = self.locate_view(index)
        image = self.to_image(self.frame(clip_id, f, camera))
        target = self.add_dense(self.finish_target(self.clip_targets(clip_id, camera)[f]), clip_id, f)
        if self.transform is not None:
            image, target = self.transform(image, target)
        return image, target


class ClipDataset(_Labelled):
    """Windows of `window` consecutive frames every `stride` frames (default: no overlap) within
    each clip; a clip shorter than `window` gives none. Items: (frames (T, 3, H, W), targets)."""

    def __init__(self, path: str, *, window: int, stride: int | None = None,
                 categories: Sequence[str] | None = None, min_visibility: float = 0.0,
                 min_box_height: float = 0, with_masks: bool = False, transform: Callable | None = None,
                 image_dtype: torch.dtype = torch.uint8, modalities: Sequence[str] = (),
                 cameras: Sequence[str] | None = None):
        super().__init__(path, categories=categories, min_visibility=min_visibility,
                         min_box_height=min_box_height, with_masks=with_masks, transform=transform,
                         image_dtype=image_dtype, modalities=modalities, cameras=cameras)
        stride = window if stride is None else stride
        if window < 1 or stride < 1:
            raise ValueError(f"window and stride must be at least 1, got {window} and {stride}")
        self.window, self.stride = window, stride
        self.windows = [(c, cam, s) for c, cam, n in zip(self.clip_ids, self.cameras, self.num_frames)
                        for s in range(0, int(n) - window + 1, stride)]

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, list[dict]]:
        clip_id, camera, start = self.windows[index]
        frames = self.to_image(self.dataset().read_frames(clip_id, start, start + self.window, camera=camera,
                                                          channels_first=True, threads=decoder_threads()))
        targets = self.clip_targets(clip_id, camera)
        window = [self.add_dense(self.finish_target(targets[f]), clip_id, f) for f in range(start, start + self.window)]
        if self.transform is not None:
            frames, window = self.transform(frames, window)
        return frames, window


def collate(batch: list[tuple[torch.Tensor, Any]]) -> tuple[torch.Tensor, list[Any]]:
    """DataLoader collate_fn: images (or windows) stacked, targets kept as a list."""
    images, targets = zip(*batch)
    return torch.stack(images), list(targets)
