"""Block motion compensation: the residual layer's prediction from reference pictures (§4.8).

The nets' picture of a P or B frame is no better than what the nets can represent, while its
references, with their own residual layers, may be far better. So a frame's residual layer may
be preceded by a block-motion substream, and then codes the source minus a prediction made block
by block: the nets' picture, a reference picture displaced by a quarter-sample motion vector
(interpolated by fixed integer filters; 6.x and 7.x streams: half-sample, bilinear), or the mean
of both references so displaced. Integer arithmetic only: exact everywhere.
Where that prediction needs no block of the nets' picture, the frame may leave the nets out
altogether (a motion-only frame): fewer bits, and a decoder that runs no net for it.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lvcodec.bitstream.syntax import HALF_SAMPLE, MAX_VECTOR_CLASS, QUARTER_SAMPLE
from lvcodec.codec.residual import ResidualEncoder, candidate_steps
from lvcodec.entropy import finish, new_decoder, new_encoder
from lvcodec.entropy.adaptive import AdaptiveModel, decode_signed, encode_signed
from lvcodec.entropy.block_map import decode_symbol_map, encode_symbol_map
from lvcodec.errors import CorruptStream
from lvcodec.io import Frame

__all__ = ["BlockMotion", "encode_block_motion", "decode_block_motion", "predict",
           "search_motion", "bi_refine", "choose_motion", "motion_compensated_layer", "BASE", "PAST", "FUTURE",
           "AVERAGE"]

BASE, PAST, FUTURE, AVERAGE = 0, 1, 2, 3  # block modes: the nets' picture, reference 0, 1, mean
LOG2_SIZES = range(3, 7)  # luma block sizes 8..64 (chroma half that)
HALF, QUARTER, MAX_CLASS = HALF_SAMPLE, QUARTER_SAMPLE, MAX_VECTOR_CLASS  # vector units (§4.8)
UNIT = QUARTER  # the encoder's unless told (the presets try theirs: codec/config.PRESETS)
# Interpolation filter banks (§4.8): per phase (the vector's fraction of a sample), the taps over
# samples -n/2+1 .. n/2 of the integer position; every phase's taps sum to one power of two.
BILINEAR = np.array([[4, 0], [2, 2]])  # half samples, luma and chroma (6.x, 7.x)
LUMA_8TAP = np.array([[0, 0, 0, 64, 0, 0, 0, 0], [-1, 4, -10, 58, 17, -5, 1, 0],
                      [-1, 4, -11, 40, 40, -11, 4, -1], [0, 1, -5, 17, 58, -10, 4, -1]])
CHROMA_4TAP = np.array([[0, 64, 0, 0], [-2, 58, 10, -2], [-4, 54, 16, -2], [-6, 46, 28, -4],
                        [-4, 36, 36, -4], [-4, 28, 46, -6], [-2, 16, 54, -4], [-2, 10, 58, -2]])
# Per unit: per plane kind (luma, chroma), the bank and how the luma vector becomes the plane's
# (right shift): quarter luma samples are eighth chroma samples as they stand.
BANKS = {HALF: ((BILINEAR, 0), (BILINEAR, 1)), QUARTER: ((LUMA_8TAP, 0), (CHROMA_4TAP, 0))}
# Encoder: the default block size (presets may try others: codec/config.PRESETS), and the
# weighted SATD a bit of vectors is worth when choosing modes and vectors, in units of
# sqrt(1/λ) (as the usual motion-search λ is the square root of the mode λ). On training clips
# (bikes, cockatoo, carphone; 9 frames, GOP 8, q 32-63) 16x16 blocks beat 8x8 by 1.5-12 %
# BD-rate and 32x32 by 8 %; PENALTY 1 beats 2 by 0.4-1.8 % and 4 by 4-9 % (and 0.7 or 1.4 by
# 0.1-0.5 % under SATD). SATD, MERGE and BI switch off (for ablations) the choice by SATD
# rather than SAD, the vector-prediction candidate and the B frames' jointly refined pairs
# (benchmarks/notes/block-motion-2026-12-06.md); MOTION_ONLY the motion-only frames.
LOG2_SIZE = 4
PENALTY = 1.0
SATD = True
MERGE = True
BI = True
MOTION_ONLY = True
# Names the encoder's choices in benchmark caches (eval/lvc_codec.py): bumped when they change.
ENCODER_REVISION = 3


@dataclass
class BlockMotion:
    """Per block of `size` luma samples, raster order: its mode and a vector per reference
    ((rows, cols, refs, 2) integers: dy, dx in steps of 2^-unit luma samples; only the modes'
    own are coded)."""

    log2_size: int
    modes: np.ndarray
    vectors: np.ndarray
    unit: int = UNIT

    @property
    def size(self) -> int:
        return 1 << self.log2_size


def _grid(height: int, width: int, size: int) -> tuple:
    return -(-height // size), -(-width // size)


def _uses(mode: int, ref: int) -> bool:
    return mode == AVERAGE or mode == PAST + ref


def _predictor(sent: list, r: int, c: int, ref: int) -> tuple:
    """A vector's prediction: the left block's vector for that reference if it has one, else the
    above block's, else zero (sent[r][c][ref]: the vector a block sent, None if it uses no
    vector of that reference)."""
    if c > 0 and sent[r][c - 1][ref] is not None:
        return sent[r][c - 1][ref]
    if r > 0 and sent[r - 1][c][ref] is not None:
        return sent[r - 1][c][ref]
    return (0, 0)


def _scan_vectors(motion: BlockMotion, refs: int, code_component):
    """Raster order of blocks, each reference in order, dy then dx: code_component(model, d) codes
    a component's difference from its prediction and returns it."""
    rows, cols = motion.modes.shape
    sent = [[[None] * refs for _ in range(cols)] for _ in range(rows)]
    models = [[AdaptiveModel(MAX_CLASS[motion.unit] + 1) for _ in range(2)] for _ in range(2)]
    for r in range(rows):
        for c in range(cols):
            for k in range(refs):
                if not _uses(int(motion.modes[r, c]), k):
                    continue
                pred = _predictor(sent, r, c, k)
                v = tuple(p + code_component(models[k][j], int(motion.vectors[r, c, k, j]) - p)
                          for j, p in enumerate(pred))
                motion.vectors[r, c, k] = v
                sent[r][c][k] = v


