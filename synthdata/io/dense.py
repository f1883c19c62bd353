"""Dense maps on disk: one lossless 16-bit (or 8-bit) PNG per frame and modality, KITTI layouts.

Tar members (WebDataset keys: everything up to the first dot is the clip id; a clip with several
cameras has `<clip_id>.<camera>.` where these show `<clip_id>.`):
  <clip_id>.depth.<frame:06d>.png      uint16 gray, depth in 1/256 m (KITTI depth); 0 = no
                                       surface (sky); 1 = at the lens (a cover, the overlay: the
                                       buffer's 0-2 cm); 65535 = 255.996 m or farther
  <clip_id>.flow.<frame:06d>.png       uint16 RGB, KITTI flow: R = u * 64 + 2^15, G = v * 64 + 2^15,
  <clip_id>.backflow.<frame:06d>.png   B = 1 where valid (0: invalid, or |flow| >= 512 px)
  <clip_id>.instances.<frame:06d>.png  uint16 gray track id, 0 = none
  <clip_id>.classes.<frame:06d>.png    uint8 gray category id, 0 = none
A modality's members of one clip are consecutive in the tar; the clips table records the span
(`<modality>_offset`: the first member's header, `<modality>_size`: up to the end of the last
member's padded data), so one ranged read returns them all, and the span parses as a tar stream.

The PNG coding is lossless: decoding gives back exactly the quantised values (`quantise`), which
differ from the float buffers by at most half a step (depth 1/512 m, flow 1/128 pixel).
"""
from __future__ import annotations

import io
import tarfile

import numpy as np

from synthdata.io.contract import DENSE_MODALITIES

DEPTH_SCALE = 256.0               # stored units per metre (KITTI depth)
FLOW_SCALE, FLOW_ZERO = 64.0, 32768  # KITTI flow
FORMATS = {"depth": "gray16", "flow": "flow", "backflow": "flow", "instances": "gray16", "classes": "gray8"}
DENSE = DENSE_MODALITIES          # the clips-table columns naming their spans: io/contract.py
assert tuple(FORMATS) == DENSE


def member_key(row: dict) -> str:
    """The tar-member stem of one clips row: its `video_member` less ".mp4" (`<clip_id>`, or
    `<clip_id>.<camera>` for a clip with several cameras, schema version 3)."""
    member = row.get("video_member") or ""
    return member[:-4] if member.endswith(".mp4") else row["clip_id"]


def member_name(key: str, modality: str, frame: int) -> str:
    """`key`: the clip id, or `<clip_id>.<camera>` for a clip with several cameras."""
    return f"{key}.{modality}.{frame:06d}.png"


# ---- quantisation (the stored integers) <-> the arrays readers get -------------------------------
def quantise(modality: str, maps: np.ndarray) -> np.ndarray:
    """Maps in reader form (see labels/dense.py) -> the integers the PNGs hold."""
    if modality == "depth":
        d = np.asarray(maps, np.float64)
        with np.errstate(invalid="ignore"):
            q = np.clip(np.round(d * DEPTH_SCALE), 1, 65535)
        return np.where(np.isfinite(d) & (d >= 0), q, 0).astype(np.uint16)
    if modality in ("flow", "backflow"):
        f = np.asarray(maps, np.float64)
        q = np.round(np.nan_to_num(f) * FLOW_SCALE) + FLOW_ZERO
        ok = np.isfinite(f).all(-1) & (q >= 0).all(-1) & (q <= 65535).all(-1)
        out = np.empty(f.shape[:-1] + (3,), np.uint16)
        out[..., :2] = np.where(ok[..., None], q, FLOW_ZERO)
        out[..., 2] = ok
        return out
    if modality == "instances":
        a = np.asarray(maps)
        if a.size and (a.min() < 0 or a.max() > 65535):
            raise ValueError(f"instances: track ids must lie in 0..65535, got {a.min()}..{a.max()}")
        return a.astype(np.uint16)
    if modality == "classes":
        return np.asarray(maps).astype(np.uint8)
    raise ValueError(f"no dense modality {modality!r}; expected one of {list(DENSE)}")


def dequantise(modality: str, q: np.ndarray) -> np.ndarray:
    """Stored integers -> reader form: depth float32 metres (inf where 0), flow float32 pixels
    (NaN where invalid), instances int32, classes uint8."""
    if modality == "depth":
        return np.where(q == 0, np.float32(np.inf), q.astype(np.float32) / np.float32(DEPTH_SCALE))
    if modality in ("flow", "backflow"):
        f = (q[..., :2].astype(np.float32) - np.float32(FLOW_ZERO)) / np.float32(FLOW_SCALE)
        return np.where(q[..., 2:3] > 0, f, np.float32(np.nan))
    if modality == "instances":
        return q.astype(np.int32)
    return q.astype(np.uint8)


