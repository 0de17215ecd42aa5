"""Where an answer names a label in other words: word forms, restatements, synonyms, other languages.

Used by the ``lexicon`` tier of :func:`benchmark.scoring.resolve_label`, which runs only
when an answer names no label verbatim. It finds *spans* that stand for a label, and the
ordinary scope rules (negation, doubt, questions, lists) then read them, so "not a lady's
voice" is a negated ``female`` exactly as "not female" is.

- **Restatements and word forms**: a label's content words, crudely stemmed, in order, with at
  most a few words between them ("they could be hearing a train pass by" -> ``a train passing``;
  "created by an electric guitar and a bass guitar" -> ``Electric guitar and bass guitar``;
  "insects" -> ``insect``; "raining" -> ``rain``; "happiness" -> ``happy``).
- **Synonyms, descriptions and translations** for common label vocabularies (gender, emotion,
  language names, yes/no, common sound classes, quality and speed words): "a lady's voice" ->
  ``female``, "overjoyed" -> ``happy``, "Castilian" -> ``Spanish``, "Farsi" -> ``Persian``,
  "女性" -> ``female``. A concept counts only when exactly one label stands for it.
- **A head word** ("kettle" for ``boiling kettle``) counts only in a short answer and only when
  no other label shares the word.

Nothing here is tuned to a sentence: each entry is a general word of its vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

# One concept a line: the words and phrases that name it (English first, then other languages).
CONCEPTS: dict[str, tuple[str, ...]] = {
    "female": ("female", "woman", "women", "woman's", "lady", "lady's", "ladies", "girl", "girl's", "feminine",
               "mujer", "femenino", "femenina", "femme", "féminin", "féminine", "weiblich", "frau", "donna",
               "女", "女性", "女声", "女人", "女的"),
    "male": ("male", "man", "men", "man's", "gentleman", "guy", "boy", "boy's", "masculine", "hombre",
             "masculino", "homme", "masculin", "männlich", "mann", "uomo", "男", "男性", "男声", "男人", "男的"),
    "happy": ("happy", "happiness", "joy", "joyful", "joyous", "cheerful", "glad", "delighted", "overjoyed", "elated",
              "upbeat", "jubilant", "feliz", "alegre", "heureux", "heureuse", "joyeux", "glücklich", "fröhlich",
              "felice", "高兴", "快乐", "开心", "幸福", "喜悦"),
    "sad": ("sad", "sadness", "unhappy", "sorrow", "sorrowful", "depressed", "miserable", "heartbroken",
            "melancholy", "melancholic", "gloomy",
            "tearful", "mournful", "downcast", "triste", "tristeza", "traurig", "悲伤", "伤心", "难过"),
    "angry": ("angry", "anger", "furious", "irate", "enraged", "rage", "irritated", "annoyed", "mad",
              "enojado", "enfadado", "enojada", "enfadada", "en colère", "wütend", "arrabbiato", "生气", "愤怒"),
    "neutral": ("neutral", "neutro", "neutra", "neutre", "neutrale", "中性", "中立"),
    "fearful": ("fearful", "fear", "afraid", "scared", "frightened", "terrified", "miedo", "asustado", "peur",
                "angst", "ängstlich", "害怕", "恐惧"),
    "disgusted": ("disgusted", "disgust", "revulsion", "repulsed", "asco", "dégoût", "ekel", "厌恶", "恶心"),
    "surprised": ("surprised", "surprise", "astonished", "amazed", "sorprendido", "sorpresa", "surpris",
                  "überrascht", "惊讶", "吃惊"),
    "calm": ("calm", "calmness", "relaxed", "peaceful", "tranquil", "serene", "tranquilo", "平静"),
    "english": ("english", "inglés", "ingles", "anglais", "englisch", "inglese", "英语", "英文"),
    "spanish": ("spanish", "castilian", "español", "espanol", "castellano", "espagnol", "spanisch", "spagnolo",
                "西班牙语"),
    "french": ("french", "francés", "frances", "français", "francais", "französisch", "francese", "法语"),
    "german": ("german", "alemán", "aleman", "allemand", "deutsch", "tedesco", "德语"),
    "italian": ("italian", "italiano", "italien", "italienisch", "意大利语"),
    "chinese": ("chinese", "mandarin", "chino", "chinois", "chinesisch", "中文", "汉语", "普通话", "华语"),
    "japanese": ("japanese", "japonés", "japones", "japonais", "japanisch", "日语", "日本語", "日文"),
    "korean": ("korean", "coreano", "coréen", "koreanisch", "韩语", "한국어"),
    "persian": ("persian", "farsi", "persa", "persan", "persisch", "波斯语", "فارسی"),
    "arabic": ("arabic", "árabe", "arabe", "arabisch", "阿拉伯语"),
    "russian": ("russian", "ruso", "russe", "russisch", "俄语"),
    "portuguese": ("portuguese", "portugués", "portugues", "português", "portugais", "portugiesisch", "葡萄牙语"),
    "hindi": ("hindi", "印地语"),
    "dutch": ("dutch", "neerlandés", "néerlandais", "niederländisch", "荷兰语"),
    "yes": ("yes", "sí", "oui", "ja", "是的", "对的"),
    "no": ("no", "non", "nein", "否", "不是", "没有"),
    "speech": ("speech", "speaking", "talking", "spoken", "conversation", "habla", "parole", "sprache", "说话",
               "讲话", "语音"),
    "music": ("music", "musical", "song", "melody", "música", "musique", "musik", "音乐"),
    "noise": ("noise", "noisy", "static", "hiss", "hissing", "ruido", "bruit", "rauschen", "噪音", "噪声"),
    "silence": ("silence", "silent", "quiet", "nothing audible", "silencio", "静音", "安静"),
    "reverberant": ("reverberant", "reverb", "reverberation", "echo", "echoes", "echoey", "echoing", "混响", "回声"),
    "low": ("low", "deep", "low-pitched", "bass-heavy", "低"),
    "high": ("high", "high-pitched", "shrill", "squeaky", "高"),
    "poor quality": ("poor quality", "low quality", "bad quality", "low-quality", "poor-quality"),
    "good quality": ("good quality", "high quality", "high-quality", "excellent quality"),
    "fast": ("fast", "quick", "rapid", "快"),
    "slow": ("slow", "sluggish", "慢"),
    "dog": ("dog", "dogs", "barking", "bark", "狗"),
    "cat": ("cat", "cats", "meowing", "meow", "猫"),
    "bird": ("bird", "birds", "chirping", "birdsong", "tweeting", "鸟"),
    "laughter": ("laughter", "laughing", "laugh", "笑声"),
    "applause": ("applause", "clapping", "掌声"),
    "crying": ("crying", "sobbing", "weeping", "哭"),
    "rain": ("rain", "raining", "rainfall", "下雨", "雨"),
}  # fmt: skip
_STOP = frozenset(
    "a an the of and or to in on by with is are was were be being been it its this that these those some for "
    "from at as into there here their his her they them someone something sound sounds audio".split()
)
_SUFFIXES = ("ingly", "iness", "ness", "ings", "ing", "ies", "ied", "ed", "es", "s", "ly", "y", "e")
_TOKEN = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")  # "hyper-female" is one word, not "female"
_BRITISH = re.compile(r"(?<=\w{3})is(?=e|a|i)")
_MAX_GAP = 3  # extra words allowed between a label's words in a restatement
_HEAD_ANSWER_WORDS = 12  # a head word alone names a label only in an answer this short


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    """A crude stem shared by a word's forms ("passing", "pass" -> "pas"; "happiness", "happy" -> "hap")."""
    word = word.casefold().removesuffix("'s")
    if not word.isascii() or len(word) <= 3:
        return word
    word = _BRITISH.sub("iz", word).replace("our", "or")  # "synthesiser" and "synthesizer", "colour" and "color" meet
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("i") and len(word) > 3:
        word = word[:-1]  # "happi" (happiness, happily) and "happ" (happy) meet
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # "running" -> "runn" -> "run"
    if word.endswith("an") and len(word) > 4:
        word = word[:-1]  # "asian" and "asia" meet
    return word


