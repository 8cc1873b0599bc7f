"""Samplers kept apart from the networks they drive (autoregressive decoding; diffusion
schedules as they arrive)."""