# ---- PNG coding (PyAV's PNG codec; no extra dependency) -------------------------------------------
_PIX = {"gray16": ("gray16le", "gray16be"), "gray8": ("gray", "gray"), "flow": ("rgb48le", "rgb48be")}


def encode_png(modality: str, q: np.ndarray) -> bytes:
    """One frame's stored integers (quantise) -> PNG bytes."""
    import av

    src, dst = _PIX[FORMATS[modality]]
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(q), format=src)
    ctx = av.CodecContext.create("png", "w")
    ctx.width, ctx.height, ctx.pix_fmt, ctx.time_base = q.shape[1], q.shape[0], dst, 1
    packets = list(ctx.encode(frame)) + list(ctx.encode(None))
    return b"".join(bytes(p) for p in packets)


def decode_png(modality: str, data: bytes) -> np.ndarray:
    """PNG bytes -> the stored integers (uint16 or uint8; flow (H, W, 3))."""
    import av

    from synthdata.io.video import sws

    ctx = av.CodecContext.create("png", "r")       # a fresh decoder per image: formats differ
    frames = ctx.decode(av.Packet(data))
    if not frames:
        raise ValueError(f"{modality}: PNG did not decode")
    return frames[0].to_ndarray(format=_PIX[FORMATS[modality]][0], **sws())


# ---- a modality's span of tar members -------------------------------------------------------------
def split_span(data: bytes) -> list[tuple[str, bytes]]:
    """(name, bytes) of each member in a span of consecutive tar members (header first)."""
    out = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for info in tar:
            f = tar.extractfile(info)
            out.append((info.name, f.read() if f is not None else b""))
    return out


def decode_span(modality: str, clip_id: str, data: bytes, num_frames: int) -> np.ndarray:
    """A modality's span -> (T, ...) stored integers; ValueError when members are missing,
    misnamed or out of order."""
    members = split_span(data)
    names = [n for n, _ in members]
    want = [member_name(clip_id, modality, f) for f in range(num_frames)]
    if names != want:
        raise ValueError(f"{clip_id}.{modality}: span holds {len(names)} members "
                         f"({names[:1]}..{names[-1:]}), expected {want[0]}..{want[-1]}")
    return np.stack([decode_png(modality, b) for _, b in members])


def span_problems(row: dict, modality: str, data: bytes, *, decode: bool = True) -> list[str]:
    """What is wrong with a clip's span of one modality (empty when nothing): members, names,
    order and count; with `decode`, each PNG's size and type, and flow's valid bit (the last
    frame's forward flow and the first frame's backward flow must be all invalid)."""
    cid, n = member_key(row), int(row["num_frames"])
    try:
        members = split_span(data)
    except tarfile.TarError as e:
        return [f"clip {cid}: {modality} bytes do not parse as tar members ({e})"]
    names = [name for name, _ in members]
    want = [member_name(cid, modality, f) for f in range(n)]
    if names != want:
        return [f"clip {cid}: {modality} holds {len(names)} members, expected {n} named "
                f"{want[0] if want else ''}..{want[-1] if want else ''} in order"]
    if not decode:
        return []
    shape = (int(row["height"]), int(row["width"])) + ((3,) if FORMATS[modality] == "flow" else ())
    dtype = np.uint8 if FORMATS[modality] == "gray8" else np.uint16
    for f, (name, png) in enumerate(members):
        try:
            q = decode_png(modality, png)
        except Exception as e:  # noqa: BLE001 - any decoder error is the problem to report
            return [f"clip {cid}: {name} does not decode ({type(e).__name__}: {e})"]
        if q.shape != shape or q.dtype != dtype:
            return [f"clip {cid}: {name} is {q.dtype} {q.shape}, expected {np.dtype(dtype)} {shape}"]
        if FORMATS[modality] == "flow":
            end = (f == n - 1) if modality == "flow" else (f == 0)
            if q[..., 2].max(initial=0) > 1 or (end and q[..., 2].any()):
                return [f"clip {cid}: {name}: valid channel must be 0/1 and all 0 on the "
                        f"{'last' if modality == 'flow' else 'first'} frame"]
    return []
