"""Developer tooling (not deployed): the Docker-free local stack, one-function invoke, key minting."""