def _content_stems(label: str) -> list[str]:
    # A label's own hyphens join its parts ("fire marshal-event planner"); in an answer a hyphenated word is one.
    return [stem(t) for t in _TOKEN.findall(label.casefold().replace("-", " ")) if t not in _STOP]


def _concept_of(label: str) -> str | None:
    form = " ".join(label.casefold().split())
    for concept, words in CONCEPTS.items():
        if form == concept or form in words:
            return concept
    return None


def synonym_keys(labels: Sequence[str]) -> dict[str, str]:
    """Extra phrases (lower case) -> label, for concepts exactly one label stands for."""
    concepts = {label: _concept_of(label) for label in labels}
    counts: dict[str, int] = {}
    for c in concepts.values():
        if c:
            counts[c] = counts.get(c, 0) + 1
    keys: dict[str, str] = {}
    taken = {" ".join(label.casefold().split()) for label in labels}
    for label, concept in concepts.items():
        if concept and counts[concept] == 1:
            keys.update({w: label for w in CONCEPTS[concept] if w not in taken})
    return keys


def _token_spans(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), stem(m.group(0))) for m in _TOKEN.finditer(text) if m.group(0) not in _STOP]


def restatement_spans(text: str, labels: Sequence[str]) -> list[tuple[int, int, str]]:
    """Spans of ``text`` (a ``plain`` answer) that restate a label's content words in order."""
    tokens = _token_spans(text)
    by_first: dict[str, list[int]] = {}
    for i, (_, _, s) in enumerate(tokens):
        by_first.setdefault(s, []).append(i)
    spans = []
    for label in labels:
        stems = _content_stems(label)
        if not stems:
            continue
        for i in by_first.get(stems[0], ()):
            j, k, gaps = i + 1, 1, 0
            while k < len(stems) and j < len(tokens) and gaps <= _MAX_GAP:
                if tokens[j][2] == stems[k]:
                    k += 1
                else:
                    gaps += 1
                j += 1
            if k == len(stems) and gaps <= _MAX_GAP:
                spans.append((tokens[i][0], tokens[j - 1][1], label))
    return spans


