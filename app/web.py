"""The browser UI (Gradio) and the HTTP API (FastAPI) over the pipeline; no logic of its own."""

from __future__ import annotations

import atexit
import contextlib
import html
import logging
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import gradio as gr
from fastapi import FastAPI
from starlette.routing import Mount

from app import page, removal, render, saved, uploads
from app.api import api_routes
from app.guards import BodyLimit, LoginGuard
from app.limits import Budget, LoginThrottle, fit_history
from app.loaders import SUPPORTED
from app.messages import to_history
from app.pipeline import Pipeline
from app.records import DossierError
from app.settings import Settings
from app.sources import from_ui as add_typed_urls  # not 'sources': that name is the sources panel

log = logging.getLogger("dossier")
SHUTDOWN_SECONDS = 3  # open requests and streams get this long after SIGTERM, then are cancelled
UPLOAD_OVERHEAD = 64 * 1024  # multipart framing around an uploaded file
_CACHE: Path | None = None  # this process's Gradio cache folder (see _gradio_cache)
SOURCES_HEIGHT = 640  # px; the sources panel scrolls on its own past this
# Questions that fit any corpus (what is in this one is named above them, from the index).
EXAMPLES = ["Summarize the documents", "Who wrote this?", "When was it published?", "What can you do?"]
# Saved conversations live in the browser's local storage under this key. Gradio encrypts them with
# a key that it sends to the page itself, so it protects nothing and is fixed: a random one (the
# default) would make every saved list unreadable after a restart. What comes back is checked anyway.
BROWSER_KEY, BROWSER_CIPHER = "dossier-conversations", "dossier-saved-conversations"


def _history(turns: list) -> list[dict]:
    """The conversation so far, from the server's own record of it (never from the browser).

    It goes through the same conversion as the API's histories, so the page's follow-ups are
    resolved exactly as gradio_client's and /api/ask's are.
    """
    messages = []
    for question, answer in turns:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.answer}]
    return to_history(messages)


def _chat(turns: list) -> list[dict]:
    """Chat bubbles for the turns; the question is escaped, as the Chatbot shows HTML."""
    chat = []
    for turn, (question, answer) in enumerate(turns, start=1):
        chat += [{"role": "user", "content": html.escape(question)},
                 {"role": "assistant", "content": render.chat_html(answer, turn)}]
    return chat


def _shown(turns: list) -> tuple:
    """What shows one conversation: bubbles, turns, sources panel, export text, export button."""
    return (_chat(turns), turns, render.sources_html(turns), render.markdown(turns) if turns else "",
            gr.update(interactive=bool(turns)))


def _user_error(message: str) -> gr.Error:
    """An error the user made (an empty question, nothing to export): a message on the page only.

    Gradio prints the traceback of every gr.Error unless told not to, which buried real failures
    in the server log under ordinary typos.
    """
    return gr.Error(message, print_exception=False)


def _unexpected(what: str) -> gr.Error:
    """A user-meaningful error for a bug; the traceback goes to the server log (once), not the page."""
    log.exception("unexpected error while %s", what)
    return _user_error(f"Something went wrong while {what}; the server log has the details.")


