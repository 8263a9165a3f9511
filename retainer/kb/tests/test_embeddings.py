"""The NumPy MiniLM encoder: published reference values, similarities that must hold,
determinism, batching and truncation, lazy loading and a model that cannot load."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest

from retainer.kb import embeddings
from retainer.kb.embeddings import DIMENSIONS, get_encoder

# all-MiniLM-L6-v2's vector of "hello world", first five values, as published with
# sentence-transformers-compatible embedding libraries (fastembed's canonical vectors).
HELLO_WORLD = [-0.034478, 0.03102, 0.00673, 0.02611, -0.039362]


@pytest.fixture(scope="module")
def encoder() -> embeddings.Encoder:
    loaded = get_encoder()
    assert loaded is not None
    return loaded


def cosine(encoder: embeddings.Encoder, a: str, b: str) -> float:
    va, vb = encoder.encode([a, b])
    return float(va @ vb)


def test_the_vector_of_hello_world_matches_the_published_reference(encoder):
    vector = encoder.encode(["hello world"])[0]
    assert vector.shape == (DIMENSIONS,) and vector.dtype == np.float32
    assert np.allclose(vector[:5], HELLO_WORLD, atol=5e-4), vector[:5]
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How do I reset my password?", "Steps to change a forgotten password"),
        ("A man is eating food.", "A man is eating a piece of bread."),
        ("The service does not start after a reboot", "The service won't start after rebooting"),
    ],
)  # fmt: skip
def test_paraphrases_are_close(encoder, a, b):
    assert cosine(encoder, a, b) > 0.7


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How do I reset my password?", "The weather is sunny today"),
        ("Renew the TLS certificate", "A man is eating a piece of bread."),
        ("Import fails with an encoding error", "The new movie is awesome"),
    ],
)
def test_unrelated_sentences_are_far_apart(encoder, a, b):
    assert cosine(encoder, a, b) < 0.3


def test_encoding_is_deterministic_and_independent_of_the_batch(encoder):
    texts = ["short", "a somewhat longer sentence about backups and restores", "hello world"]
    together = encoder.encode(texts)
    again = encoder.encode(texts)
    alone = np.stack([encoder.encode([text])[0] for text in texts])
    assert np.array_equal(together, again)
    # Padding to the batch's longest text changes nothing but rounding.
    assert np.allclose(together, alone, atol=1e-5)


def test_long_texts_are_cut_at_256_tokens(encoder):
    long = "backup " * 1000
    vectors = encoder.encode([long, "backup " * 300])
    assert np.isfinite(vectors).all()
    # Both are cut to the same 256 tokens, so they get the same vector.
    assert float(vectors[0] @ vectors[1]) > 0.9999


def test_an_empty_list_encodes_to_no_vectors(encoder):
    assert encoder.encode([]).shape == (0, DIMENSIONS)


def test_the_web_process_does_not_import_numpy_or_the_tokenizer_at_start():
    code = (
        "import sys, django; django.setup(); import retainer.urls; "
        "from django.urls import resolve; resolve('/help/'); "
        "bad = {'numpy', 'tokenizers', 'safetensors'} & set(sys.modules); "
        "print(sorted(bad)); sys.exit(1 if bad else 0)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "retainer.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def broken_model(monkeypatch) -> Iterator[None]:
    """The model package cannot be found, and the process has not loaded it yet."""
    saved = dict(embeddings._state)
    embeddings._state.clear()
    monkeypatch.setattr(embeddings, "MODEL_PACKAGE", "no_such_model_package")
    yield
    embeddings._state.clear()
    embeddings._state.update(saved)


def test_a_model_that_cannot_load_gives_no_encoder_and_logs_once(broken_model, caplog):
    with caplog.at_level(logging.ERROR, logger="retainer.kb.embeddings"):
        assert get_encoder() is None
        assert get_encoder() is None
    assert len(caplog.records) == 1
    assert "full text only" in caplog.records[0].getMessage()


def test_article_text_and_hash():
    text = embeddings.article_text("Title", " Summary ", "Body " * 2000)
    assert text.startswith("Title\nSummary\nBody") and len(text) < 4100
    assert embeddings.text_hash(text) == embeddings.text_hash(text)
    assert embeddings.text_hash(text) != embeddings.text_hash(text + ".")
