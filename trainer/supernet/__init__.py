"""The trainer's super-student room: one weight-sharing student whose sub-networks are every
configuration of a space, distilled once from the teacher and read for any configuration's
accuracy (``estimators.accuracy.options.method: supernet``).

It reads the data, students and distill rooms.
"""

from ._elastic import ELASTIC, SubNetwork, SuperStudent, largest_of, token_map
from ._training import SUPERNET_VERSION, Supernet, SupernetSettings, score_subnetwork, train_supernet

__all__ = ["ELASTIC", "SUPERNET_VERSION", "SubNetwork", "SuperStudent", "Supernet", "SupernetSettings", "largest_of", "score_subnetwork", "token_map", "train_supernet"]
