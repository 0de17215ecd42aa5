"""The cascade's text LLM: a shared prompt prefix computed once changes no reply and no label score."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from benchmark.adapters import chat_lm
from benchmark.adapters.chat_lm import TransformersLLM, shared_prefix
from benchmark.adapters.ranking import label_token_ids, rank_scores

CONVERSATIONS = [
    [{"role": "system", "content": "the audio"}, {"role": "user", "content": "one two yes"}],
    [{"role": "system", "content": "the audio"}, {"role": "user", "content": "no"}],
    [{"role": "system", "content": "the audio"}, {"role": "user", "content": "high low high low one"}],
]


def test_shared_prefix_leaves_every_row_a_token_of_its_own() -> None:
    assert shared_prefix([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 7]]) == 2
    assert shared_prefix([[1, 2, 3], [1, 2, 3]]) == 2
    assert shared_prefix([[5], [5, 6]]) == 0
    assert shared_prefix([[1, 2], [3, 4]]) == 0
    assert shared_prefix([]) == 0


@pytest.fixture(scope="module", params=["llama", "bloom"])
def llm(request, tiny_chat_lm: Path, tmp_path_factory) -> TransformersLLM:
    """The tiny Llama (rotary positions), or a tiny BLOOM with the same tokenizer (ALiBi: no position ids)."""
    folder = tiny_chat_lm
    if request.param == "bloom":
        from transformers import AutoTokenizer, BloomConfig, BloomForCausalLM

        folder = tmp_path_factory.mktemp("tiny-bloom")
        torch.manual_seed(3)  # with large initial weights, replies of real words that differ between rows
        config = BloomConfig(vocab_size=12, hidden_size=16, n_layer=1, n_head=2, pad_token_id=0, bos_token_id=1,
                             eos_token_id=2, initializer_range=1.0)
        BloomForCausalLM(config).save_pretrained(folder)
        AutoTokenizer.from_pretrained(tiny_chat_lm).save_pretrained(folder)
    return TransformersLLM(str(folder), None, "cpu", "float32", max_new_tokens=6)


def reference_generate(llm: TransformersLLM, conversation: list[dict[str, str]], max_new_tokens: int) -> str:
    """transformers' own greedy ``generate`` on one prompt alone (no padding, no cache of ours)."""
    prompt = torch.tensor([llm.encode([conversation])[0]])
    with torch.inference_mode():
        out = llm.model.generate(input_ids=prompt, do_sample=False, max_new_tokens=max_new_tokens, pad_token_id=0)
    return llm.tokenizer.decode(out[0, prompt.shape[1] :], skip_special_tokens=True)


def test_a_batch_over_the_cached_prefix_replies_as_each_prompt_alone(llm: TransformersLLM) -> None:
    encoded = llm.encode(CONVERSATIONS)
    assert len({len(e) for e in encoded}) == 3 and shared_prefix(encoded) >= 4  # padded rows, a real prefix
    batched = llm.generate(CONVERSATIONS)
    alone = [llm.generate([c])[0] for c in CONVERSATIONS]  # one row: no padding
    assert batched == alone and all(batched)
    # The same tokens as transformers' generate (the tiny word-level model writes no newline: all run to the end).
    assert batched == [reference_generate(llm, c, llm.max_new_tokens) for c in CONVERSATIONS]


def test_a_row_leaves_the_batch_when_its_first_line_is_done(llm: TransformersLLM, monkeypatch) -> None:
    """Rows stop at their own first line (here: a given token ends it) while the others go on, as if alone."""
    monkeypatch.setattr(llm, "max_new_tokens", 16)
    full = llm.generate(CONVERSATIONS)
    words = [reply.split() for reply in full]
    # A word that ends some row's line before its last token, and that another row never writes.
    stop_word = next(w for row in words for w in row[:-1] if any(w not in other for other in words))
    decode = llm.tokenizer.decode

    def lines(ids, **kwargs):  # type: ignore[no-untyped-def]
        return decode(ids, **kwargs).replace(stop_word, stop_word + "\n")

    monkeypatch.setattr(llm.tokenizer, "decode", lines)
    rows: list[int] = []
    forward = llm.model.forward

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        rows.append(kwargs["input_ids"].shape[0])
        return forward(*args, **kwargs)

    monkeypatch.setattr(llm.model, "forward", counted)
    replies = llm.generate(CONVERSATIONS)
    for reply, alone in zip(replies, full, strict=True):
        cut = alone.split()
        end = cut.index(stop_word) + 1 if stop_word in cut else len(cut)
        assert reply.split() == cut[:end]
    assert rows[-1] < len(CONVERSATIONS)  # finished rows left the batch


