"""The model registry: which models exist, their versions, and their input schemas."""
