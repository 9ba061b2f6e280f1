"""The browser UI (Gradio) and the HTTP API (FastAPI) over the pipeline; no logic of its own."""

from __future__ import annotations

import base64
import html
import re
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app import render
from app.loaders import SUPPORTED, LoadError, load
from app.pipeline import Pipeline
from app.records import DossierError
from app.settings import Settings

EXAMPLES = ["Why was SenseTime banned?", "Which Xinjiang officials did the Treasury sanction?",
            "How long do existing investors have to divest?", "How did SenseTime respond?"]
CSS = """
.searched { font-size: .85em; opacity: .75; margin-bottom: .3em; }
.abstain { border-left: 4px solid #d97706; padding-left: .6em; }
a.cite { text-decoration: none; font-weight: 600; cursor: pointer; }
#sources { max-height: 640px; overflow-y: auto; }
#sources .source { border: 1px solid #e5e7eb; border-radius: 8px; padding: .5em .7em; margin: .4em 0; }
#sources .source.near { border-style: dashed; opacity: .85; }
#sources .source.active { outline: 3px solid #2563eb; }
#sources .src-title { font-weight: 600; }
#sources .src-meta, #sources .src-label { font-size: .85em; opacity: .8; }
#sources blockquote { margin: .4em 0 0; font-size: .92em; }
#sources mark { background: #fde68a; color: inherit; }
#sources .closest { text-decoration: underline dotted; }
"""
# Markers live in chat bubbles, sources in another component: one delegated listener links them.
HEAD = """<script>
(() => {
  const show = (a, scroll) => {
    const id = (a.getAttribute('href') || '').slice(1);
    const el = document.getElementById(id);
    if (!el) return;
    document.querySelectorAll('#sources .source.active').forEach(e => e.classList.remove('active'));
    el.classList.add('active');
    if (scroll) el.scrollIntoView({behavior: 'smooth', block: 'center'});
  };
  document.addEventListener('click', e => {
    const a = e.target.closest && e.target.closest('a[href^="#src-"]');
    if (a) { e.preventDefault(); e.stopPropagation(); show(a, true); }
  }, true);
  document.addEventListener('mouseover', e => {
    const a = e.target.closest && e.target.closest('a[href^="#src-"]');
    if (a) show(a, false);
  });
})();
</script>"""


class Busy:
    """Bounds the questions answered at once and waiting; past that, callers are told 'busy'."""

    def __init__(self, running: int, waiting: int):
        self._admitted = threading.BoundedSemaphore(running + waiting)
        self._running = threading.BoundedSemaphore(running)
        self.in_flight = 0  # admitted and not finished (for /api/health and tests)

    def __enter__(self):
        if not self._admitted.acquire(blocking=False):
            raise DossierError("Dossier is busy answering other questions; try again in a moment")
        self.in_flight += 1
        return self

    def __exit__(self, *exc):
        self.in_flight -= 1
        self._admitted.release()

    def run(self, fn, *args):
        """Call fn once a running slot is free (admitted callers wait here, in their thread)."""
        with self._running:
            return fn(*args)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def api_routes(app: FastAPI, pipeline: Pipeline, settings: Settings) -> None:
    """POST /api/ask and GET /api/health."""
    busy = app.state.busy = Busy(settings.concurrency, settings.queue_size)

    def authorized(request: Request) -> bool:
        if not settings.auth:
            return True
        header = request.headers.get("authorization", "")
        try:
            given = base64.b64decode(header.removeprefix("Basic ")).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        return header.startswith("Basic ") and secrets.compare_digest(given, settings.auth)

    @app.post("/api/ask")
    async def ask(request: Request):
        if not authorized(request):
            return _error(401, "login required (HTTP basic auth)")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the body must be JSON: {\"question\": \"...\", \"history\": [...]}")
        if not isinstance(body, dict) or "question" not in body:
            return _error(400, "missing field 'question'")
        try:
            with busy:
                answer = await _in_thread(busy.run, pipeline.ask, body["question"], body.get("history") or [])
        except DossierError as err:
            status = 503 if "busy" in str(err) else 400
            return _error(status, str(err))
        return answer.to_json()

    @app.get("/api/health")
    def health(request: Request):
        if not authorized(request):
            return _error(401, "login required (HTTP basic auth)")
        try:
            stats = pipeline.stats()
        except DossierError as err:
            return _error(503, str(err))
        return {"status": "ok", "documents": stats["document_count"], "chunks": stats["chunk_count"],
                "model": stats["model"], "index": stats["index"], "questions_in_flight": busy.in_flight}