def encode_block_motion(motion: BlockMotion, refs: int) -> bytes:
    """The substream: a byte (the log2 block size + 16 × (unit − 1)), then range-coded modes and
    vector differences."""
    enc = new_encoder()
    encode_symbol_map(enc, motion.modes, _alphabet(refs))

    def component(model, d):
        encode_signed(enc, model, d)
        return d

    _scan_vectors(BlockMotion(motion.log2_size, motion.modes, motion.vectors.copy(), motion.unit),
                  refs, component)
    return bytes([motion.log2_size | (motion.unit - 1) << 4]) + finish(enc)


def decode_block_motion(substream: bytes, height: int, width: int, refs: int) -> BlockMotion:
    """Mirror of encode_block_motion for a `height × width` picture with `refs` references."""
    if not substream:
        raise CorruptStream("block-motion substream is empty")
    log2, unit = substream[0] & 15, (substream[0] >> 4) + 1
    if log2 not in LOG2_SIZES:
        raise CorruptStream(f"block-motion block size 2^{log2} out of range (8..64)")
    if unit not in MAX_CLASS:
        raise CorruptStream(f"block-motion vector unit {unit} unknown")
    dec = new_decoder(substream[1:])
    rows, cols = _grid(height, width, 1 << log2)
    modes = decode_symbol_map(dec, rows, cols, _alphabet(refs))
    if refs == 1 and modes.max(initial=0) > PAST:
        raise CorruptStream("block-motion mode out of range")

    def component(model, _):
        return decode_signed(dec, model)

    motion = BlockMotion(log2, modes, np.zeros((rows, cols, refs, 2), dtype=np.int64), unit)
    _scan_vectors(motion, refs, component)
    if np.abs(motion.vectors).max(initial=0) >= 1 << MAX_CLASS[unit]:
        raise CorruptStream("block-motion vector out of range")
    return motion


def _alphabet(refs: int) -> int:
    return 2 if refs == 1 else 4


# -- prediction (both ends) ---------------------------------------------------------------------

def _shift(bank: np.ndarray) -> int:
    """The right shift that undoes both passes' gain: each phase's taps sum to 2^(shift/2)."""
    return 2 * (int(bank[0].sum()).bit_length() - 1)


_TAP_MATRICES = {}


