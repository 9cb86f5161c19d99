"""Open Inference Protocol (KServe V2 REST) codec, with Triton's binary tensor data extension."""
