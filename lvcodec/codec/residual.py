"""The residual layer: what the nets' picture misses, transform-coded on top of it (§4.7).

The nets' reconstruction saturates (their transforms cannot represent fine texture: benchmarks/
notes/intra-ceiling-2026-12-02.md), so above some quality a frame may carry one more substream:
the difference between the source and the decoded 8-bit picture, in 8x8 blocks of each plane,
through an integer DCT (HEVC's 8-point matrix), uniformly quantized and range-coded under
zero-mean Gaussians whose scales the substream gives per plane and coefficient group, shifted per
block by the activity of the nets' picture there and (9.0) per coefficient by its context: its
band's range and the nonzero levels below it in its block. The decoder adds it back with integer
arithmetic only (numpy int64: exact on every machine), and the sum, deblocked (10.0, codec/
deblock.py), is the frame's picture: what it outputs, hashes and later frames reference.

The encoder chooses per frame whether to send it, and the quantizer steps, by rate + λ(q) ·
distortion, the cost the nets were trained on: at low q it rarely pays.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lvcodec.bitstream import CodingStructure
from lvcodec.bitstream.syntax import VERSION_MAJOR
from lvcodec.codec.deblock import OFF, STRENGTHS, choose_strengths, deblock
from lvcodec.entropy import GaussianCoder, ScaleTable, finish, new_decoder, new_encoder
from lvcodec.entropy.adaptive import AdaptiveModel, decode_signed, encode_signed
from lvcodec.errors import CorruptStream
from lvcodec.io import Frame
from lvcodec.rd import plane_mse

__all__ = ["PlaneResidual", "ResidualEncoder", "encode_residual", "decode_residual", "rd_cost",
           "with_deblocking", "candidate_steps", "optimal_step_index", "step_of", "STEP_INDICES",
           "SEARCH", "LAMBDA_SCALES", "lambda_scale"]

N = 8  # transform size
# HEVC's 8-point DCT-II matrix: rows ~ 64 * sqrt(8) * the orthonormal basis, so that
# M.T @ C @ M / 2**15 inverts a coefficient block C scaled as M @ X @ M.T / 2**15.
M = np.array([
    [64, 64, 64, 64, 64, 64, 64, 64],
    [89, 75, 50, 18, -18, -50, -75, -89],
    [83, 36, -36, -83, -83, -36, 36, 83],
    [75, -18, -89, -50, 50, 89, 18, -75],
    [64, -64, -64, 64, 64, -64, -64, 64],
    [50, -89, 18, 75, -75, -18, 89, -50],
    [36, -83, 83, -36, -36, 83, -83, 36],
    [18, -50, 75, -89, 89, -75, 50, -18],
], dtype=np.int64)
STEP_FRAC = 6  # steps in units of 1/64 sample
STEP_BASE = (64, 72, 81, 91, 102, 114)  # ~64 * 2^(k/6): the step doubles every 6 indices
STEP_INDICES = 48  # step index 0..47: 1 .. 228 samples
NO_RESIDUAL = 0xFF  # a plane's step byte when the plane carries nothing
# A layer's head: a step byte per plane, then (10.0) a deblocking strength byte per plane (§4.9),
# written OFF until the encoder has chosen them for the frame's final picture (with_deblocking).
STEPS_END, HEAD_END = 3, 6
EMPTY_LAYER = bytes([NO_RESIDUAL] * 3 + [OFF] * 3)  # a layer of no plane (only after a block-motion prediction)
SHIFT = 15 + STEP_FRAC  # the inverse transform's scaling, applied once, rounding half up
# Coefficients share a scale by frequency band u + v and orientation (u < v, u = v, u > v): 34
# groups; each block adds the offset of its activity class, from the variance of the nets'
# picture in the block (which the decoder has): textured blocks miss more.
_U, _V = np.meshgrid(np.arange(N), np.arange(N), indexing="ij")
_KEY = 3 * (_U + _V) + np.sign(_U - _V) + 1
GROUP = np.searchsorted(np.unique(_KEY), _KEY)  # (8, 8) -> group 0..33
GROUPS = int(GROUP.max()) + 1
# 9.0: the levels are coded band by band (u + v = 0, 1, … 14), each coefficient in a context:
# its band's range (bands 0-2, 3-6, 7-14) and how many nonzero levels its block holds in the
# lower bands (count bucket k from COUNT_BOUNDS[k - 1]): a block whose low frequencies are zero
# seldom has high ones, the more so the higher the band. Each context adds its offset to the
# scale index (bucket 0's is 0 in every range: the groups' own scales). On the levels of training
# clips' layers, -6.2 % of their bits (benchmarks/notes/residual-format9-2026-12-07.md).
BAND = _U + _V
BANDS = 2 * N - 1
# A block's 64 coefficients in band order (within a band, row by row), so each band is a slice.
BAND_ORDER = np.argsort(BAND.ravel(), kind="stable")
_STARTS = np.searchsorted(BAND.ravel()[BAND_ORDER], np.arange(BANDS + 1))
BAND_SLICES = [slice(int(a), int(b)) for a, b in zip(_STARTS[:-1], _STARTS[1:])]
BANDED_GROUP = GROUP.ravel()[BAND_ORDER]
COUNT_BOUNDS = (1, 2, 3, 5, 9)
COUNTS = len(COUNT_BOUNDS) + 1
RANGE_OF_BAND = np.searchsorted(np.asarray((3, 7)), np.arange(BANDS), side="right")
RANGES = int(RANGE_OF_BAND.max()) + 1
CONTEXTS = RANGES * COUNTS  # context = range * COUNTS + count bucket
CODED_CONTEXTS = RANGES * (COUNTS - 1)  # the offsets a layer sends (not those of bucket 0)
CONTEXT_FROM = 9  # the first format major with contexts and range-coded tables
DEBLOCK_FROM = 10  # the first format major whose layers end in the deblocking filter (§4.9)
TABLE_CLASSES = 8  # a table value's class (bit length of |value|, < 128): an alphabet of 8
# 64^2 x the block variance (64 * sum x^2 - (sum x)^2, an integer) from which a block is in the
# next class: standard deviations 1.5, 3.5, 7.5 and 15.5 samples.
ACTIVITY_BOUNDS = (9216, 50176, 230400, 984064)
CLASSES = len(ACTIVITY_BOUNDS) + 1
DEADZONE = 1 / 3  # encoder-side rounding offset of the quantizer (not part of the format)
# Encoder-side rate-distortion optimised quantization (not part of the format): each level chosen
# among round-to-nearest, one less and zero by its bits under the fitted tables + λ · distortion,
# then the tables fitted again to the levels chosen (RDOQ_ROUNDS times). 0: dead-zone levels only.
RDOQ_ROUNDS = 1
# Encoder-side (not part of the format): a plane whose levels are all zero is not sent (the same
# picture without its 40-byte header and its levels' bits). Half the planes of a random-access
# stream at q 32 are such, mostly the chroma of B frames: -2.1 % BD-rate on carphone
# (benchmarks/notes/residual-planes-2026-12-07.md). Dropping also the planes whose estimated bits
# exceed the λ-weighted distortion they remove was worse (-1.0 %: later frames lose them too).
SKIP_ZERO_PLANES = True
# Weight of a plane's squared error in bits + λ · MSE-YUV, per luma pixel: 6/8 for luma, and
# 1/8 × 4 (a quarter of the pixels) for each chroma plane.
PLANE_WEIGHT = (6 / 8, 1 / 2, 1 / 2)
# Chroma step index = luma's - 4 (x0.63): the nets' chroma is poor and its residual smooth, so
# finer chroma steps pay (BD-rate -3.6 % against +2 on four training images; -3..-5 alike).
CHROMA_STEP_OFFSET = -4
# Luma step indices tried, from the high-rate optimum (optimal_step_index): on training images
# the cheapest is 2..4 indices coarser (the levels are mostly 0, far from high rate).
SEARCH = (1, 3, 5)
# Each frame's residual layer is chosen at λ(q) × a scale, by the frame's role: the nets are the
# weaker coder at the margin (at equal λ the residual layer buys distortion for fewer bits).
# Random access: its anchors (I and P frames, which every B frame of the GOP predicts from) ×4,
# its B frames (which reach their references' quality cheaply through the block-motion
# prediction, §4.8) ×3. All-intra ×4, as random access's I frames. Low delay ×1. On training
# clips (preset fast, q 16-63; benchmarks/notes/residual-lambda-2026-12-07.md): B frames ×3
# against ×2 -1.0, -1.0, -0.6 % BD-rate (carphone, bikes, cockatoo); all-intra ×4 against ×1
# -0.4 ... -7.0 %, mean -4.2 % on five pictures; low delay ×2 or ×4 +4.1 ... +4.5 % on bikes,
# +2.7 ... +2.9 % on cockatoo, -0.2 ... -0.9 % on carphone. (Anchors ×4 / B ×2 against 2 / 1
# came first, before quarter samples: -8.2 ... -12.7 %, benchmarks/notes/block-motion-2026-12-06.md.)
LAMBDA_SCALES = {"anchor": 4.0, "b": 3.0, "low_delay": 1.0, "intra": 4.0}


def lambda_scale(structure: CodingStructure, temporal_layer: int) -> float:
    """LAMBDA_SCALES of a frame: by its stream's structure and, in random access, its layer."""
    if structure == CodingStructure.RANDOM_ACCESS:
        return LAMBDA_SCALES["anchor" if temporal_layer == 0 else "b"]
    return LAMBDA_SCALES["intra" if structure == CodingStructure.ALL_INTRA else "low_delay"]


