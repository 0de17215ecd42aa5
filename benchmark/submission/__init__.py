"""Results on disk: per-example records, the model card, run headers (provenance) and their checks.

::

    submissions/<model>/model.json                          the model card
    submissions/<model>/runs/<Task>@<version>.jsonl         one record per example
    submissions/<model>/runs/<Task>@<version>.header.json   provenance of each run that wrote them
    submissions/<model>/layers/<Task>@<version>.json        learned probe layer weights
"""

from benchmark.submission.card import SUBMISSION_NAME, ModelCard, read_model_card, submission_name, write_model_card
from benchmark.submission.header import RunHeader, append_header, make_header, read_headers
from benchmark.submission.records import (
    Record,
    RunFileError,
    append_records,
    read_records,
    run_path,
    set_aside,
    write_records_atomic,
)

__all__ = [
    "SUBMISSION_NAME",
    "ModelCard",
    "Record",
    "RunFileError",
    "RunHeader",
    "append_header",
    "append_records",
    "make_header",
    "read_headers",
    "read_model_card",
    "read_records",
    "run_path",
    "set_aside",
    "submission_name",
    "write_model_card",
    "write_records_atomic",
]