def build_ui(pipeline: Pipeline, settings: Settings, stopping: threading.Event | None = None) -> gr.Blocks:
    """The chat page and the corpus tab."""

    def respond(question, turns):
        # The conversation comes from the session's state, not from the Chatbot's value: a client
        # can send any value for an input, file parts with server paths included.
        turns = list(turns or [])
        history = fit_history(_history(turns), settings)
        try:
            answer = pipeline.ask(question, history, Budget(settings.max_seconds_per_question, stopping))
        except DossierError as err:
            # A notice, and nothing else changes: a raised gr.Error put "Error" over the chat, the
            # question box and the sources, and the covered box could not be clicked again.
            gr.Warning(str(err))
            return (gr.skip(),) * (1 + len(_shown([])))  # the question box and what _shown fills
        except Exception:
            raise _unexpected("answering this question")
        turns.append((answer.question, answer))
        # The answer is whole once chosen, so it is shown at once: revealing it bit by bit only
        # imitated a language model's streaming and delayed the reader.
        return "", *_shown(turns)

    # Saved conversations: the server's copy (``conversations``) is read from the browser once per
    # page load and checked there (saved.from_browser); every change is written back to the browser.
    def listed(conversations, current):
        return gr.update(choices=saved.choices(conversations), value=current)

    def reopen(value):
        conversations = saved.from_browser(value, settings)
        return conversations, listed(conversations, None)

    def remember(turns, current, conversations):
        conversations, current = saved.save(conversations, current, turns, settings)
        kept = saved.find(conversations, current)
        return (current, conversations, saved.to_browser(conversations), listed(conversations, current),
                kept.title if kept else gr.skip())

    def open_saved(conversation_id, conversations):
        found = saved.find(conversations, conversation_id)
        if found is None:
            return (gr.skip(),) * 7
        return (*_shown(list(found.turns)), found.id, found.title)

    def rename(current, title, conversations):
        conversations = saved.rename(conversations, current, title)
        return conversations, saved.to_browser(conversations), listed(conversations, current)

    def delete(current, conversations):
        conversations = saved.delete(conversations, current)
        return (*_shown([]), None, "", conversations, saved.to_browser(conversations), listed(conversations, None))

    def events() -> str:
        # Worked out once per index version (timeline.py), so opening the tab after an upload is cheap.
        try:
            return render.timeline_html(pipeline.timeline())
        except DossierError as err:
            return f'<div class="timeline-empty">{html.escape(str(err))}</div>'

    def indexed() -> list[dict]:
        try:
            return pipeline.stats()["documents"]
        except DossierError:
            return []

    def documents():
        return [[d["title"], d["publisher"], d["published"], d["type"], d["chunks"]] for d in indexed()]

    def intro():
        return render.corpus_intro(indexed())

    def removable():
        # Only what was added here: a corpus file would come back at the next start (removal.check).
        try:
            choices = removal.removable(pipeline)
        except DossierError:
            choices = []
        return gr.update(choices=[(f"{title} ({doc_id})", doc_id) for title, doc_id in choices], value=None)

    # Removing asks first, naming what goes (removal.check); choosing another document withdraws the question.
    def ask_removal(doc_id):
        try:
            title, own = removal.check(pipeline, doc_id)
        except DossierError as err:
            return f"**Not removed.** {render.escape_markdown(str(err))}", gr.update(visible=False)
        copy = "uploaded file" if own and removal.inside(own, settings.upload_dir) else "fetched copy"
        what = (f"Its {copy} is deleted and its passages leave the index" if own else
                "Its passages leave the index (its file, not Dossier's, is left where it is)")
        return f"Remove **{render.escape_markdown(title)}**? {what}.", gr.update(visible=True)

    def confirm_removal(doc_id):
        try:
            done = removal.remove(pipeline, doc_id)
        except DossierError as err:
            return f"**Not removed.** {render.escape_markdown(str(err))}", gr.update(visible=False), *(gr.skip(),) * 3
        except Exception:
            raise _unexpected("removing this document")
        gone = " and its file was deleted." if done.deleted_file else "."
        message = (f"Removed **{render.escape_markdown(done.title)}**: {done.chunks} passage"
                   f"{'' if done.chunks == 1 else 's'} left the index{gone}")
        return message, gr.update(visible=False), documents(), intro(), removable()

    def upload(file, progress=gr.Progress()):
        # The file box is emptied after every upload, good or bad, so the next one can be dropped in.
        if not file:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        path = Path(file if isinstance(file, str) else file.name)
        try:
            received = _received(ui, path)
            message = uploads.add(pipeline, received, progress=lambda done, total, what: progress((done, total),
                                                                                                    desc=what))
        except DossierError as err:
            gr.Warning(str(err))  # a notice shows plain text; the status line is Markdown
            return f"**Not added.** {render.escape_markdown(str(err))}", gr.skip(), None, gr.skip()
        except Exception:
            raise _unexpected("adding this file")
        finally:
            _discard(ui, path)
        return message, documents(), None, intro()

    def add_by_url(text):
        try:
            message = add_typed_urls(pipeline, text)  # refuses private addresses: the server fetches
        except DossierError as err:
            return f"**Not added.** {render.escape_markdown(str(err))}", gr.skip(), gr.skip(), gr.skip()
        except Exception:
            raise _unexpected("adding this address")
        return message, documents(), "", intro()

    cache = settings.upload_cache_seconds
    with gr.Blocks(title="Dossier", delete_cache=(min(60, cache), cache)) as ui:
        turns = gr.State([])
        current = gr.State(None)  # the open conversation's id in the saved list
        conversations = gr.State([])
        browser = gr.BrowserState([], storage_key=BROWSER_KEY, secret=BROWSER_CIPHER)
        with gr.Sidebar(label="Conversations", position="left", elem_id="saved"):
            listing = gr.Radio([], label="Saved in this browser", elem_id="saved-list",
                               info="Each conversation is saved here as you ask; reopen one with its sources.")
            # Shown only while a saved conversation is open: with none, an empty title field with
            # Rename and Delete beside it had nothing to act on (see current.change below).
            with gr.Column(visible=False, elem_id="saved-open") as open_tools:
                title = gr.Textbox(label="Title of the open conversation", max_length=saved.TITLE_CHARS,
                                   elem_id="saved-title")
                with gr.Row():
                    rename_btn = gr.Button("Rename", size="sm", elem_id="saved-rename")
                    delete_btn = gr.Button("Delete…", size="sm", elem_id="saved-delete")
            # Deleting asks first, like removing a document: there is no undo.
            with gr.Row(visible=False) as delete_row:
                delete_yes = gr.Button("Yes, delete it", size="sm", variant="stop", elem_id="saved-delete-confirm")
                delete_no = gr.Button("Keep it", size="sm", elem_id="saved-delete-cancel")
        gr.Markdown("# Dossier\nAnswers from the source documents only; every sentence is cited. "
                    "Click or tap a marker like [1] to see its passage (on a computer, hovering highlights it when it is "
                    "in view).")
        about = gr.Markdown(intro, elem_id="corpus-intro")  # a function: made again on every page load
        with gr.Tab("Chat"):
            with gr.Row():
                with gr.Column(scale=3):
                    # HTML without Markdown: a source's [link](...) or ![image](...) must show as
                    # text, never become a live link or a fetched image (our HTML is escaped).
                    # No visible label: Gradio floats it over the first line of the chat.
                    chat = gr.Chatbot(label="Conversation", show_label=False, height=460, elem_id="chat",
                                      feedback_options=None, buttons=["copy", "copy_all"],
                                      render_markdown=False, latex_delimiters=[],
                                      placeholder="Ask about the documents, or pick an example below.")
                    with gr.Row():
                        # No max_length: the browser would cut a long paste silently and ask the stub;
                        # the server's limit says how long it was, and the box keeps the text.
                        box = gr.Textbox(show_label=False, placeholder="Ask a question…", scale=5,
                                         elem_id="question")
                        send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                    # Right under the question box, so they stay in view beside the conversation.
                    with gr.Row():
                        clear = gr.Button("New conversation", size="sm", elem_id="new-conversation")
                        export_btn = gr.Button("Export as Markdown", size="sm", elem_id="export",
                                               interactive=False)
                    examples = gr.Examples(EXAMPLES, inputs=box, label="Examples")
                with gr.Column(scale=2):
                    sources = gr.HTML(render.sources_html([]), elem_id="sources", max_height=SOURCES_HEIGHT)
            # The export is made with each answer and saved by the browser (page.DOWNLOAD): one
            # click, no file written on the server.
            exported = gr.Textbox(visible=False)
        with gr.Tab("Timeline", elem_id="timeline-tab") as timeline_tab:
            # Made on opening the tab (so after an upload too), not on every page load: over 50,000
            # chunks the first reading of every sentence's dates takes seconds.
            timeline = gr.HTML('<div class="timeline-empty">Reading the dates in the documents…</div>',
                               elem_id="timeline")
        with gr.Tab("Corpus"):
            # Titles wrap, so publisher, date and type stay in view without scrolling sideways.
            table = gr.Dataframe(headers=["title", "publisher", "date", "type", "chunks"], value=documents,
                                 interactive=False, label="Documents in the index", wrap=True,
                                 elem_id="corpus-table",  # on a phone it scrolls sideways (page.CSS)
                                 column_widths=["44%", "20%", "13%", "13%", "10%"])
            file = gr.File(label=f"Add a document ({', '.join(sorted(set(SUPPORTED)))}; "
                                 f"up to {settings.max_upload_mb:g} MB)",
                           elem_id="upload")  # no file_types: Gradio refuses others with a bare
            # "Error"; the loader's own message names the type and what Dossier reads instead
            status = gr.Markdown(elem_id="upload-status")
            with gr.Row():
                doomed = gr.Dropdown([], label="Remove a document added here", scale=4, elem_id="remove-doc",
                                     info="Files in the corpus folder are removed by deleting the file.")
                remove_btn = gr.Button("Remove…", scale=1, min_width=80, elem_id="remove")
            with gr.Row(visible=False) as confirm_row:
                confirm_btn = gr.Button("Yes, remove it", variant="primary", elem_id="remove-confirm")
                cancel_btn = gr.Button("Cancel", elem_id="remove-cancel")
            removal_status = gr.Markdown(elem_id="remove-status")
            if settings.ui_add_urls:  # off unless set: it lets any user make the server fetch a URL
                with gr.Row():
                    url_box = gr.Textbox(label="Add a web page or PDF by its address (one per line)", scale=5,
                                         placeholder="https://…", elem_id="add-url")
                    url_btn = gr.Button("Fetch and add", scale=1, elem_id="add-url-button")
        # An example asks its question as the Ask button does, once it is in the box. Not Gradio's
        # run_on_click: that runs one function, without the steps after it (scrolling, saving).
        for trigger in (box.submit, send.click, examples.load_input_event.then):
            answered = trigger(respond, [box, turns], [box, chat, turns, sources, exported, export_btn],
                               api_visibility="private")
            answered.success(None, None, None, js=page.LATEST)
            answered.success(remember, [turns, current, conversations],
                             [current, conversations, browser, listing, title], api_visibility="private")
        # "New conversation" and the Chatbot's trash icon both start over: bubbles, sources,
        # question numbers and export together, so a cleared question is never exported.
        for trigger in (clear.click, chat.clear):
            # The old conversation stays in the saved list: it was saved with each answer.
            trigger(lambda: (*_shown([]), None, gr.update(value=None), ""), None,
                    [chat, turns, sources, exported, export_btn, current, listing, title], api_visibility="private")
        # Another conversation (or none) open: a pending "delete?" question no longer applies.
        current.change(lambda open_: (gr.update(visible=open_ is not None), gr.update(visible=False)), current,
                       [open_tools, delete_row], api_visibility="private")
        ui.load(reopen, browser, [conversations, listing], api_visibility="private")
        ui.load(None, js=page.FOLD_ON_PHONE)
        listing.input(open_saved, [listing, conversations],
                      [chat, turns, sources, exported, export_btn, current, title], api_visibility="private").then(
            None, js=page.FOLD_ON_PHONE)  # on a phone the panel covered the conversation just opened
        for trigger in (rename_btn.click, title.submit):
            trigger(rename, [current, title, conversations], [conversations, browser, listing],
                    api_visibility="private")
        delete_btn.click(lambda open_: gr.update(visible=open_ is not None), current, delete_row,
                         api_visibility="private")
        delete_no.click(lambda: gr.update(visible=False), None, delete_row, api_visibility="private")
        delete_yes.click(delete, [current, conversations],
                         [chat, turns, sources, exported, export_btn, current, title, conversations, browser, listing],
                         api_visibility="private").then(lambda: gr.update(visible=False), None, delete_row,
                                                        api_visibility="private")
        export_btn.click(None, exported, None, js=page.DOWNLOAD, api_visibility="private")
        file.upload(upload, file, [status, table, file, about], api_visibility="private").then(
            removable, None, doomed, api_visibility="private")
        ui.load(removable, None, doomed, api_visibility="private")
        remove_btn.click(ask_removal, doomed, [removal_status, confirm_row], api_visibility="private")
        for trigger in (doomed.input, cancel_btn.click):
            trigger(lambda: ("", gr.update(visible=False)), None, [removal_status, confirm_row],
                    api_visibility="private")
        confirm_btn.click(confirm_removal, doomed, [removal_status, confirm_row, table, about, doomed],
                          api_visibility="private")
        timeline_tab.select(events, None, timeline, api_visibility="private")
        if settings.ui_add_urls:
            for trigger in (url_btn.click, url_box.submit):
                trigger(add_by_url, url_box, [status, table, url_box, about], api_visibility="private")

        @gr.api(api_name="ask")
        def ask_api(question: str, history: list | None = None) -> dict:
            """Answer a question; returns the same record as POST /api/ask."""
            try:
                return pipeline.ask(question, to_history(history),
                                    Budget(settings.max_seconds_per_question, stopping)).to_json()
            except DossierError as err:
                raise _user_error(str(err))
            except Exception:
                raise _unexpected("answering this question")
    return ui


