"""A model's named input and output tensors, in a module of their own so the text models' derived specs
(``shared/registry/text.py``) and the registry's domain types can both use them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class TensorSpec:
    """One named tensor a model takes or returns. ``-1`` is a dimension of any size; the first is the batch.

    A model's JSON input (or output) for one example is an object with one member per tensor, whose
    value is that example's row: the tensor without its first dimension (a scalar when rank 1).
    """

    name: str
    datatype: str
    shape: tuple[int, ...]
