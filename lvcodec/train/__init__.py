"""Training: data preparation from package-shipped sources, losses, resumable trainer, export."""

# The training stages in order (torch-free, for the CLI): each sequence stage is declared in
# lvcodec/train/stages.py, which checks that it lists them in this order.
STAGE_NAMES = ("intra", "motion", "inter", "bi", "enhance")
BLOCK_MAP_STAGES = ("inter", "bi")  # those that can train through the block-prediction map
MAX_STEP_STAGES = ("motion", "inter")  # those whose real clips --max-step reaches
PRED_SKIP_STAGES = ("inter", "bi")  # those whose new runs --pred-skip changes