async def _in_thread(fn, *args):
    import anyio  # comes with FastAPI; imported here to keep it next to its only use

    return await anyio.to_thread.run_sync(lambda: fn(*args))


def build_ui(pipeline: Pipeline, settings: Settings) -> gr.Blocks:
    """The chat page and the corpus tab."""

    def respond(question, chat, turns):
        chat, turns = list(chat or []), list(turns or [])
        history = [{"role": m["role"], "content": _plain(m["content"])} for m in chat]
        try:
            answer = pipeline.ask(question, history)
        except DossierError as err:
            raise gr.Error(str(err))
        turns.append((answer.question, answer))
        turn = len(turns)
        chat.append({"role": "user", "content": answer.question})
        chat.append({"role": "assistant", "content": ""})
        prose = len(answer.answer)
        for upto in list(range(40, prose, 40)) + [None]:  # stream the composed answer
            chat[-1] = {"role": "assistant", "content": render.chat_html(answer, turn, upto)}
            yield "", chat, turns, gr.skip() if upto else render.sources_html(turns)
            if upto:
                time.sleep(0.02)

    def export(turns):
        if not turns:
            raise gr.Error("Nothing to export yet: ask a question first")
        path = Path(tempfile.mkdtemp()) / "dossier-conversation.md"
        path.write_text(render.markdown(turns), encoding="utf-8")
        return gr.update(value=str(path), visible=True)

    def documents():
        try:
            docs = pipeline.stats()["documents"]
        except DossierError:
            docs = []
        return [[d["title"], d["publisher"], d["published"], d["type"], d["chunks"]] for d in docs]

    def upload(file, progress=gr.Progress()):
        # The file box is emptied after every upload, good or bad, so the next one can be dropped in.
        if not file:
            return gr.skip(), gr.skip(), gr.skip()
        source = Path(file if isinstance(file, str) else file.name)
        try:
            message = ingest_upload(pipeline, settings, source,
                                    lambda done, total, what: progress((done, total), desc=what))
        except DossierError as err:
            gr.Warning(str(err))
            return f"**Not added.** {err}", gr.skip(), None
        return message, documents(), None

    with gr.Blocks(title="Dossier") as ui:
        turns = gr.State([])
        gr.Markdown("## Dossier\nAnswers from the source documents only; every sentence is cited. "
                    "Click or hover a marker like [1] to see its passage.")
        with gr.Tab("Chat"):
            with gr.Row():
                with gr.Column(scale=3):
                    chat = gr.Chatbot(label="Conversation", height=520, elem_id="chat",
                                      feedback_options=None, buttons=["copy", "copy_all"],
                                      placeholder="Ask about the documents, or pick an example below.")
                    with gr.Row():
                        box = gr.Textbox(show_label=False, placeholder="Ask a question…", scale=5,
                                         max_length=settings.max_question_chars, elem_id="question")
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                    gr.Examples(EXAMPLES, inputs=box, label="Examples")
                    with gr.Row():
                        clear = gr.Button("New conversation", size="sm")
                        export_btn = gr.Button("Export as Markdown", size="sm", elem_id="export")
                    exported = gr.File(label="Conversation (Markdown)", visible=False)
                with gr.Column(scale=2):
                    sources = gr.HTML(render.sources_html([]), elem_id="sources")
        with gr.Tab("Corpus"):
            table = gr.Dataframe(headers=["title", "publisher", "date", "type", "chunks"], value=documents,
                                 interactive=False, label="Documents in the index")
            file = gr.File(label=f"Add a document ({', '.join(sorted(set(SUPPORTED)))}; "
                                 f"up to {settings.max_upload_mb:g} MB)",
                           file_types=sorted(set(SUPPORTED)), elem_id="upload")
            status = gr.Markdown(elem_id="upload-status")
        for trigger in (box.submit, send.click):
            trigger(respond, [box, chat, turns], [box, chat, turns, sources], api_visibility="private")
        clear.click(lambda: ([], [], render.sources_html([]), gr.update(visible=False)), None,
                    [chat, turns, sources, exported], api_visibility="private")
        export_btn.click(export, turns, exported, api_visibility="private")
        file.upload(upload, file, [status, table, file], api_visibility="private")

        @gr.api(api_name="ask")
        def ask_api(question: str, history: list | None = None) -> dict:
            """Answer a question; returns the same record as POST /api/ask."""
            try:
                return pipeline.ask(question, history or []).to_json()
            except DossierError as err:
                raise gr.Error(str(err))
    return ui