def test_label_scores_over_the_cached_prefix_equal_the_full_forward(llm: TransformersLLM, monkeypatch) -> None:
    labels = ["yes", "no", "high low one"]
    cached = [[*a.label_scores.values()] for a in llm.rank(CONVERSATIONS, labels)]
    ids = label_token_ids(llm.tokenizer, labels)
    for conversation, scores in zip(CONVERSATIONS, cached, strict=True):
        prompt = torch.tensor([llm.encode([conversation])[0]])
        with torch.inference_mode():
            logp = torch.log_softmax(llm.model(input_ids=torch.cat([prompt, torch.tensor([ids[2]])], 1)).logits[0], -1)
        p = prompt.shape[1]
        direct = sum(float(logp[p - 1 + j, t]) for j, t in enumerate(ids[2]))
        full = rank_scores(llm.model, {"input_ids": prompt}, ids, pad_id=0)
        assert scores == pytest.approx(full, abs=1e-5) and scores[2] == pytest.approx(direct, abs=1e-5)
    # Without the prefix cache the same numbers come out.
    monkeypatch.setattr(chat_lm, "shared_prefix", lambda rows: 0)
    monkeypatch.setattr(llm, "_prefix", None)
    again = [v for a in llm.rank(CONVERSATIONS, labels) for v in a.label_scores.values()]
    assert again == pytest.approx([v for row in cached for v in row], abs=1e-5)
    # One prompt per pass (the rows of a batch in chunks): the same numbers again.
    monkeypatch.setattr(chat_lm, "RANK_ROWS", len(labels))
    chunked = [v for a in llm.rank(CONVERSATIONS, labels) for v in a.label_scores.values()]
    assert chunked == pytest.approx([v for row in cached for v in row], abs=1e-5)


def test_calibrated_ranking_subtracts_the_content_free_scores(llm: TransformersLLM) -> None:
    labels = ["yes", "no", "high low one"]
    blank = [[CONVERSATIONS[0][0], {"role": "user", "content": ""}]] * len(CONVERSATIONS)
    plain = [a.label_scores for a in llm.rank(CONVERSATIONS, labels)]
    (base,) = [a.label_scores for a in llm.rank(blank[:1], labels)]
    calibrated = [a.label_scores for a in llm.rank(CONVERSATIONS, labels, baselines=blank)]
    for p, c in zip(plain, calibrated, strict=True):
        assert [c[k] for k in labels] == pytest.approx([p[k] - base[k] for k in labels], abs=1e-5)


def test_the_prefix_is_computed_once_while_it_opens_every_row(llm: TransformersLLM, monkeypatch) -> None:
    monkeypatch.setattr(llm, "_prefix", None)
    first = llm.generate(CONVERSATIONS)
    computed: list[int] = []
    real = chat_lm.shared_prefix
    monkeypatch.setattr(chat_lm, "shared_prefix", lambda rows: computed.append(len(rows)) or real(rows))
    # Other batches whose rows share more than the kept prefix: the kept one serves them.
    assert llm.generate(CONVERSATIONS[:1]) == first[:1] and llm.generate(CONVERSATIONS[1:]) == first[1:]
    llm.rank(CONVERSATIONS[1:], ["yes", "no"])
    assert computed == []
    # A row the kept prefix does not open: its batch's own shared prefix is computed (and kept).
    other = [{"role": "user", "content": "no"}]
    llm.generate([other, other])
    assert computed == [2]


def _tiny(kind: str, folder: Path):  # type: ignore[no-untyped-def]
    import transformers as t

    common = {"vocab_size": 12, "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2, "initializer_range": 0.5}
    small = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
             "num_key_value_heads": 1}
    if kind == "mpt":  # ALiBi counted by cache slot, no position ids
        return t.MptForCausalLM(t.MptConfig(d_model=16, n_heads=2, n_layers=2, max_seq_len=128, **common))
    if kind == "mistral-window-4":  # a sliding window shorter than the prompts
        return t.MistralForCausalLM(t.MistralConfig(sliding_window=4, **small, **common))
    # LFM2: a convolution layer beside attention; its cache layers cannot repeat or drop rows
    return t.Lfm2ForCausalLM(t.Lfm2Config(layer_types=["conv", "full_attention"], **small, **common))


@pytest.mark.parametrize("kind", ["mpt", "mistral-window-4", "lfm2"])
def test_models_that_padding_after_the_prefix_would_change_get_exact_batches(
    kind: str, tiny_chat_lm: Path, tmp_path: Path
) -> None:
    """Positions by cache slot, sliding windows, conv layers: batched replies and scores still equal each prompt's."""
    from transformers import AutoTokenizer

    torch.manual_seed(0)
    _tiny(kind, tmp_path).save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(tiny_chat_lm).save_pretrained(tmp_path)
    llm = TransformersLLM(str(tmp_path), None, "cpu", "float32", max_new_tokens=6)
    batched = llm.generate(CONVERSATIONS)
    assert batched == [reference_generate(llm, c, llm.max_new_tokens) for c in CONVERSATIONS]
    labels = ["yes", "no", "high low one"]
    ids = label_token_ids(llm.tokenizer, labels)
    for answer, conversation in zip(llm.rank(CONVERSATIONS, labels), CONVERSATIONS, strict=True):
        prompt = torch.tensor([llm.encode([conversation])[0]])
        full = rank_scores(llm.model, {"input_ids": prompt}, ids, pad_id=0)
        assert [*answer.label_scores.values()] == pytest.approx(full, abs=1e-5)


def test_torch_runs_the_threads_this_process_was_given(tiny_chat_lm: Path, monkeypatch) -> None:
    """A Ray replica given 1 CPU (``OMP_NUM_THREADS=1``) computes on one torch thread, not one per core."""
    before = torch.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    torch.set_num_threads(2)
    try:
        TransformersLLM(str(tiny_chat_lm), None, "cpu", "float32", 4)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
