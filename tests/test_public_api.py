import subprocess
import sys

import grokassist
from grokassist import errors


def test_all_is_sorted_and_resolvable() -> None:
    assert grokassist.__all__ == sorted(grokassist.__all__)
    for name in grokassist.__all__:
        assert getattr(grokassist, name) is not None, name


def test_every_error_derives_from_the_root() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.GrokAssistError), name
    assert errors.__all__ == sorted(errors.__all__)


def test_missing_dependency_error_names_the_install_command() -> None:
    exc = errors.MissingDependencyError("llama-cpp-python", "local", "the llama.cpp backend")
    assert 'pip install "grokassist[local]"' in str(exc)
    assert isinstance(exc, errors.ConfigurationError)


def test_status_error_carries_status_body_and_retry_after() -> None:
    exc = errors.RateLimitError("busy", status_code=429, body='{"error": "slow down"}', retry_after=1.0)
    assert exc.status_code == 429 and exc.retry_after == 1.0
    assert "429" in str(exc) and "slow down" in str(exc)


def test_import_is_light() -> None:
    code = (
        "import sys, grokassist; "
        "heavy = [m for m in ('chromadb', 'onnxruntime', 'llama_cpp', 'fastapi', 'torch', 'bm25s') "
        "if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
