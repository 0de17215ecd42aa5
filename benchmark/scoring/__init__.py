"""Raw output -> number. Pure functions over strings and numbers; nothing here reads a task folder.

- ``text``: normalisation shared by resolution and WER/CER (number words read as digits for the text metrics);
- ``reading``: an answer prepared the way a grader reads it (think blocks, chat turns, loops, refusals);
- ``lexicon``: word forms, synonyms and translations of common label vocabularies (the ``lexicon`` tier);
- ``extract``: the answer span of a generation output (quotes, "the answer is", a preamble);
- ``constraints``, ``constraint_args``, ``constraint_library``, ``following``: instruction-following checkers,
  the shared constraint sets and their validation, and one answer's checks with its unwrapped answer;
- ``answer``: how a careful grader reads an answer (negation and doubt scope, questions, lists,
  explicit final answers), shared by ``labels`` and ``numbers``;
- ``options``: option letters and numbers listed in a multiple-choice instruction;
- ``labels`` and ``numbers``: resolution tiers that read a free-form answer as a label or a number;
- ``audit``: agreement of the resolver with expected readings on an answer set (``bench resolve-report``);
- ``metrics``: the metric registry (each metric declared once);
- ``score``: one output -> ``ExampleScore``;
- ``aggregate``: bootstrap intervals and the normalised score;
- ``chance``: the majority baseline's answer;
- ``speech``: audio answers (the ``audio`` task type): checked outputs, speech metrics named after their scoring
  models, registered in ``metrics`` by ``speech.registry``;
- ``judge``: the optional semantic and LLM-judge tiers (seeded, order-swapped, cached; agreement counted).
"""

from benchmark.scoring.aggregate import (
    NORMALISED_FLOOR,
    bootstrap_ci,
    bootstrap_indices,
    normalised_score,
    normalised_scores,
)
from benchmark.scoring.chance import majority_answer
from benchmark.scoring.labels import (
    NA,
    TIERS,
    LabelResolver,
    Resolution,
    RuleAuditor,
    Tier,
    mentioned_label,
    resolve_label,
)
from benchmark.scoring.metrics import (
    METRICS,
    TASK_TYPES,
    Metric,
    PerExample,
    ScoredSet,
    TaskType,
    accuracy,
    bleu,
    chrf,
    edit_counts,
    error_rate,
    macro_f1,
    metrics_for,
    pearson,
    scored_set,
)
from benchmark.scoring.numbers import parse_number
from benchmark.scoring.score import ExampleScore, regression_fill, score_output
from benchmark.scoring.speech import registry as _speech_registry  # noqa: F401  (the speech metrics, task type audio)
from benchmark.scoring.text import normalise_transcript, squash, strip_punct

__all__ = [
    "METRICS",
    "NA",
    "NORMALISED_FLOOR",
    "TASK_TYPES",
    "TIERS",
    "ExampleScore",
    "LabelResolver",
    "Metric",
    "PerExample",
    "Resolution",
    "RuleAuditor",
    "ScoredSet",
    "TaskType",
    "Tier",
    "accuracy",
    "bleu",
    "bootstrap_ci",
    "bootstrap_indices",
    "chrf",
    "edit_counts",
    "error_rate",
    "macro_f1",
    "majority_answer",
    "mentioned_label",
    "metrics_for",
    "normalise_transcript",
    "normalised_score",
    "normalised_scores",
    "parse_number",
    "pearson",
    "regression_fill",
    "resolve_label",
    "score_output",
    "scored_set",
    "squash",
    "strip_punct",
]