def _received(ui: gr.Blocks, path: Path) -> Path:
    """The file, if Gradio's own upload endpoint received it in this process; else a DossierError.

    A client names the file by its server path, so the path is hostile: Gradio's check only asks
    that it lie in the cache folder, which also holds files this server wrote (the exports).
    """
    resolved = path.resolve()
    if not any(Path(p).resolve() == resolved for p in list(ui.upload_file_set)):
        raise DossierError("that file was not uploaded through this page; drop it in the upload box")
    return resolved


def _discard(ui: gr.Blocks, path: Path) -> None:
    """Delete Gradio's copy of an upload once handled: it was kept in uploads/ or refused."""
    resolved = path.resolve()
    for name in [p for p in list(ui.upload_file_set) if Path(p).resolve() == resolved]:
        ui.upload_file_set.discard(name)
        resolved.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            resolved.parent.rmdir()


def _gradio_cache() -> Path:
    """A folder of this process's own for Gradio's uploads and cache, removed at exit.

    Gradio's default, /tmp/gradio, is shared by every Gradio app on the machine and outlives
    them, and its file route serves whatever lies there.
    """
    global _CACHE
    if _CACHE is None:
        _CACHE = Path(tempfile.mkdtemp(prefix="dossier-gradio-"))
        os.environ["GRADIO_TEMP_DIR"] = str(_CACHE)  # Gradio takes its cache location from here only
        atexit.register(shutil.rmtree, _CACHE, True)
    return _CACHE


