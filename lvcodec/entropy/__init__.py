"""Entropy coding: frozen tables and constriction range coders (numpy only, no torch)."""

from lvcodec.entropy.block_map import decode_block_map, encode_block_map
from lvcodec.entropy.coder import FactorizedCoder, GaussianCoder, finish, new_decoder, new_encoder
from lvcodec.entropy.tables import MEAN_STEP, PRECISION, ScaleTable, quantize_mean

__all__ = ["FactorizedCoder", "GaussianCoder", "ScaleTable", "MEAN_STEP", "PRECISION",
           "decode_block_map", "encode_block_map", "finish", "new_decoder", "new_encoder",
           "quantize_mean"]
