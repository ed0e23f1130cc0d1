"""Block motion compensation: the residual layer's prediction from reference pictures (§4.8).

The nets' picture of a P or B frame is no better than what the nets can represent, while its
references, with their own residual layers, may be far better. So a frame's residual layer may
be preceded by a block-motion substream, and then codes the source minus a prediction made block
by block: the nets' picture, a reference picture displaced by a whole-sample motion vector, or
the average of both references so displaced. Copies and integer averages only: exact everywhere.
"""

from dataclasses import dataclass

import numpy as np

from lvcodec.codec.residual import ResidualEncoder, candidate_steps
from lvcodec.entropy import finish, new_decoder, new_encoder
from lvcodec.entropy.adaptive import AdaptiveModel, decode_uniform, encode_uniform
from lvcodec.entropy.block_map import decode_symbol_map, encode_symbol_map
from lvcodec.errors import CorruptStream
from lvcodec.io import Frame

__all__ = ["BlockMotion", "encode_block_motion", "decode_block_motion", "predict",
           "search_motion", "choose_motion", "motion_compensated_layer", "BASE", "PAST", "FUTURE", "AVERAGE"]

BASE, PAST, FUTURE, AVERAGE = 0, 1, 2, 3  # block modes: the nets' picture, reference 0, 1, mean
LOG2_SIZES = range(3, 7)  # luma block sizes 8..64 (chroma half that)
MAX_CLASS = 8  # a vector component's magnitude class: its bit length, 0..8, so |component| < 256
# (half samples: ±127.5 luma samples)
# Encoder: block size, and the weighted SAD a bit of vectors is worth when choosing modes and
# vectors, in units of sqrt(1/λ) (as the usual motion-search λ is the square root of the mode λ).
# On training clips (bikes, cockatoo, carphone; 9 frames, GOP 8, q 32-63) 16x16 blocks beat 8x8
# by 1.5-12 % BD-rate and 32x32 by 8 %; PENALTY 1 beats 2 by 0.4-1.8 % and 4 by 4-9 %
# (benchmarks/notes/block-motion-2026-12-06.md).
LOG2_SIZE = 4
PENALTY = 1.0


@dataclass
class BlockMotion:
    """Per block of `size` luma samples, raster order: its mode and a vector per reference
    ((rows, cols, refs, 2) integers: dy, dx in half luma samples; only the modes' own are
    coded)."""

    log2_size: int
    modes: np.ndarray
    vectors: np.ndarray

    @property
    def size(self) -> int:
        return 1 << self.log2_size


