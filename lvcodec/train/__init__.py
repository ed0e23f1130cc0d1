"""Training: data preparation from package-shipped sources, losses, resumable trainer, export."""
