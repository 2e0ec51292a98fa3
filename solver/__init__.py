"""Avatar solver: the feasible space, the search, the run store and the ``solve`` command.

Importing this package does not import torch.
"""

__all__: list[str] = []
