"""The trainer's data room: tables in the formats people have, examples with ids, seeded
pair-keeping splits, the built-in sets, augmentation, transfer pairs, tokenizers and encoded batches.

It imports nothing else of the trainer: every other room reads data through it.
"""

from ._augment import AUGMENT_VERSION, augment_examples
from ._encode import EncodedSet, encode, encode_text_pairs
from ._examples import UNLABELLED_PREFIX
from ._json import JsonProblem, load_json_value
from ._pair_split import PairSplit, split_pairs, split_pairs_at_random
from ._storage import save_atomically, with_user_mode
from ._task_data import BUILTIN_PREFIX, DataError, Example, TaskData, load_task_data, read_examples, split_examples
from ._tokenizers import SPECIAL_TOKENS, TOKENIZER_TYPES, load_or_train_tokenizer, train_tokenizer
from ._transfer import TRANSFER_PREFIX, TRANSFER_VERSION, sample_transfer, transfer_name, transfer_pairs, with_teacher_labels
from ._windows import WINDOWS_AT_MOST

__all__ = [
    "BUILTIN_PREFIX",
    "DataError",
    "Example",
    "TaskData",
    "load_task_data",
    "read_examples",
    "split_examples",
    "PairSplit",
    "split_pairs",
    "split_pairs_at_random",
    "EncodedSet",
    "encode",
    "encode_text_pairs",
    "WINDOWS_AT_MOST",
    "save_atomically",
    "with_user_mode",
    "JsonProblem",
    "load_json_value",
    "TRANSFER_PREFIX",
    "UNLABELLED_PREFIX",
    "TRANSFER_VERSION",
    "sample_transfer",
    "transfer_name",
    "transfer_pairs",
    "with_teacher_labels",
    "AUGMENT_VERSION",
    "augment_examples",
    "SPECIAL_TOKENS",
    "TOKENIZER_TYPES",
    "load_or_train_tokenizer",
    "train_tokenizer",
]
