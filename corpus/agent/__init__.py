"""Agent trajectories in GLM-4.5's chat format (mid-training data)."""
