"""How much of each P and B frame shows its prediction: the share of flagged blocks of the
block-prediction map (docs/bitstream.md §4.6), per frame of a stream, and the map's bytes.

    python benchmarks/notes/block_map_share.py STREAM.lvc
"""

import sys

from lvcodec.bitstream import LvcReader
from lvcodec.entropy import decode_block_map

BLOCK = 8  # packed samples (16 luma)


def main(path):
    with open(path, "rb") as f:
        reader = LvcReader(f)
        seq = reader.sequence_header
        print("display type layer  q  flagged  map bytes  frame bytes")
        for h, subs, size in reader.frames():
            if h.frame_type.name == "I":
                print(f"{h.display_index:7d} {h.frame_type.name:>4} {h.temporal_layer:5d} {h.quality:2d}"
                      f"        -          -  {size:11d}")
                continue
            ph, pw = seq.height // 2 >> h.scale_log2, seq.width // 2 >> h.scale_log2
            flags = decode_block_map(subs[-1], -(-ph // BLOCK), -(-pw // BLOCK))
            print(f"{h.display_index:7d} {h.frame_type.name:>4} {h.temporal_layer:5d} {h.quality:2d}"
                  f"  {flags.mean():6.1%}  {len(subs[-1]):9d}  {size:11d}")


if __name__ == "__main__":
    main(sys.argv[1])