def step_of(index: int) -> int:
    """Quantizer step of a step index, in units of 2**-STEP_FRAC samples (exact integers)."""
    return STEP_BASE[index % 6] << (index // 6)


@dataclass
class PlaneResidual:
    """One plane's layer: step index, the scale-table index of each coefficient group, the
    (signed) index offset of each activity class and (9.0) of each context outside count bucket
    0, range by range."""

    step: int
    groups: tuple
    offsets: tuple
    contexts: tuple = (0,) * CODED_CONTEXTS


def _blocks(plane: np.ndarray) -> np.ndarray:
    """(H, W) -> (rows, cols, 8, 8), the plane edge-extended to whole blocks."""
    h, w = plane.shape
    p = np.pad(plane, ((0, -h % N), (0, -w % N)), mode="edge")
    return p.reshape(p.shape[0] // N, N, p.shape[1] // N, N).swapaxes(1, 2)


def _unblocks(blocks: np.ndarray, shape) -> np.ndarray:
    r, c = blocks.shape[:2]
    return blocks.swapaxes(1, 2).reshape(r * N, c * N)[: shape[0], : shape[1]]


def _classes(base: np.ndarray) -> np.ndarray:
    """Activity class 0..CLASSES-1 of each block of the nets' picture (integers only)."""
    b = _blocks(base).astype(np.int64)
    s = b.sum(axis=(2, 3))
    var = N * N * (b * b).sum(axis=(2, 3)) - s * s
    return np.searchsorted(np.asarray(ACTIVITY_BOUNDS), var, side="right")


def _indexes(layer: PlaneResidual, classes: np.ndarray) -> np.ndarray:
    """The scale-table index of every coefficient, (rows, cols, 8, 8), all in context 0 (before
    9.0, every coefficient)."""
    g = np.asarray(layer.groups, dtype=np.int64)[GROUP]
    o = np.asarray(layer.offsets, dtype=np.int64)[classes]
    return np.clip(g[None, None] + o[..., None, None], 0, _table().levels - 1)


def _by_band(layer: PlaneResidual, classes: np.ndarray, choose) -> np.ndarray:
    """Band-ordered levels (rows, cols, 64) made band by band: choose(slice, indexes) gives a
    band's levels of every block from the scale-table indexes of its coefficients, (rows, cols,
    n), which depend on the nonzero levels the lower bands hold. RDOQ, the encoder and the
    decoder all walk the bands this way, so their contexts agree."""
    groups = np.asarray(layer.groups, dtype=np.int64)[BANDED_GROUP]
    per_block = np.asarray(layer.offsets, dtype=np.int64)[classes]
    per_context = _context_offsets(layer)
    top = _table().levels - 1
    levels = np.zeros((*classes.shape, N * N), dtype=np.int64)
    count = np.zeros(classes.shape, dtype=np.int64)
    for b, sl in enumerate(BAND_SLICES):
        shift = per_block + per_context[_context_of(count, b)]
        band = choose(sl, np.clip(groups[sl] + shift[..., None], 0, top))
        levels[..., sl] = band
        count += (band != 0).sum(-1)
    return levels


def _context_offsets(layer: PlaneResidual) -> np.ndarray:
    """The scale-index offset of every context (those of count bucket 0 are 0)."""
    full = np.zeros((RANGES, COUNTS), dtype=np.int64)
    full[:, 1:] = np.asarray(layer.contexts, dtype=np.int64).reshape(RANGES, COUNTS - 1)
    return full.ravel()


def _context_of(count: np.ndarray, band) -> np.ndarray:
    """The context of the coefficients of `band` in blocks whose lower bands hold `count`
    nonzero levels."""
    return RANGE_OF_BAND[band] * COUNTS + np.searchsorted(np.asarray(COUNT_BOUNDS), count,
                                                          side="right")


def _banded(x: np.ndarray) -> np.ndarray:
    """(rows, cols, 8, 8) -> (rows, cols, 64) in band order."""
    return x.reshape(*x.shape[:2], N * N)[..., BAND_ORDER]


def _unbanded(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    out[..., BAND_ORDER] = x
    return out.reshape(*x.shape[:2], N, N)


def _banded_contexts(banded: np.ndarray) -> np.ndarray:
    """The context of every coefficient of band-ordered levels (rows, cols, 64)."""
    nonzero = np.add.reduceat((banded != 0).astype(np.int64), _STARTS[:-1], axis=-1)
    below = np.cumsum(nonzero, -1) - nonzero  # (rows, cols, band): nonzero levels in lower bands
    return np.repeat(_context_of(below, np.arange(BANDS)), np.diff(_STARTS), axis=-1)


def _inverse(levels: np.ndarray, step: int) -> np.ndarray:
    """Integer levels (rows, cols, 8, 8) -> residual samples: (M.T (levels * step) M + 2^(S-1))
    >> S, S = SHIFT, in int64 (|values| < 2^62 for any level the tables can code)."""
    coeffs = levels.astype(np.int64) * step
    x = np.matmul(np.matmul(M.T, coeffs), M)
    return (x + (1 << (SHIFT - 1))) >> SHIFT


def _planes(frame: Frame) -> tuple:
    return frame.y, frame.u, frame.v


def add_residual(base: Frame, layers: list, levels: list) -> Frame:
    """The frame's picture: the nets' picture plus the decoded residual, clipped to 8 bits."""
    planes = []
    for plane, layer, lv in zip(_planes(base), layers, levels):
        if layer is None:
            planes.append(plane)
            continue
        r = _unblocks(_inverse(lv, step_of(layer.step)), plane.shape)
        planes.append(np.clip(plane.astype(np.int64) + r, 0, 255).astype(np.uint8))
    return Frame(*planes)


# -- substream syntax (docs/bitstream.md §4.7) ---------------------------------------------------
# 9.0: each plane's step byte, then one range-coded stream: per plane present, its tables, then
# its levels band by band in context. Before 9.0 (decoded only): each plane's step byte and
# tables as bytes, then its levels in one pass, without contexts.

def _write(layers: list, data: bytes) -> bytes:
    return bytes([*(NO_RESIDUAL if layer is None else layer.step for layer in layers),
                  *(OFF,) * 3]) + data


def _step(byte: int) -> int | None:
    """A plane's step byte: its step index, or None where the plane carries nothing."""
    if byte == NO_RESIDUAL:
        return None
    if byte >= STEP_INDICES:
        raise CorruptStream(f"residual step index {byte} out of range (0..{STEP_INDICES - 1})")
    return byte


def _some_plane(planes: list, predicted: bool) -> list:
    if all(p is None for p in planes) and not predicted:
        raise CorruptStream("residual layer codes no plane")
    return planes


def _read_steps(substream: bytes, predicted: bool, strengths: bool) -> tuple[list, tuple, bytes]:
    """(steps, deblocking strengths (10.x; OFF before), the range-coded rest)."""
    head = HEAD_END if strengths else STEPS_END
    if len(substream) < head:
        raise CorruptStream("residual layer is truncated")
    filters = tuple(substream[STEPS_END:head]) or (OFF,) * 3
    if max(filters) > STRENGTHS:
        raise CorruptStream(f"deblocking strength {max(filters)} out of range (0..{STRENGTHS})")
    steps = [_step(b) for b in substream[:STEPS_END]]
    return _some_plane(steps, predicted), filters, substream[head:]


def with_deblocking(substream: bytes, source: Frame, picture: Frame) -> tuple[bytes, Frame]:
    """Encoder: a 10.x layer (written with OFF strengths) and its frame's picture -> the layer
    with the strengths that bring the picture closest to the source (choose_strengths), and
    the picture so filtered: what the decoder makes of it."""
    strengths, filtered = choose_strengths(source, picture)
    return substream[:STEPS_END] + bytes(strengths) + substream[HEAD_END:], filtered


def _encode_tables(enc, layer: PlaneResidual) -> None:
    """The group scales as differences from the previous group's (the first from 0), then the
    class and context offsets, each a signed value (encode_signed) under one of two adaptive
    models that start afresh with every plane."""
    scales, offsets = AdaptiveModel(TABLE_CLASSES), AdaptiveModel(TABLE_CLASSES)
    previous = 0
    for g in layer.groups:
        encode_signed(enc, scales, g - previous)
        previous = g
    for o in (*layer.offsets, *layer.contexts):
        encode_signed(enc, offsets, o)


def _decode_tables(dec, step: int) -> PlaneResidual:
    scales, offsets = AdaptiveModel(TABLE_CLASSES), AdaptiveModel(TABLE_CLASSES)
    groups, previous = [], 0
    for _ in range(GROUPS):
        previous += decode_signed(dec, scales)
        if not 0 <= previous < _table().levels:
            raise CorruptStream("residual scale index out of range")
        groups.append(previous)
    rest = [decode_signed(dec, offsets) for _ in range(CLASSES + CODED_CONTEXTS)]
    return PlaneResidual(step, tuple(groups), tuple(rest[:CLASSES]), tuple(rest[CLASSES:]))


def _code_levels(enc, banded: np.ndarray, layer: PlaneResidual, classes: np.ndarray) -> np.ndarray:
    """Codes a plane's band-ordered levels (_by_band); returns them clamped into their tables'
    supports, as the decoder reconstructs them."""
    def code(sl, idx):
        band = _coder().clamp(banded[..., sl], idx).astype(np.int64)
        _coder().encode(enc, band, idx)
        return band

    return _by_band(layer, classes, code)


def _decode_levels(dec, layer: PlaneResidual, classes: np.ndarray) -> np.ndarray:
    return _unbanded(_by_band(layer, classes,
                              lambda sl, idx: _coder().decode(dec, idx).reshape(idx.shape)))


def _read_fixed(substream: bytes, predicted: bool) -> tuple[list, bytes]:
    """Before 9.0: per plane its step byte and, if present, its tables as bytes."""
    pos, layers = 0, []
    for _ in range(3):
        if pos >= len(substream):
            raise CorruptStream("residual layer is truncated")
        step = _step(substream[pos])
        pos += 1
        if step is None:
            layers.append(None)
            continue
        fields = substream[pos: pos + GROUPS + CLASSES]
        if len(fields) < GROUPS + CLASSES:
            raise CorruptStream("residual layer is truncated")
        pos += GROUPS + CLASSES
        groups = tuple(fields[:GROUPS])
        if max(groups) >= _table().levels:
            raise CorruptStream("residual scale index out of range")
        offsets = tuple(b - 256 if b > 127 else b for b in fields[GROUPS:])
        layers.append(PlaneResidual(step, groups, offsets))
    return _some_plane(layers, predicted), substream[pos:]


@lru_cache(maxsize=1)
def _coder() -> GaussianCoder:
    return GaussianCoder()


def _table() -> ScaleTable:
    return _coder().table


def _shape(plane: np.ndarray) -> tuple:
    return -(-plane.shape[0] // N), -(-plane.shape[1] // N), N, N


def decode_residual(substream: bytes, base: Frame, predicted: bool = False,
                    version: int = VERSION_MAJOR) -> Frame:
    """The picture of a frame whose last substream is a residual layer; base: the nets' picture,
    or the block-motion prediction (§4.8, `predicted`: then the layer may code no plane);
    version: the stream's format major (the syntax changed in 9.0; 10.0 adds the deblocking
    strengths, §4.9)."""
    if version < CONTEXT_FROM:
        layers, data = _read_fixed(substream, predicted)
        dec = new_decoder(data)
        levels = [None if layer is None else
                  _coder().decode(dec, _indexes(layer, _classes(plane))).reshape(_shape(plane))
                  for plane, layer in zip(_planes(base), layers)]
        return add_residual(base, layers, levels)
    steps, strengths, data = _read_steps(substream, predicted, version >= DEBLOCK_FROM)
    dec = new_decoder(data)
    layers, levels = [], []
    for plane, step in zip(_planes(base), steps):
        layer = None if step is None else _decode_tables(dec, step)
        layers.append(layer)
        levels.append(None if layer is None else _decode_levels(dec, layer, _classes(plane)))
    return deblock(add_residual(base, layers, levels), strengths)


# -- encoder ----------------------------------------------------------------------------------

def _forward(source: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Transform coefficients of source - base, in sample units: integer sums, one division.
    Only the levels chosen from them are sent, but computed so they are the same on every
    machine and thread count, and so are the streams (--jobs, --threads)."""
    x = _blocks(source.astype(np.int64) - base.astype(np.int64))
    return np.matmul(np.matmul(M, x), M.T) / float(1 << 15)


class _CodeLengths:
    """-log2 of every scale-table pmf at every level in -R..R (levels beyond an entry's support
    count as clamped, as the encoder clamps them), in 1/65536 bit: the encoder's fitting as
    integer matrix products, whose choices no summation order can change."""

    R = 512

    def __init__(self):
        t = _table()
        v = np.arange(-self.R, self.R + 1)
        bits = np.stack([-np.log2(p[np.clip(v, -r, r) + r] / float(1 << 24))
                         for p, r in zip(t.pmfs, t.supports)])  # (entries, 2R + 1)
        self.matrix = np.round(bits * 65536).astype(np.int64)
        self.matrix_f64 = self.matrix.astype(np.float64)


@lru_cache(maxsize=1)
def _code_lengths() -> _CodeLengths:
    return _CodeLengths()


def _fit(banded: np.ndarray, classes: np.ndarray, step: int, rounds: int = 2) -> PlaneResidual:
    """The group indexes and class and context offsets that code the (band-ordered) levels in the
    fewest bits: histograms of the levels per (class, context, group), their code length under
    every table entry, then groups, class offsets and context offsets chosen in turn."""
    lengths = _code_lengths()
    top = lengths.matrix.shape[0] - 1
    v = np.clip(banded, -lengths.R, lengths.R) + lengths.R
    # Only the levels that occur count (a few dozen of the 2R + 1): a small histogram, and a
    # product small enough that no BLAS thread is woken (which, on a busy machine, cost 20 ms).
    used = np.flatnonzero(np.bincount(v.ravel(), minlength=2 * lengths.R + 1))
    compact = np.zeros(2 * lengths.R + 1, dtype=np.int64)
    compact[used] = np.arange(used.size)
    cell = ((classes[..., None] * CONTEXTS + _banded_contexts(banded)) * GROUPS
            + BANDED_GROUP) * used.size + compact[v]
    hist = np.bincount(cell.ravel(), minlength=CLASSES * CONTEXTS * GROUPS * used.size)
    hist = hist.reshape(CLASSES * CONTEXTS * GROUPS, used.size)
    # Only the (class, context, group) cells that hold levels cost anything: a few hundred of
    # the 3 060. Their bits under every table entry, (cells, entries): in binary64 for BLAS's
    # speed, and still exact, as are the sums below: every product and partial sum is an integer
    # below 2^53 (counts < 2^26 times lengths < 2^21 in 1/65536 bit, 2^47 at most in all), so no
    # summation order changes a choice.
    active = np.flatnonzero(hist.any(1))
    c_class, c_context, c_group = np.unravel_index(active, (CLASSES, CONTEXTS, GROUPS))
    cost = hist[active].astype(np.float64) @ lengths.matrix_f64[:, used].T
    shifts, entries = np.arange(-24, 25), np.arange(top + 1)
    rows = np.arange(active.size)[:, None]

    def total(key, n, index):  # sum over the cells of each key of their bits at `index`
        cols = index.shape[1]
        return np.bincount((key[:, None] * cols + np.arange(cols)).ravel(),
                           cost[rows, np.clip(index, 0, top)].ravel(), n * cols).reshape(n, cols)

    present_classes = np.isin(np.arange(CLASSES), c_class)
    # Count bucket 0 keeps offset 0 (the groups' own scales): it is never a coded context.
    coded_contexts = np.isin(np.arange(CONTEXTS), c_context) & (np.arange(CONTEXTS) % COUNTS > 0)
    offsets, contexts = np.zeros(CLASSES, dtype=np.int64), np.zeros(CONTEXTS, dtype=np.int64)
    for _ in range(rounds):
        # Each group's index given the offsets; then each class's offset given the rest; then
        # each context's.
        groups = total(c_group, GROUPS,
                       entries + (offsets[c_class] + contexts[c_context])[:, None]).argmin(1)
        per_class = total(c_class, CLASSES,
                          (groups[c_group] + contexts[c_context])[:, None] + shifts)
        offsets = np.where(present_classes, shifts[per_class.argmin(1)], 0)
        per_context = total(c_context, CONTEXTS,
                            (groups[c_group] + offsets[c_class])[:, None] + shifts)
        contexts = np.where(coded_contexts, shifts[per_context.argmin(1)], 0)
    return PlaneResidual(step, tuple(int(x) for x in groups), tuple(int(o) for o in offsets),
                         tuple(int(o) for o in contexts.reshape(RANGES, COUNTS)[:, 1:].ravel()))


def _rdoq(coeffs: np.ndarray, idx: np.ndarray, step: float, weight: float) -> np.ndarray:
    """Levels minimising bits + weight · (coefficient - level · step)² one coefficient at a time:
    the entropy model codes each level independently under its table entry `idx`, so this is the
    exact optimum over round-to-nearest, one less and zero, for the tables given."""
    lengths = _code_lengths()
    mag = np.abs(coeffs)
    sign = np.where(coeffs < 0, -1, 1)
    near = np.floor(mag / step + 0.5).astype(np.int64)
    cands = np.stack([near, np.maximum(near - 1, 0), np.zeros_like(near)])
    v = np.clip(sign * cands, -lengths.R, lengths.R) + lengths.R
    cost = lengths.matrix[idx, v] / 65536.0 + weight * (mag - cands * step) ** 2
    # argmin keeps the first of equal costs: the larger level.
    return sign * np.take_along_axis(cands, cost.argmin(axis=0)[None], axis=0)[0]


def _rdoq_layer(banded: np.ndarray, layer: PlaneResidual, classes: np.ndarray, step: float,
                weight: float) -> np.ndarray:
    """_rdoq band by band (band-ordered coefficients), each band under the contexts the levels
    chosen below it make."""
    return _by_band(layer, classes, lambda sl, idx: _rdoq(banded[..., sl], idx, step, weight))


class ResidualEncoder:
    """The residual layers of one frame: the transform and the activity classes of each plane,
    which no step changes, made once; code(step) for each step tried."""

    def __init__(self, source: Frame, base: Frame):
        self.source, self.base = source, base
        self.planes = [(_banded(_forward(src, rec)), _classes(rec))
                       for src, rec in zip(_planes(source), _planes(base))]

    def code(self, step_index: int | None, lam: float | None = None) -> tuple[bytes, Frame]:
        """The layer at a luma step index (chroma's CHROMA_STEP_OFFSET from it) -> (substream,
        the frame's picture as the decoder makes it). None: a layer of no plane (only after a
        block-motion prediction, §4.8), as is a layer whose planes' levels are all zero
        (SKIP_ZERO_PLANES). With `lam`, the levels are chosen for bits + λ · MSE-YUV
        (RDOQ_ROUNDS); without, dead-zone rounding."""
        if step_index is None:
            return EMPTY_LAYER, self.base
        enc = new_encoder()
        layers, levels = [], []
        for k, (coeffs, classes) in enumerate(self.planes):
            index = int(np.clip(step_index + (CHROMA_STEP_OFFSET if k else 0), 0, STEP_INDICES - 1))
            step = step_of(index) / (1 << STEP_FRAC)
            lv = (np.sign(coeffs) * np.floor(np.abs(coeffs) / step + DEADZONE)).astype(np.int64)
            layer = _fit(lv, classes, index)
            for _ in range(RDOQ_ROUNDS if lam is not None else 0):
                lv = _rdoq_layer(coeffs, layer, classes, step, lam * PLANE_WEIGHT[k])
                layer = _fit(lv, classes, index)
            if SKIP_ZERO_PLANES and not lv.any():
                layers.append(None)
                levels.append(None)
                continue
            _encode_tables(enc, layer)
            layers.append(layer)
            levels.append(_unbanded(_code_levels(enc, lv, layer, classes)))  # the decoder's
        if all(layer is None for layer in layers):
            return EMPTY_LAYER, self.base
        return _write(layers, finish(enc)), add_residual(self.base, layers, levels)

    def best(self, lam: float) -> tuple[bytes, Frame] | None:
        """Of the steps candidate_steps(λ) names, the layer that lowers bits per pixel + λ ·
        MSE-YUV (6:1:1, 8-bit scale) of the frame most; None where none does."""
        chosen = self.cheapest(lam, [None, *candidate_steps(lam)])
        return None if chosen[0] is None else chosen[:2]

    def cheapest(self, lam: float, steps, overhead: int = 0, empty: bool = False) -> tuple:
        """(substream, picture, cost) of the cheapest of the layers at `steps`, the cost counting
        `overhead` bytes more. Step None: no layer at all (data None), or with `empty` the layer
        of no plane (after a block-motion prediction)."""
        best = (None, None, float("inf"))
        for step in steps:
            data, picture = (None, self.base) if step is None and not empty else self.code(step, lam)
            if data == EMPTY_LAYER and not empty:  # no plane pays: no layer
                data = None
            c = rd_cost(self.source, picture, overhead + (0 if data is None else len(data)), lam)
            if c < best[2]:
                best = (data, picture, c)
        return best


def rd_cost(source: Frame, picture: Frame, size: int, lam: float) -> float:
    """Bits per pixel of `size` bytes + λ · MSE-YUV (6:1:1, 8-bit scale) of `picture`."""
    mse = [plane_mse(p, q) for p, q in zip(_planes(picture), _planes(source))]
    return 8 * size / source.y.size + lam * (6 * mse[0] + mse[1] + mse[2]) / 8


def encode_residual(source: Frame, base: Frame, step_index: int) -> tuple[bytes, Frame]:
    """The residual layer of one frame at one luma step index (ResidualEncoder.code)."""
    return ResidualEncoder(source, base).code(step_index)


def optimal_step_index(lam: float) -> int:
    """The high-rate optimum of bits + λ · MSE-YUV for a uniform quantizer on luma:
    step² = 8 / (λ ln 2) (samples), as a step index."""
    step = np.sqrt(8.0 / (lam * np.log(2.0)))
    return int(np.clip(np.round(6 * np.log2(step)), 0, STEP_INDICES - 1))


def candidate_steps(lam: float) -> list[int]:
    """The luma step indices the encoder tries at λ: SEARCH from the high-rate optimum."""
    center = optimal_step_index(lam)
    return sorted({int(np.clip(center + d, 0, STEP_INDICES - 1)) for d in SEARCH})
