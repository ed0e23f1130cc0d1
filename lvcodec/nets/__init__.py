"""Neural networks: layers, the intra autoencoder, the entropy-model context."""
