"""Distortion metrics on 8-bit YUV 4:2:0 frames (DESIGN §8): defined once, in lvcodec.rd."""

from lvcodec.rd import frame_psnr, plane_mse, psnr_from_mse

__all__ = ["plane_mse", "psnr_from_mse", "frame_psnr"]