def create_app(settings: Settings, pipeline: Pipeline | None = None) -> tuple[FastAPI, Pipeline]:
    """The FastAPI app: /api routes plus the Gradio page at /, behind the body and login guards."""
    pipeline = pipeline or Pipeline(settings)
    login = settings.login()  # checked again: model_copy() skips the settings' own validation
    _gradio_cache()
    app = FastAPI(title="Dossier", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.stopping = threading.Event()  # set at shutdown: every question's budget sees it
    app.state.logins = LoginThrottle(settings)
    api_routes(app, pipeline, settings)
    ui = build_ui(pipeline, settings, app.state.stopping)
    ui.queue(max_size=settings.queue_size, default_concurrency_limit=settings.concurrency)
    app = gr.mount_gradio_app(app, ui, path="/", auth=login, theme=page.THEME, css=page.CSS, head=page.HEAD,
                              footer_links=[],
                              max_file_size=f"{settings.max_upload_mb:g}mb", ssr_mode=False, show_error=False)
    # Gradio checks that a file a client names was uploaded by a user only once the app "has
    # launched", which mount_gradio_app never marks: without this, any client could have any
    # server file copied into the cache and served back (/etc/passwd, the index itself).
    ui.has_launched = ui.is_running = True
    app.state.ui = ui
    app.state.gradio = next(r.app for r in app.routes if isinstance(r, Mount) and r.app.get_blocks() is ui)
    app.add_middleware(LoginGuard, throttle=app.state.logins)
    app.add_middleware(BodyLimit, limit=settings.max_request_kb * 1024,
                       upload_limit=int(settings.max_upload_mb * 1e6) + UPLOAD_OVERHEAD)
    return app, pipeline


def stop(app: FastAPI) -> None:
    """Tell running questions and Gradio's open streams that the server is stopping."""
    app.state.stopping.set()
    app.state.ui.is_running = False
    app.state.gradio.stop_event.set()  # ends the page's heartbeat streams, which never end on their own


def _log_to_stderr(settings: Settings) -> None:
    """The server's own log lines (questions, uploads, removals) on stderr, at the configured level.

    Only the "dossier" logger: the root logger is left alone, so libraries' INFO chatter stays off.
    """
    if not any(getattr(h, "dossier", False) for h in log.handlers):
        handler = logging.StreamHandler()
        handler.dossier = True
        handler.setFormatter(logging.Formatter("%(asctime)s dossier %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(settings.log_level)


def serve(settings: Settings) -> int:
    """``dossier serve``: bring the index up to date, warm up, then serve until stopped."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets)  # binds; exits the process when the port is taken
            if self.started:
                print(f"Dossier is ready at http://{settings.host}:{settings.port}", flush=True)

        async def shutdown(self, sockets=None):
            stop(app)
            await super().shutdown(sockets)
            # uvicorn then re-raises SIGTERM, which ends the process without running atexit.
            shutil.rmtree(_gradio_cache(), ignore_errors=True)

    _log_to_stderr(settings)
    pipeline = Pipeline(settings)
    if not settings.chroma_url:
        report = pipeline.ingest()  # corpus and uploads: a rebuild or a killed upload loses nothing
        print(f"index: {report.summary()}", flush=True)
        for path, reason in report.errors:
            print(f"skipped {path}: {reason}", flush=True)
        for path, (wanted, given) in report.renamed.items():
            print(f"{path}: the id '{wanted}' belongs to another document; indexed as '{given}'", flush=True)
    pipeline.warm_up()
    app, _ = create_app(settings, pipeline)
    server = Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning",
                                   timeout_graceful_shutdown=SHUTDOWN_SECONDS))
    try:
        server.run()
    except SystemExit:
        if server.started:
            raise
        print(f"dossier: error: cannot listen on {settings.host}:{settings.port} (see above)", file=sys.stderr)
        return 1
    return 0