def partial_restatement_spans(text: str, labels: Sequence[str], cover: float = 0.75) -> list[tuple[int, int, str]]:
    """Spans restating at least ``cover`` of a label's content words, in order, within a short window.

    Too loose to commit to a label, strict enough to notice that an answer's text names
    another option than its letter ("... vaguely remembers the manager's reaction. The answer is C.").
    """
    tokens = _token_spans(text[:50_000])
    spans = []
    for label in labels:
        stems = _content_stems(label)
        if len(stems) < 2:
            continue
        wanted = set(stems)
        for i, (start, _, first) in enumerate(tokens):
            if first not in wanted:
                continue
            k, hits, last = stems.index(first) + 1, 1, i
            for j in range(i + 1, min(len(tokens), i + len(stems) + _MAX_GAP)):
                if tokens[j][2] in stems[k:]:
                    k, hits, last = stems.index(tokens[j][2], k) + 1, hits + 1, j
            if hits / len(stems) >= cover:
                spans.append((start, tokens[last][1], label))
    return spans


def head_spans(text: str, labels: Sequence[str]) -> list[tuple[int, int, str]]:
    """In a short answer, the head word of a multi-word label ("kettle" -> ``boiling kettle``) no other label shares."""
    words = _TOKEN.findall(text)
    if len(words) > _HEAD_ANSWER_WORDS:
        return []
    stems_of = {label: _content_stems(label) for label in labels}
    spans = []
    for label, stems in stems_of.items():
        if len(stems) < 2:
            continue
        head = stems[-1]
        if len(head) < 4 or any(head in other for lab, other in stems_of.items() if lab != label):
            continue
        spans += [(s, e, label) for s, e, st in _token_spans(text) if st == head]
    return spans