def _tap_matrices(bank: np.ndarray, size: int) -> np.ndarray:
    """Per phase p of `bank`, the (size + n - 1, size) matrix T with T[j + t, j] = bank[p, t]: a
    window's rows times T are its rows filtered across, and T's transpose times the window filters
    it down (integer products: the same sums as tap by tap). Made once per bank and size."""
    key = (bank.tobytes(), bank.shape, size)
    if key not in _TAP_MATRICES:
        phases, n = bank.shape
        m = np.zeros((phases, size + n - 1, size), dtype=np.int32)
        j = np.arange(size)
        for t in range(n):
            m[:, j + t, j] = bank[:, t][:, None]
        m.flags.writeable = False
        _TAP_MATRICES[key] = m
    return _TAP_MATRICES[key]


def _filter(win: np.ndarray, fy, fx, size: int, bank: np.ndarray):
    """Blocks (..., size, size) interpolated from their windows `win` (..., size + n - 1,
    size + n - 1) at the phases `fy`, `fx` (integers, or arrays of the leading shape) of `bank`:
    rows of taps across, then down, rounded once at the end and clipped to 8 bits. A tap of zero
    phase is the sample itself times the taps' sum, so whole-sample vectors copy."""
    t = _tap_matrices(bank, size)
    down = np.matmul(t[fy].swapaxes(-1, -2), np.matmul(win, t[fx]))
    shift = _shift(bank)
    return np.clip((down + (1 << (shift - 1))) >> shift, 0, 255)


