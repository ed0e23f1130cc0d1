"""Batch invariance of the decoder-side nets: frames computed together vs one at a time.

A decoder may run independent frames as one batch (on a GPU, the B frames of one hierarchy
layer share their references and do not reference each other). That stays in parity with an
encoder that ran them one by one only if every decoder-side net gives each frame the same bits
whatever else is in its batch. This module checks it on real frames, for each path a decoder
runs after the entropy decoder (the entropy-parameter nets included), all on the exact twins:

- I: frame synthesis;
- P: motion synthesis, temporal contexts, temporal prior, latent prediction, frame synthesis,
  all from one shared reference;
- B: the same for two references (the fused contexts and the two priors);
- half-scale B: the enhancement net (bicubic base, warped references, attention);
- the hyper synthesis (the entropy parameters' first net) of each coder.

The latents are the encoder's own, so the inputs are exactly what a decoder would hold.
"""

import torch

from lvcodec.codec.frame_coder import (PAD, BiCoder, EncodeChannel, HalfScaleCoder, InterCoder,
                                       IntraCoder, Reference, _f32, _q, frame_to_tensor,
                                       half_reference, pad_to)
from lvcodec.nets.numerics import exact
from lvcodec.nets.resample import half_size

__all__ = ["batch_invariance"]


def _same(single: list, batched: torch.Tensor) -> tuple[int, int]:
    """(identical elements, elements) of per-frame results against the batched one."""
    ones = torch.cat([s.detach() for s in single])
    return int((ones == batched.detach()).sum()), ones.numel()


def _stack(refs: list[Reference]) -> Reference:
    feats = [r.feat for r in refs]
    return Reference(torch.cat([r.x for r in refs]),
                     None if feats[0] is None else torch.cat(feats))


def _tally(out: dict, name: str, single: list, batched):
    if isinstance(batched, (list, tuple)):  # several outputs: compare each
        for k, b in enumerate(batched):
            _tally(out, name, [s[k] for s in single], b)
        return
    if batched is None:
        return
    same, total = _same(single, batched)
    old = out.get(name, (0, 0))
    out[name] = (old[0] + same, old[1] + total)


def _hyper(out, name, coder_latent, z_list):
    """The hyper synthesis on the quantized hyper-latents."""
    h_s, med = coder_latent.part.h_s, coder_latent.medians
    z_hat = [torch.round(z.double() - med) + med for z in z_list]
    with exact():
        _tally(out, name, [h_s(z) for z in z_hat], h_s(torch.cat(z_hat)))


def _code_and_synthesise(out, tag, coder, xs, single, batched, q):
    """P and B frames after their prediction: each frame's latents coded as the encoder does,
    then the hyper synthesis and the frame synthesis, one at a time vs batched.
    single/batched: the coder's (contexts, prior(s), prediction, latent prediction, ...) per
    frame / batched. The synthesis is compared before the block-prediction map (a selection)."""
    latents = [coder.net.analyse(x, _f32(s[0]), q) for x, s in zip(xs, single)]
    _hyper(out, f"{tag}: hyper synthesis", coder.latent, [z for _, z in latents])
    y_hats = [coder.latent.encode(y, z, extra=s[1], y_ref=s[3])[1]
              for (y, z), s in zip(latents, single)]
    with exact():
        _tally(out, f"{tag}: frame synthesis",
               [coder.dec.synthesise(y, s[0], q, s[2]) for y, s in zip(y_hats, single)],
               coder.dec.synthesise(torch.cat(y_hats), batched[0], q, batched[2]))


@torch.no_grad()
def batch_invariance(model, frames: list, quality: int, device=torch.device("cpu")) -> dict:
    """{path: (identical elements, elements)} for `frames` (>= 3 Frames of one size): frame 0 is
    the intra reference, frame len-1 the second reference of the B frames, the ones between are
    the batch."""
    q = _q(quality, device)
    xs = [pad_to(frame_to_tensor(f, device), PAD) for f in frames]
    shape = tuple(frame_to_tensor(frames[0], device).shape[-2:])
    out: dict = {}

    intra = IntraCoder(model.intra)
    latents = [model.intra.analyse(x, q) for x in xs]
    y_hats = [intra.latent.encode(y, z)[1] for y, z in latents]
    with exact():
        _tally(out, "I: frame synthesis", [intra.dec.synthesise(y, q) for y in y_hats],
               intra.dec.synthesise(torch.cat(y_hats), q))
    _hyper(out, "I: hyper synthesis", intra.latent, [z for _, z in latents[1:-1]])
    refs = [intra.encode(x, quality)[2] for x in (xs[0], xs[-1])]  # the decoded references
    mid = xs[1:-1]
    n = len(mid)

    if model.inter is not None:
        inter = InterCoder(model.inter)
        motion = [inter.motion.encode(*model.inter.motion.analyse(
            model.inter.estimator(x, refs[0].x), q))[1] for x in mid]
        with exact():
            single = [inter._contexts(m, refs[0], q) for m in motion]
            batched = inter._contexts(torch.cat(motion), _stack([refs[0]] * n), q)
        _tally(out, "P: contexts, prior, prediction, latent prediction", single, batched)
        _code_and_synthesise(out, "P", inter, mid, single, batched, q)

    if model.bi is not None:
        bi = BiCoder(model.bi)
        stacked = [_stack([r] * n) for r in refs]
        motions = []
        for x in mid:
            ys, zs = model.bi.motion.analyse([model.bi.estimator(x, r.x) for r in refs], q)
            m0 = bi.motion[0].encode(ys[0], zs[0])[1]
            motions.append([m0, bi.motion[1].encode(ys[1], zs[1], extra=m0)[1]])
        with exact():
            single = [bi._prediction(m, refs, q) for m in motions]
            batched = bi._prediction([torch.cat([m[k] for m in motions]) for k in (0, 1)],
                                     stacked, q)
        _tally(out, "B: fused contexts, priors, prediction, latent prediction", single, batched)
        _code_and_synthesise(out, "B", bi, mid, single, batched, q)

        if model.enhance is not None:
            half = HalfScaleCoder(bi, model.enhance)
            half_refs = tuple(half_reference(r, shape) for r in refs)
            with torch.no_grad():  # (x_hat, Reference, flows) of each half-scale B frame
                coded = [bi.code(EncodeChannel(device), half.half_source(x[..., : shape[0], : shape[1]]),
                                 half_refs, quality, half_size(*shape)) for x in mid]
            with exact():
                single = [half.enhance(c[0], c[2], refs, None, shape)[1].x for c in coded]
                flows = [torch.cat([c[2][k] for c in coded]) for k in (0, 1)]
                batched = half.enhance(torch.cat([c[0] for c in coded]), flows, stacked, None,
                                       shape)[1].x
            _tally(out, "half-scale B: enhancement net", single, batched)
    return out