def _grid(height: int, width: int, size: int) -> tuple:
    return -(-height // size), -(-width // size)


def _uses(mode: int, ref: int) -> bool:
    return mode == AVERAGE or mode == PAST + ref


def _predictor(vectors, used, r, c, ref) -> np.ndarray:
    """A vector's prediction: the left block's vector for that reference if it has one, else the
    above block's, else zero."""
    if c > 0 and used[r, c - 1, ref]:
        return vectors[r, c - 1, ref]
    if r > 0 and used[r - 1, c, ref]:
        return vectors[r - 1, c, ref]
    return np.zeros(2, dtype=np.int64)


def _scan_vectors(motion: BlockMotion, refs: int, code_component):
    """Raster order of blocks, each reference in order, dy then dx: code_component(model, d) codes
    a component's difference from its prediction and returns it."""
    rows, cols = motion.modes.shape
    used = np.zeros((rows, cols, refs), dtype=bool)
    models = [[AdaptiveModel(MAX_CLASS + 1) for _ in range(2)] for _ in range(2)]
    for r in range(rows):
        for c in range(cols):
            for k in range(refs):
                if not _uses(int(motion.modes[r, c]), k):
                    continue
                pred = _predictor(motion.vectors, used, r, c, k)
                d = [code_component(models[k][j], int(motion.vectors[r, c, k, j] - pred[j]))
                     for j in range(2)]
                motion.vectors[r, c, k] = pred + np.asarray(d)
                used[r, c, k] = True


def encode_block_motion(motion: BlockMotion, refs: int) -> bytes:
    """The substream: u8 log2 block size, then range-coded modes and vector differences."""
    enc = new_encoder()
    encode_symbol_map(enc, motion.modes, _alphabet(refs))

    def component(model, d):
        cls = abs(d).bit_length()
        model.encode(enc, cls)
        if cls:
            encode_uniform(enc, int(d < 0), 1)
            encode_uniform(enc, abs(d) - (1 << (cls - 1)), cls - 1)
        return d

    _scan_vectors(BlockMotion(motion.log2_size, motion.modes, motion.vectors.copy()), refs, component)
    return bytes([motion.log2_size]) + finish(enc)


def decode_block_motion(substream: bytes, height: int, width: int, refs: int) -> BlockMotion:
    """Mirror of encode_block_motion for a `height × width` picture with `refs` references."""
    if not substream:
        raise CorruptStream("block-motion substream is empty")
    log2 = substream[0]
    if log2 not in LOG2_SIZES:
        raise CorruptStream(f"block-motion block size 2^{log2} out of range (8..64)")
    dec = new_decoder(substream[1:])
    rows, cols = _grid(height, width, 1 << log2)
    modes = decode_symbol_map(dec, rows, cols, _alphabet(refs))
    if refs == 1 and modes.max(initial=0) > PAST:
        raise CorruptStream("block-motion mode out of range")

    def component(model, _):
        cls = model.decode(dec)
        if not cls:
            return 0
        sign = decode_uniform(dec, 1)
        magnitude = (1 << (cls - 1)) + decode_uniform(dec, cls - 1)
        return -magnitude if sign else magnitude

    motion = BlockMotion(log2, modes, np.zeros((rows, cols, refs, 2), dtype=np.int64))
    _scan_vectors(motion, refs, component)
    if np.abs(motion.vectors).max(initial=0) >= 1 << MAX_CLASS:
        raise CorruptStream("block-motion vector out of range")
    return motion


def _alphabet(refs: int) -> int:
    return 2 if refs == 1 else 4


# -- prediction (both ends) ---------------------------------------------------------------------

def _displaced(plane: np.ndarray, size: int, vectors: np.ndarray) -> np.ndarray:
    """Each block of `plane` (size × size, raster grid) taken from `plane` displaced by its
    vector (rows, cols, 2) in half samples: at (y + (v >> 1), x + ...), and where a component is
    odd the mean with the next sample that way, `(a + b + c + d + 2) >> 2` of the four (which is
    `(a + b + 1) >> 1` of two, or the sample itself); coordinates clamped to the plane (edge
    extension). (H', W') whole blocks, int32, H' ≥ H."""
    rows, cols = vectors.shape[:2]
    h, w = plane.shape
    plane = plane.astype(np.int32)
    i = np.arange(size)
    y = (np.arange(rows)[:, None, None, None] * size + i[None, None, :, None]
         + (vectors[:, :, None, None, 0] >> 1))  # (rows, cols, size, 1)
    x = (np.arange(cols)[None, :, None, None] * size + i[None, None, None, :]
         + (vectors[:, :, None, None, 1] >> 1))  # (rows, cols, 1, size)
    fy, fx = vectors[:, :, None, None, 0] & 1, vectors[:, :, None, None, 1] & 1
    y0, y1 = np.clip(y, 0, h - 1), np.clip(y + fy, 0, h - 1)
    x0, x1 = np.clip(x, 0, w - 1), np.clip(x + fx, 0, w - 1)
    blocks = (plane[y0, x0] + plane[y1, x0] + plane[y0, x1] + plane[y1, x1] + 2) >> 2
    return blocks.swapaxes(1, 2).reshape(rows * size, cols * size)


def _expand(modes: np.ndarray, size: int, shape) -> np.ndarray:
    return np.repeat(np.repeat(modes, size, 0), size, 1)[: shape[0], : shape[1]]


def predict(motion: BlockMotion, base: Frame, refs: list) -> Frame:
    """The prediction picture: per block, the base picture, a displaced reference picture or the
    rounded-up mean of the two (`(a + b + 1) >> 1`). Vectors are in half luma samples; chroma
    blocks are half the size, their vectors (in half chroma samples) the luma's halved, rounded
    down (arithmetic shift)."""
    planes = []
    for k, plane in enumerate((base.y, base.u, base.v)):
        size = motion.size >> int(k > 0)
        vectors = motion.vectors >> int(k > 0)
        h, w = plane.shape
        # Only the references some block uses are displaced (the encoder predicts whole
        # pictures of one mode while choosing).
        used = set(np.unique(motion.modes).tolist())
        cands = [_displaced((ref.y, ref.u, ref.v)[k], size, vectors[:, :, j])[:h, :w]
                 if used & {PAST + j, AVERAGE} else None for j, ref in enumerate(refs)]
        mode = _expand(motion.modes, size, plane.shape)
        out = plane.copy()
        for j, cand in enumerate(cands):
            if PAST + j in used:
                out = np.where(mode == PAST + j, cand, out)
        if AVERAGE in used:
            out = np.where(mode == AVERAGE, (cands[0] + cands[1] + 1) >> 1, out)
        planes.append(out.astype(np.uint8))
    return Frame(*planes)


# -- encoder (informative) ----------------------------------------------------------------------

def _block_sums(x: np.ndarray, size: int) -> np.ndarray:
    """Sum over each size × size block of x (H, W), edge blocks partial."""
    h, w = x.shape
    rows, cols = _grid(h, w, size)
    p = np.pad(x, ((0, rows * size - h), (0, cols * size - w)))
    return p.reshape(rows, size, cols, size).sum(axis=(1, 3))


def _downscale(plane: np.ndarray, f: int) -> np.ndarray:
    h, w = plane.shape
    p = np.pad(plane.astype(np.int32), ((0, -h % f), (0, -w % f)), mode="edge")
    return p.reshape(p.shape[0] // f, f, p.shape[1] // f, f).mean(axis=(1, 3))


def search_motion(source: np.ndarray, ref: np.ndarray, size: int, radius: int = 60,
                  coarse: int = 4, refine: int = 2) -> np.ndarray:
    """Vectors (rows, cols, 2), in half samples, minimising the luma SAD of each block: a full
    search of ±radius samples on both pictures scaled down by `coarse` (SAD over the block's
    neighbourhood), then ±refine whole samples around it at full scale and ±1 half sample around
    that (the block's own SAD). With the defaults |v| ≤ 125 half samples, so that a difference
    of two stays within the syntax's ±255."""
    h, w = source.shape
    rows, cols = _grid(h, w, size)
    s4, r4 = _downscale(source, coarse), _downscale(ref, coarse)
    b4, R = max(size // coarse, 1), radius // coarse
    pad = np.pad(r4, R, mode="edge")
    best = np.full((rows, cols), np.inf)
    vec = np.zeros((rows, cols, 2), dtype=np.int64)
    for dy in range(-R, R + 1):
        for dx in range(-R, R + 1):
            shifted = pad[R + dy: R + dy + s4.shape[0], R + dx: R + dx + s4.shape[1]]
            sad = _block_sums(np.abs(s4 - shifted), b4)[:rows, :cols]
            # Over the block and its 8 neighbours: small blocks at a quarter of the resolution
            # match noise, their neighbourhoods the motion.
            p = np.pad(sad, 1, mode="edge")
            sad = sum(p[i: i + rows, j: j + cols] for i in range(3) for j in range(3))
            sad = sad + 1e-3 * (abs(dy) + abs(dx))  # ties to the shorter vector
            better = sad < best
            best = np.where(better, sad, best)
            vec[better] = (2 * dy * coarse, 2 * dx * coarse)
    src = source.astype(np.int32)
    for step, reach in ((2, refine), (1, 1)):  # whole samples around it, then half samples
        best = np.full((rows, cols), np.inf)
        out = vec.copy()
        for dy in range(-reach, reach + 1):
            for dx in range(-reach, reach + 1):
                cand = vec + step * np.array([dy, dx])
                sad = _block_sums(np.abs(src - _displaced(ref, size, cand)[:h, :w]), size)
                better = sad < best
                best = np.where(better, sad, best)
                out[better] = cand[better]
        vec = out
    return vec


def _vector_bits(d) -> float:
    """Bits of a vector difference, roughly: per component its class (~1 bit at 0, more beyond),
    sign and raw bits."""
    return sum(1.0 + 2.0 * abs(int(c)).bit_length() for c in d)


def _block_costs(source: Frame, pred: Frame, size: int) -> np.ndarray:
    """Weighted SAD of each block: luma + 2/3 of each chroma plane's (MSE-YUV's 6:1:1 per sample)."""
    cost = 0.0
    for k, (p, s) in enumerate(zip((pred.y, pred.u, pred.v), (source.y, source.u, source.v))):
        sad = _block_sums(np.abs(p.astype(np.int32) - s.astype(np.int32)), size >> int(k > 0))
        cost = cost + sad * (1.0 if k == 0 else 2 / 3)
    return cost


def choose_motion(source: Frame, base: Frame, refs: list, searched: np.ndarray, log2_size: int,
                  penalty: float) -> BlockMotion:
    """Modes and vectors, block by block in raster order, minimising weighted SAD + `penalty` ×
    the estimated bits of the mode's vector differences, which depend on the choices before.
    Each reference's candidates: the block's searched vector, zero, and the searched vectors
    of the blocks to its left and above."""
    size = 1 << log2_size
    rows, cols = searched.shape[:2]
    n = len(refs)
    cands = []  # per reference: (candidates, rows, cols, 2)
    for k in range(n):
        own = searched[:, :, k]
        left = np.concatenate([own[:, :1], own[:, :-1]], axis=1)
        above = np.concatenate([own[:1], own[:-1]], axis=0)
        cands.append(np.stack([own, np.zeros_like(own), left, above]))
    C = cands[0].shape[0]

    def picture(mode, vec):
        return predict(BlockMotion(log2_size, np.full((rows, cols), mode), vec), base, refs)

    base_cost = _block_costs(source, base, size)
    single = [[_block_costs(source, picture(PAST + k, np.stack([cands[k][c]] * n, axis=2)), size)
               for c in range(C)] for k in range(n)]
    both = None
    if n == 2:
        both = [[_block_costs(source, picture(AVERAGE, np.stack([cands[0][a], cands[1][b]], 2)), size)
                 for b in range(C)] for a in range(C)]
    modes = np.zeros((rows, cols), dtype=np.int64)
    vectors = np.zeros((rows, cols, n, 2), dtype=np.int64)
    used = np.zeros((rows, cols, n), dtype=bool)
    for r in range(rows):
        for c in range(cols):
            preds = [_predictor(vectors, used, r, c, k) for k in range(n)]
            bits = [[_vector_bits(cands[k][i, r, c] - preds[k]) for i in range(C)] for k in range(n)]
            best = (base_cost[r, c], BASE, ())
            for k in range(n):
                for i in range(C):
                    cost = single[k][i][r, c] + penalty * bits[k][i]
                    if cost < best[0]:
                        best = (cost, PAST + k, ((k, i),))
            if n == 2:
                for a in range(C):
                    for b in range(C):
                        cost = both[a][b][r, c] + penalty * (bits[0][a] + bits[1][b])
                        if cost < best[0]:
                            best = (cost, AVERAGE, ((0, a), (1, b)))
            modes[r, c] = best[1]
            for k, i in best[2]:
                vectors[r, c, k] = cands[k][i, r, c]
                used[r, c, k] = True
    return BlockMotion(log2_size, modes, vectors)


def motion_compensated_layer(source: Frame, base: Frame, refs: list, lam: float,
                             plain: tuple) -> tuple | None:
    """The cheapest in bits + λ · MSE-YUV of `plain` (ResidualEncoder.cheapest's (substream or
    None, picture, cost) on the nets' picture, nothing among its options) and a block-motion
    prediction followed by a residual layer on it (or by an empty one). -> (substreams,
    picture) or None."""
    options = [([] if plain[0] is None else [plain[0]], *plain[1:])]
    size = 1 << LOG2_SIZE
    searched = np.stack([search_motion(source.y, ref.y, size) for ref in refs], axis=2)
    motion = choose_motion(source, base, refs, searched, LOG2_SIZE, PENALTY * np.sqrt(1.0 / lam))
    if motion.modes.any():
        head = encode_block_motion(motion, len(refs))
        pred = predict(motion, base, refs)
        data, picture, cost = ResidualEncoder(source, pred).cheapest(
            lam, [None, *candidate_steps(lam)], overhead=len(head), empty=True)
        options.append(([head, data], picture, cost))
    substreams, picture, _ = min(options, key=lambda o: o[2])
    return (substreams, picture) if substreams else None