def _displaced(plane: np.ndarray, size: int, vectors: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """Each block of `plane` (size × size, raster grid) taken from `plane` displaced by its
    vector (rows, cols, 2), in steps of 1/P sample for a bank of P phases: the samples at
    (y + (v >> log2 P) + k, ...) for the bank's taps k, weighted by the taps of the vector's
    fraction (v & (P - 1)); coordinates clamped to the plane (edge extension). (H', W') whole
    blocks, int32, H' ≥ H.

    Computed as flat gathers from the plane edge-extended by a margin that every coordinate
    stays within, so the clamping is the padding's and needs no per-sample work."""
    rows, cols = vectors.shape[:2]
    phases, n = bank.shape
    frac = phases.bit_length() - 1
    iy, ix = vectors[..., 0] >> frac, vectors[..., 1] >> frac
    m = size + n + int(max(np.abs(iy).max(initial=0), np.abs(ix).max(initial=0)))
    padded = np.pad(plane.astype(np.int32, copy=False), m, mode="edge")
    wp = padded.shape[1]
    o = m - (n // 2 - 1)  # the window starts n/2 - 1 samples before the integer position
    top = (o + np.arange(rows)[:, None] * size + iy) * wp + o + np.arange(cols)[None, :] * size + ix
    i = np.arange(size + n - 1)
    win = padded.ravel()[top[:, :, None, None] + (i * wp)[:, None] + i]  # (rows, cols, ., .)
    out = _filter(win, vectors[..., 0] & (phases - 1), vectors[..., 1] & (phases - 1), size, bank)
    return out.swapaxes(1, 2).reshape(rows * size, cols * size)


def _expand(modes: np.ndarray, size: int, shape) -> np.ndarray:
    return np.repeat(np.repeat(modes, size, 0), size, 1)[: shape[0], : shape[1]]


def _displaced_frame(ref: Frame, size: int, vectors: np.ndarray, unit: int) -> list:
    """The planes of `ref` displaced block by block (luma blocks of `size`, vectors (rows, cols,
    2) in the unit's luma steps; chroma through BANKS), cropped to the picture: int32."""
    out = []
    for k, plane in enumerate((ref.y, ref.u, ref.v)):
        bank, shift = BANKS[unit][int(k > 0)]
        h, w = plane.shape
        out.append(_displaced(plane, size >> int(k > 0), vectors >> shift, bank)[:h, :w])
    return out


def _mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The mean of two predictions, rounded up."""
    return (a + b + 1) >> 1


def predict(motion: BlockMotion, base: Frame | None, refs: list) -> Frame:
    """The prediction picture: per block, the base picture, a displaced reference picture or the
    rounded-up mean of the two (`(a + b + 1) >> 1`). Chroma blocks are half the size; quarter
    luma samples are eighth chroma samples, and half luma samples are halved (arithmetic shift)
    into half chroma samples (BANKS). A motion-only frame has no base picture: no block may
    use it."""
    if base is None:
        if not motion.modes.all():
            raise CorruptStream("a motion-only frame's block motion uses the nets' picture, "
                                "which it does not have")
        base = Frame(*(np.zeros_like(p) for p in (refs[0].y, refs[0].u, refs[0].v)))
    # Only the references some block uses are displaced (the encoder predicts whole pictures of
    # one mode while choosing).
    used = set(np.unique(motion.modes).tolist())
    cands = [_displaced_frame(ref, motion.size, motion.vectors[:, :, j], motion.unit)
             if used & {PAST + j, AVERAGE} else None for j, ref in enumerate(refs)]
    planes = []
    for k, plane in enumerate((base.y, base.u, base.v)):
        mode = _expand(motion.modes, motion.size >> int(k > 0), plane.shape)
        out = plane.copy()
        for j, cand in enumerate(cands):
            if PAST + j in used:
                out = np.where(mode == PAST + j, cand[k], out)
        if AVERAGE in used:
            out = np.where(mode == AVERAGE, _mean(cands[0][k], cands[1][k]), out)
        planes.append(out.astype(np.uint8))
    return Frame(*planes)


# -- encoder (informative) ----------------------------------------------------------------------

def _block_sums(x: np.ndarray, size: int) -> np.ndarray:
    """Sum over each size × size block of x (H, W), edge blocks partial."""
    h, w = x.shape
    rows, cols = _grid(h, w, size)
    p = np.pad(x, ((0, rows * size - h), (0, cols * size - w)))
    return p.reshape(rows, size, cols, size).sum(axis=(1, 3))


def _downscale_sums(plane: np.ndarray, f: int) -> np.ndarray:
    """Sums of the f × f blocks of a plane edge-extended to whole blocks (int32)."""
    h, w = plane.shape
    p = np.pad(plane.astype(np.int32), ((0, -h % f), (0, -w % f)), mode="edge")
    return p.reshape(p.shape[0] // f, f, p.shape[1] // f, f).sum(axis=(1, 3))


def search_motion(source: np.ndarray, ref: np.ndarray, size: int, radius: int = 60,
                  coarse: int = 4, refine: int = 2, unit: int = UNIT) -> np.ndarray:
    """Vectors (rows, cols, 2), in steps of 2^-unit samples, minimising the luma SAD of each
    block: a full search of ±radius samples on both pictures scaled down by `coarse` (SAD over
    the block's neighbourhood), then ±refine whole samples around it at full scale and ±1 step
    of each finer unit around that (the block's own SAD). With the defaults |v| < 63 samples,
    so that a difference of two stays within the syntax's range."""
    start = coarse_search(source, ref, size, radius, coarse) << unit
    return _refine(source.astype(np.int32), InterpolatedPlane(ref, BANKS[unit][0][0]), size, start,
                   refine)


def coarse_search(source: np.ndarray, ref: np.ndarray, size: int, radius: int = 60,
                  coarse: int = 4) -> np.ndarray:
    """search_motion's first stage: whole-sample vectors (rows, cols, 2), multiples of
    `coarse`: per block, the first of the shifts in raster order (dy, then dx) with the least
    SAD of the pictures' `coarse` × `coarse` means over the block and its 8 neighbours, plus
    1e-3 × (|dy| + |dx|) (ties to the shorter vector).

    The sums are of integers (the means' sums), one row of shifts at a time; the SADs divided
    by coarse² are exactly those of the means, as every partial sum is a multiple of 1/coarse²
    far below 2^53."""
    h, w = source.shape
    rows, cols = _grid(h, w, size)
    s4, r4 = _downscale_sums(source, coarse), _downscale_sums(ref, coarse)
    b4, R = max(size // coarse, 1), radius // coarse
    hs, ws = s4.shape
    pad = np.pad(r4, R, mode="edge")
    ties = np.array([[1e-3 * (abs(dy) + abs(dx)) for dx in range(-R, R + 1)]
                     for dy in range(-R, R + 1)])
    best = np.full((rows, cols), np.inf)
    vec = np.zeros((rows, cols, 2), dtype=np.int64)
    for i, dy in enumerate(range(-R, R + 1)):
        # Every dx of this dy at once: (2R + 1, hs, ws) differences.
        shifted = np.lib.stride_tricks.sliding_window_view(pad[R + dy: R + dy + hs], ws, axis=1)
        diff = np.abs(s4[None] - shifted.transpose(1, 0, 2))
        d = np.pad(diff, ((0, 0), (0, rows * b4 - hs), (0, cols * b4 - ws)))
        sad = d.reshape(-1, rows, b4, cols, b4).sum(axis=(2, 4))[:, :rows, :cols]
        # Over the block and its 8 neighbours: small blocks at a quarter of the resolution
        # match noise, their neighbourhoods the motion.
        p = np.pad(sad, ((0, 0), (1, 1), (1, 1)), mode="edge")
        sad = sum(p[:, a: a + rows, b: b + cols] for a in range(3) for b in range(3))
        sad = sad / coarse ** 2 + ties[i][:, None, None]
        first = sad.argmin(axis=0)  # the first dx of the least SAD, as a scan in dx would keep
        least = np.take_along_axis(sad, first[None], 0)[0]
        better = least < best
        best = np.where(better, least, best)
        vec[better] = np.stack([np.full_like(first, dy), first - R], axis=-1)[better] * coarse
    return vec


SEARCH_MARGIN = 144  # the encoder's vectors stay within 64 samples; + a block of 64 + the taps


class InterpolatedPlane:
    """A reference plane interpolated at every phase of a bank, edge-extended by `margin`
    samples: the encoder displaces one reference plane by many vectors while searching (each
    block size, each refinement step, the pairs of B frames), and each such picture is then one
    gather (the same samples as _displaced). Made once per reference and vector unit."""

    def __init__(self, plane: np.ndarray, bank: np.ndarray, margin: int = SEARCH_MARGIN):
        phases, n = bank.shape
        h, w = plane.shape
        self.frac, self.margin = phases.bit_length() - 1, margin
        e = np.pad(plane.astype(np.int32), margin + n, mode="edge")
        o = n - (n // 2 - 1)  # where tap 0 of output sample 0 sits in e, each way
        shift = _shift(bank)
        out = np.empty((phases, phases, h + 2 * margin, w + 2 * margin), dtype=np.uint8)
        for fx in range(phases):
            across = sum(int(t) * e[:, o + j:o + j + w + 2 * margin]
                         for j, t in enumerate(bank[fx]) if t)
            for fy in range(phases):
                down = sum(int(t) * across[o + i:o + i + h + 2 * margin]
                           for i, t in enumerate(bank[fy]) if t)
                out[fy, fx] = np.clip((down + (1 << (shift - 1))) >> shift, 0, 255)
        self.planes = out

    def displaced(self, size: int, vectors: np.ndarray) -> np.ndarray:
        """_displaced(plane, size, vectors, bank), for vectors that stay within the margin."""
        rows, cols = vectors.shape[:2]
        phases, _, hp, wp = self.planes.shape
        iy, ix = vectors[..., 0] >> self.frac, vectors[..., 1] >> self.frac
        m = self.margin
        if (np.abs(iy).max(initial=0) > m - size or np.abs(ix).max(initial=0) > m - size
                or rows * size > hp - 2 * m + size or cols * size > wp - 2 * m + size):
            raise ValueError("a vector beyond the interpolated planes' margin")
        which = (vectors[..., 0] & (phases - 1)) * phases + (vectors[..., 1] & (phases - 1))
        top = ((which * hp + m + np.arange(rows)[:, None] * size + iy) * wp
               + m + np.arange(cols)[None, :] * size + ix)
        i = np.arange(size)
        idx = top[:, None, :, None] + (i * wp)[None, :, None, None] + i[None, None, None, :]
        return self.planes.ravel()[idx].astype(np.int32).reshape(rows * size, cols * size)


def _refine(target: np.ndarray, ref: InterpolatedPlane, size: int, vec: np.ndarray,
            reach: int) -> np.ndarray:
    """Vectors around `vec` (in `ref`'s unit) minimising each block's SAD against `target`:
    ±reach whole samples, then ±1 step of each finer unit in turn around the best (half, then
    quarter sample)."""
    h, w = target.shape
    rows, cols = vec.shape[:2]
    unit = ref.frac
    for step, r in ((1 << unit, reach), *((1 << u, 1) for u in range(unit - 1, -1, -1))):
        best = np.full((rows, cols), np.inf)
        out = vec.copy()
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                cand = vec + step * np.array([dy, dx])
                sad = _block_sums(np.abs(target - ref.displaced(size, cand)[:h, :w]), size)
                better = sad < best
                best = np.where(better, sad, best)
                out[better] = cand[better]
        vec = out
    return vec


def bi_refine(source: np.ndarray, refs: list, size: int, searched: np.ndarray) -> np.ndarray:
    """Vectors (rows, cols, 2, 2) for the mean of both references (InterpolatedPlane, one
    unit): each reference's searched vector, the other's refined against what then best
    completes the mean (2 × source − the first's displaced picture), with ±1 whole sample and
    ±1 step of each finer unit (within ±(2^(MAX_CLASS - 1) - 1) steps, so that differences stay
    within the syntax)."""
    h, w = source.shape
    twice = 2 * source.astype(np.int32)
    limit = (1 << (MAX_CLASS[refs[0].frac] - 1)) - 1
    pairs = []
    for k in range(2):
        fixed = refs[k].displaced(size, searched[:, :, k])[:h, :w]
        other = _refine(twice - fixed, refs[1 - k], size, searched[:, :, 1 - k], 1)
        pair = searched.copy()
        pair[:, :, 1 - k] = np.clip(other, -limit, limit)
        pairs.append(pair)
    return np.stack(pairs)


def _vector_bits(v: tuple, pred: tuple) -> float:
    """Bits of a vector's difference from its prediction, roughly: per component its class (~1
    bit at 0, more beyond), sign and raw bits."""
    return 2.0 + 2.0 * ((v[0] - pred[0]).bit_length() + (v[1] - pred[1]).bit_length())


@lru_cache(maxsize=None)
def _hadamard(t: int) -> np.ndarray:
    """The orthonormal t × t Hadamard matrix, float32 (read-only: it is shared)."""
    h = np.ones((1, 1))
    while h.shape[0] < t:
        h = np.block([[h, h], [h, -h]])
    h = (h / np.sqrt(t)).astype(np.float32)
    h.flags.writeable = False
    return h


def _satd_sums(d: np.ndarray, size: int) -> np.ndarray:
    """Sum over each size × size block of d (H, W) of the absolute orthonormal Hadamard
    coefficients of its 8×8 tiles (smaller blocks: one tile): what a transform coder pays for
    a residual, better than its SAD (edge blocks zero-padded)."""
    h, w = d.shape
    rows, cols = _grid(h, w, size)
    t = min(8, size)
    p = d.astype(np.float32)
    if p.shape != (rows * size, cols * size):
        p = np.pad(p, ((0, rows * size - h), (0, cols * size - w)))
    tiles = p.reshape(rows * size // t, t, cols * size // t, t).swapaxes(1, 2)
    hm = _hadamard(t)
    c = np.abs(hm @ tiles @ hm.T).sum(axis=(2, 3))
    return c.reshape(rows, size // t, cols, size // t).sum(axis=(1, 3))


def _block_costs(source: Frame, pred: Frame, size: int) -> np.ndarray:
    """Weighted SATD of each block: luma + 2/3 of each chroma plane's (MSE-YUV's 6:1:1 per
    sample)."""
    cost = 0.0
    for k, (p, s) in enumerate(zip((pred.y, pred.u, pred.v), (source.y, source.u, source.v))):
        d = p.astype(np.int32) - s.astype(np.int32)
        sums = _satd_sums(d, size >> int(k > 0)) if SATD else _block_sums(np.abs(d), size >> int(k > 0))
        cost = cost + sums * (1.0 if k == 0 else 2 / 3)
    return cost


MARGIN = 200  # edge extension of the encoder's padded planes: > 128 samples of vector + a block


def _displaced_block(padded: np.ndarray, y: int, x: int, size: int, v, bank: np.ndarray) -> np.ndarray:
    """The size × size block at (y, x) of a plane displaced by v, as _displaced makes it, from
    the plane edge-extended by MARGIN (so no coordinate needs clamping)."""
    phases, n = bank.shape
    frac = phases.bit_length() - 1
    y0 = MARGIN + y + (int(v[0]) >> frac) - (n // 2 - 1)
    x0 = MARGIN + x + (int(v[1]) >> frac) - (n // 2 - 1)
    win = padded[y0:y0 + size + n - 1, x0:x0 + size + n - 1]
    return _filter(win, int(v[0]) & (phases - 1), int(v[1]) & (phases - 1), size, bank)


def choose_motion(source: Frame, bases: list, refs: list, searched: np.ndarray, log2_size: int,
                  penalty: float, pairs=(), unit: int = UNIT) -> list:
    """Per base picture of `bases`, the modes and vectors, block by block in raster order,
    minimising weighted SATD + `penalty` × the estimated bits of the mode's vector differences,
    which depend on the choices before. Each reference's candidates: the block's searched
    vector, zero, the searched vectors of the blocks to its left and above, and the vector's
    prediction (which costs fewest bits); for the mean of both, each combination of those and
    each of `pairs` ((rows, cols, 2, 2)). A base None (a motion-only frame) makes every block
    take a reference mode. The candidates' costs are shared by all the bases."""
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

    # Each reference displaced by each candidate once; the means of both are made from those.
    shown = [[_displaced_frame(refs[k], size, cands[k][c], unit) for c in range(C)]
             for k in range(n)]
    single = [[_block_costs(source, Frame(*shown[k][c]), size) for c in range(C)] for k in range(n)]
    both = None
    if n == 2:
        both = [[_block_costs(source, Frame(*map(_mean, shown[0][a], shown[1][b])), size)
                 for b in range(C)] for a in range(C)]

    def displaced(k, vectors):  # reference k displaced by `vectors`: a candidate's picture if one is
        i = next((i for i in range(C) if np.array_equal(cands[k][i], vectors)), None)
        return _displaced_frame(refs[k], size, vectors, unit) if i is None else shown[k][i]

    # A pair keeps one reference's searched vector (bi_refine): that side is a candidate's picture.
    pair_costs = [_block_costs(source, Frame(*map(_mean, displaced(0, p[:, :, 0]),
                                                  displaced(1, p[:, :, 1]))), size) for p in pairs]
    planes = (source.y, source.u, source.v)
    padded = [[np.pad(p.astype(np.int32), MARGIN, mode="edge") for p in (f.y, f.u, f.v)]
              for f in refs]
    displaced_blocks, block_cost = {}, {}

    def block(k, j, r, c, vec, i):  # plane j of reference k displaced by vec, block (r, c)
        sz = size >> int(j > 0)
        y, x = r * sz, c * sz
        if i is not None:  # a candidate: cut from its picture
            return shown[k][i][j][y:y + sz, x:x + sz]
        key = (k, j, r, c, vec)
        if key not in displaced_blocks:
            bank, shift = BANKS[unit][int(j > 0)]
            h, w = planes[j].shape[0] - y, planes[j].shape[1] - x
            displaced_blocks[key] = _displaced_block(padded[k][j], y, x, sz,
                                                     np.asarray(vec, dtype=np.int64) >> shift,
                                                     bank)[:h, :w]
        return displaced_blocks[key]

    def cost_of(r, c, mode, vecs):  # one block's weighted SATD; vecs {ref: (vector, index)}
        key = (r, c, mode, *(v for k in sorted(vecs) for v in vecs[k][0]))
        if key not in block_cost:
            total = 0.0
            for j, s in enumerate(planes):
                sz = size >> int(j > 0)
                blocks = {k: block(k, j, r, c, *vecs[k]) for k in vecs}
                p = blocks[mode - PAST] if mode != AVERAGE else _mean(blocks[0], blocks[1])
                y, x = r * sz, c * sz
                d = p - s[y:y + sz, x:x + sz].astype(np.int32)
                sums = _satd_sums(d, sz) if SATD else np.abs(d).sum()
                total += float(np.sum(sums)) * (1.0 if j == 0 else 2 / 3)
            block_cost[key] = total
        return block_cost[key]

    # The raster scan works on Python numbers (the same values: float32 costs widen exactly).
    cand_vecs = [[[[tuple(v) for v in row] for row in cands[k][i].tolist()] for i in range(C)]
                 for k in range(n)]
    single = [[x.tolist() for x in costs] for costs in single]
    both = both and [[x.tolist() for x in costs] for costs in both]
    pairs = [[[[tuple(v) for v in block] for block in row] for row in p.tolist()] for p in pairs]
    pair_costs = [x.tolist() for x in pair_costs]

    def choose(base_cost) -> BlockMotion:
        modes = np.zeros((rows, cols), dtype=np.int64)
        vectors = np.zeros((rows, cols, n, 2), dtype=np.int64)
        chosen = [[[None] * n for _ in range(cols)] for _ in range(rows)]  # vectors sent
        base_cost = base_cost.tolist()
        for r in range(rows):
            for c in range(cols):
                preds = [_predictor(chosen, r, c, k) for k in range(n)]
                # Per reference: (vector, bits, cost as single, index into cands or None).
                options = []
                for k in range(n):
                    opts = [(v, _vector_bits(v, preds[k]), single[k][i][r][c], i)
                            for i, v in ((i, cand_vecs[k][i][r][c]) for i in range(C))]
                    if MERGE and not any(o[0] == preds[k] for o in opts):
                        opts.append((preds[k], _vector_bits(preds[k], preds[k]),
                                     cost_of(r, c, PAST + k, {k: (preds[k], None)}), None))
                    options.append(opts)
                best = (base_cost[r][c], BASE, ())
                for k in range(n):
                    for vec, bits, cost, _ in options[k]:
                        cost = cost + penalty * bits
                        if cost < best[0]:
                            best = (cost, PAST + k, ((k, vec),))
                if n == 2:
                    for va, ba, _, a in options[0]:
                        for vb, bb, _, b in options[1]:
                            if a is not None and b is not None:
                                cost = both[a][b][r][c]
                            else:
                                cost = cost_of(r, c, AVERAGE, {0: (va, a), 1: (vb, b)})
                            cost = cost + penalty * (ba + bb)
                            if cost < best[0]:
                                best = (cost, AVERAGE, ((0, va), (1, vb)))
                    for pair, pc in zip(pairs, pair_costs):
                        va, vb = pair[r][c]
                        cost = pc[r][c] + penalty * (_vector_bits(va, preds[0])
                                                     + _vector_bits(vb, preds[1]))
                        if cost < best[0]:
                            best = (cost, AVERAGE, ((0, va), (1, vb)))
                modes[r, c] = best[1]
                for k, vec in best[2]:
                    vectors[r, c, k] = vec
                    chosen[r][c][k] = vec
        return BlockMotion(log2_size, modes, vectors, unit)

    return [choose(np.full((rows, cols), np.inf) if base is None
                   else _block_costs(source, base, size)) for base in bases]


def motion_compensated_layer(source: Frame, base: Frame, refs: list, lam: float,
                             plain: tuple, log2_sizes=(LOG2_SIZE,), nets_bytes=None,
                             units=(UNIT,)) -> tuple | None:
    """The cheapest in bits + λ · MSE-YUV of `plain` (ResidualEncoder.cheapest's (substream or
    None, picture, cost) on the nets' picture, nothing among its options) and, for each block
    size of `log2_sizes` and vector unit of `units`, a block-motion prediction followed by a
    residual layer on it (or by an empty one); with `nets_bytes` (the size of the nets'
    substreams), also the motion-only frames, which save those bytes.
    base and plain None: the motion-only frames alone (no nets ran).
    -> (substreams, picture, motion_only) or None."""
    # The block modes' bases: the nets' picture where they ran; none for motion-only frames.
    bases = ([] if base is None else [base]) + (
        [None] if MOTION_ONLY and (base is None or nets_bytes is not None) else [])
    if not bases:
        return None
    nets = 0.0 if nets_bytes is None else 8 * nets_bytes / source.y.size
    penalty = PENALTY * np.sqrt(1.0 / lam)
    options = [] if plain is None else [
        ([] if plain[0] is None else [plain[0]], plain[1], plain[2] + nets, False)]
    target = source.y.astype(np.int32)
    # Each reference's luma at every phase of each unit: made once, for every block size.
    interpolated = {u: [InterpolatedPlane(r.y, BANKS[u][0][0]) for r in refs] for u in units}
    for log2 in log2_sizes:
        size = 1 << log2
        starts = [coarse_search(source.y, ref.y, size) for ref in refs]
        for unit in units:
            searched = np.stack([_refine(target, ref, size, start << unit, 2)
                                 for start, ref in zip(starts, interpolated[unit])], axis=2)
            pairs = (bi_refine(source.y, interpolated[unit], size, searched)
                     if len(refs) == 2 and BI else ())
            for b, motion in zip(bases, choose_motion(source, bases, refs, searched, log2, penalty,
                                                      pairs, unit)):
                if not motion.modes.any():
                    continue
                head = encode_block_motion(motion, len(refs))
                pred = predict(motion, b, refs)
                data, picture, cost = ResidualEncoder(source, pred).cheapest(
                    lam, [None, *candidate_steps(lam)], overhead=len(head), empty=True)
                options.append(([head, data], picture, cost + (0.0 if b is None else nets),
                                b is None))
    substreams, picture, _, alone = min(options, key=lambda o: o[2])
    return (substreams, picture, alone) if substreams else None
