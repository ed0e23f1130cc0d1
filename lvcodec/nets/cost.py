"""What a pixel costs: multiply-accumulates per luma pixel of a net's coding pass (DESIGN §4.6)."""

import torch
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["intra_macs_per_pixel", "inter_macs_per_pixel", "bi_macs_per_pixel",
           "enhance_macs_per_pixel"]


def _probe(width: int, height: int):
    """A random packed frame, quality 32, and a counter of MACs per luma pixel of a callable
    (torch's FLOP counter over convolutions and matmuls, FLOPs / 2)."""
    pixels = width * height

    def count(fn) -> float:
        with FlopCounterMode(display=False) as fc:
            fn()
        return fc.get_total_flops() / 2 / pixels

    return torch.rand(1, 6, height // 2, width // 2), torch.tensor([32.0]), count


def _no_symbols(k, sel, mu, idx):
    """A context.code step that codes nothing (all symbols _no_symbols)."""
    return torch.zeros_like(mu)


@torch.no_grad()
def intra_macs_per_pixel(net, width: int = 640, height: int = 384) -> dict:
    """MACs per luma pixel of the intra encoder (analysis + hyper + context + synthesis) and decoder,
    on one frame."""
    x, q, count = _probe(width, height)
    y, z = net.analyse(x, q)
    analysis = count(lambda: net.analyse(x, q))
    entropy = count(lambda: net.context.code(net.hyper_prior(torch.round(z)), _no_symbols))
    synthesis = count(lambda: net.synthesise(torch.zeros_like(y), q))
    return {"encoder": analysis + entropy + synthesis, "decoder": entropy + synthesis,
            "analysis": analysis, "entropy_params": entropy, "synthesis": synthesis}


@torch.no_grad()
def inter_macs_per_pixel(net, width: int = 640, height: int = 384) -> dict:
    """MACs per luma pixel of a P frame: encoder (estimation, motion and frame analysis, both
    entropy-parameter paths, motion and frame synthesis, contexts) and decoder (all but the
    estimation and analyses)."""
    x, q, count = _probe(width, height)
    feat = net.ref_features(x)
    flow = net.estimator(x, x)
    my, mz = net.motion.analyse(flow, q)
    contexts = net.contexts(feat, flow)
    y, z = net.analyse(x, contexts, q)

    estimation = count(lambda: net.estimator(x, x))
    analysis = count(lambda: (net.motion.analyse(flow, q), net.analyse(x, contexts, q)))
    y_ref = net.latent_prediction(x, flow, contexts, q)
    entropy = count(lambda: (
        net.motion.context.code(net.motion.h_s(torch.round(mz)), _no_symbols),
        net.context.code(torch.cat([net.h_s(torch.round(z)), net.temporal_prior(contexts)], 1),
                         _no_symbols, y_ref)))
    compensation = count(lambda: (net.motion.synthesise(torch.zeros_like(my), q),
                                  net.contexts(feat, flow),
                                  net.latent_prediction(x, flow, contexts, q)))
    synthesis = count(lambda: net.synthesise(torch.zeros_like(y), contexts, q, x))
    decoder = entropy + compensation + synthesis
    return {"encoder": estimation + analysis + decoder, "decoder": decoder,
            "estimation": estimation, "analysis": analysis, "entropy_params": entropy,
            "motion_synthesis_and_contexts": compensation, "synthesis": synthesis,
            "intra_reference_features": count(lambda: net.ref_features(x))}


@torch.no_grad()
def bi_macs_per_pixel(net, width: int = 640, height: int = 384) -> dict:
    """MACs per luma pixel of a B frame, as inter_macs_per_pixel: two estimations and motions,
    two temporal contexts fused, the aligned priors."""
    x, q, count = _probe(width, height)
    feats = [net.ref_features(x)] * 2
    flows = [net.estimator(x, x)] * 2
    (my0, my1), (mz0, mz1) = net.motion.analyse(flows, q)
    contexts, priors, w0 = net.bi_contexts(feats, flows)
    y, z = net.analyse(x, contexts, q)
    y_ref = net.bi_latent_prediction([x, x], flows, w0, contexts, q)
    b0, b1 = net.motion.branches

    def entropy():
        b0.context.code(b0.h_s(torch.round(mz0)), _no_symbols)
        b1.context.code(torch.cat([b1.h_s(torch.round(mz1)), my0], 1), _no_symbols)
        hyper = net.h_s(torch.round(z))
        net.context.code(torch.cat([hyper, net.align(hyper, priors)], 1), _no_symbols, y_ref)

    estimation = count(lambda: [net.estimator(x, x) for _ in range(2)])
    analysis = count(lambda: (net.motion.analyse(flows, q), net.analyse(x, contexts, q)))
    entropy_params = count(entropy)
    compensation = count(lambda: (net.motion.synthesise([my0, my1], q), net.bi_contexts(feats, flows),
                                  net.bi_latent_prediction([x, x], flows, w0, contexts, q)))
    synthesis = count(lambda: net.synthesise(torch.zeros_like(y), contexts, q, x))
    decoder = entropy_params + compensation + synthesis
    return {"encoder": estimation + analysis + decoder, "decoder": decoder,
            "estimation": estimation, "analysis": analysis, "entropy_params": entropy_params,
            "motion_synthesis_and_contexts": compensation, "synthesis": synthesis}


@torch.no_grad()
def enhance_macs_per_pixel(net, width: int = 640, height: int = 384) -> float:
    """MACs per full-resolution luma pixel of the enhancement net restoring one half-scale frame
    (paid by both ends: the encoder mirrors the decoder's picture)."""
    x, _, count = _probe(width, height)
    half = x[..., ::2, ::2]
    flows = [torch.zeros(1, 2, *half.shape[-2:]) for _ in range(2)]
    return count(lambda: net.restore(half, flows, [x, x], x))
