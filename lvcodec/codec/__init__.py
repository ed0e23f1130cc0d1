"""The codec: GOP planning, per-frame coding (nets + entropy), encoder/decoder sessions, file API."""