def ingest_upload(pipeline: Pipeline, settings: Settings, source: Path, progress=None) -> str:
    """Validate an uploaded file, keep it in the upload folder and ingest it; a message for the user.

    Validation happens on the temporary file before anything is copied or indexed, so a bad
    upload changes nothing.
    """
    size_mb = source.stat().st_size / 1e6
    if size_mb > settings.max_upload_mb:
        raise DossierError(f"{source.name} is {size_mb:.1f} MB; the limit is {settings.max_upload_mb:g} MB")
    try:
        load(source)
    except LoadError as err:
        raise DossierError(f"{source.name} was not added: {err.reason}") from None
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    target = settings.upload_dir / source.name
    if target.exists() and target.read_bytes() != source.read_bytes():
        raise DossierError(f"{source.name} was not added: a different file of that name is already in the "
                           "index; rename it and upload again")
    shutil.copyfile(source, target)
    report = pipeline.ingest([target], progress=progress, prune=False)
    if report.errors:
        raise DossierError(f"{source.name} was not added: {report.errors[0][1]}")
    return f"Added **{source.name}** — {report.summary()}. Ask about it in the Chat tab."


def _plain(content) -> str:
    """Chat bubble content back to plain text for the conversation history."""
    text = content if isinstance(content, str) else str(content)
    return html.unescape(re.sub(r"<[^>]+>", " ", text)).strip()


def create_app(settings: Settings, pipeline: Pipeline | None = None) -> tuple[FastAPI, Pipeline]:
    """The FastAPI app: /api routes plus the Gradio page at /."""
    pipeline = pipeline or Pipeline(settings)
    app = FastAPI(title="Dossier", docs_url=None, redoc_url=None)
    api_routes(app, pipeline, settings)
    ui = build_ui(pipeline, settings)
    ui.queue(max_size=settings.queue_size, default_concurrency_limit=settings.concurrency)
    auth = tuple(settings.auth.split(":", 1)) if settings.auth and ":" in settings.auth else None
    app = gr.mount_gradio_app(app, ui, path="/", auth=auth, css=CSS, head=HEAD, footer_links=[],
                              max_file_size=f"{settings.max_upload_mb:g}mb", ssr_mode=False)
    return app, pipeline


def serve(settings: Settings) -> int:
    """``dossier serve``: bring the index up to date, warm up, then serve until stopped."""
    import uvicorn

    pipeline = Pipeline(settings)
    if not settings.chroma_url:
        report = pipeline.ingest()
        print(f"index: {report.summary()}", flush=True)
        for path, reason in report.errors:
            print(f"skipped {path}: {reason}", flush=True)
    pipeline.warm_up()
    app, _ = create_app(settings, pipeline)

    @app.on_event("startup")
    async def ready():
        print(f"Dossier is ready at http://{settings.host}:{settings.port}", flush=True)

    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0
