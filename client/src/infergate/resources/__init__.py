"""The API's resources, each in the blocking and the async flavour (their logic is shared flows)."""
