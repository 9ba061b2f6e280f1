"""The chat page's own theme, CSS and scripts (Gradio builds the rest of the page)."""

import gradio as gr

# Gradio's default orange under white text is 2.8:1 (light) and 4.0:1 (dark); orange-700 is 5.2:1
# in both, which WCAG AA asks of normal text (4.5:1).
THEME = gr.themes.Default().set(
    button_primary_background_fill="*primary_700", button_primary_background_fill_dark="*primary_700",
    button_primary_background_fill_hover="*primary_800", button_primary_background_fill_hover_dark="*primary_800",
    button_primary_border_color="*primary_700", button_primary_border_color_dark="*primary_700",
    button_primary_text_color="white", button_primary_text_color_dark="white")

# Colours are set for both schemes (Gradio adds .dark when the system asks for it): text never
# inherits a near-white colour onto a pale highlight, and no secondary text is faded by opacity,
# which is what took the "Searched for" line and the source links below AA contrast. Gradio
# scopes this CSS and puts .dark right only on a rule's first selector: one selector per .dark rule.
CSS = """
.searched { font-size: .85em; margin-bottom: .3em; color: #4b5563; }
.dark .searched { color: #d1d5db; }
#sources .src-meta, #sources .src-label { color: #4b5563; }
.dark #sources .src-meta { color: #d1d5db; }
.dark #sources .src-label { color: #d1d5db; }
#sources a { color: #1d4ed8; }
.dark #sources a { color: #93c5fd; }
button[role="tab"][aria-selected="true"] { color: #c2410c !important; }
.dark button[role="tab"][aria-selected="true"] { color: #fdba74 !important; }
.abstain { border-left: 4px solid #d97706; padding-left: .6em; }
a.cite { text-decoration: none; font-weight: 600; cursor: pointer; }
#sources .source { border: 1px solid #e5e7eb; border-radius: 8px; padding: .5em .7em; margin: .4em 0; }
#sources .source.near { border-style: dashed; opacity: .85; }
#sources .source.active { outline: 3px solid #2563eb; outline-offset: -3px; }
#sources .src-title { font-weight: 600; }
/* one document's title, shown whole on its first card, takes one line on the next ones */
#sources .source.again .src-title { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#sources .src-meta, #sources .src-label { font-size: .85em; }
#sources blockquote { margin: .4em 0 0; font-size: .92em; }
#sources mark { background: #fde68a; color: #1f2937; }
#sources .closest { text-decoration: underline dotted; }
#sources .flagged { background: #fee2e2; color: #1f2937; }
#sources .flagged::before { content: "⚠ addressed to an AI, never used as an answer: "; font-size: .8em; font-weight: 600; }
#timeline .tl-list { list-style: none; padding: 0; margin: .3em 0; }
#timeline .tl-event { border-left: 3px solid #9ca3af; padding: .15em 0 .15em .7em; margin: 0 0 .5em; }
#timeline summary { cursor: pointer; }
#timeline .tl-date { font-weight: 700; font-variant-numeric: tabular-nums; margin-right: .3em; }
#timeline .tl-inferred { font-size: .8em; border: 1px solid currentColor; border-radius: 4px; padding: 0 .3em; color: #92400e; }
.dark #timeline .tl-inferred { color: #fcd34d; }
#timeline .tl-source, #timeline .tl-note, #timeline .tl-how, #timeline .src-meta { color: #4b5563; font-size: .9em; }
.dark #timeline .tl-source { color: #d1d5db; }
.dark #timeline .tl-note { color: #d1d5db; }
.dark #timeline .tl-how { color: #d1d5db; }
.dark #timeline .src-meta { color: #d1d5db; }
#timeline a { color: #1d4ed8; }
.dark #timeline a { color: #93c5fd; }
#timeline .tl-passage { margin: .4em 0 .2em; }
#timeline blockquote { margin: .3em 0 0; font-size: .92em; white-space: pre-line; }
#timeline mark { background: #fde68a; color: #1f2937; }
#timeline .flagged { background: #fee2e2; color: #1f2937; }
#saved .info-text { color: #4b5563; }
.dark #saved .info-text { color: #d1d5db; }
#chat .inline-sources { display: none; }
#chat .inline-sources summary { cursor: pointer; font-size: .9em; font-weight: 600; }
#chat .inline-sources .source { border: 1px solid #e5e7eb; border-radius: 8px; padding: .4em .6em; margin: .4em 0; }
#chat .inline-sources .source.active { outline: 3px solid #2563eb; outline-offset: -3px; }
#chat .inline-sources .src-title { font-weight: 600; }
#chat .inline-sources .src-meta { font-size: .85em; color: #4b5563; }
.dark #chat .inline-sources .src-meta { color: #d1d5db; }
#chat .inline-sources a { color: #1d4ed8; }
.dark #chat .inline-sources a { color: #93c5fd; }
#chat .inline-sources blockquote { margin: .3em 0 0; font-size: .92em; }
#chat .inline-sources mark { background: #fde68a; color: #1f2937; }
#chat .inline-sources .closest { text-decoration: underline dotted; }
#chat .inline-sources .flagged { background: #fee2e2; color: #1f2937; }
/* A phone: each answer's sources fold out under it (the side panel would sit below everything),
   and the empty chat is short enough that the examples stay in view. Once it holds answers it
   fills the screen but for the question box, which each answer brings into view (LATEST), and is
   tall enough for an opened source card. */
@media (max-width: 768px) {
  #chat .inline-sources { display: block; margin-top: .5em; }
  #sources { display: none !important; }
  #chat { height: min(680px, calc(100vh - 160px)) !important; }
  #chat:not(:has([data-testid="user"])) { height: 200px !important; }
  /* An opened source card must fit in the chat's frame: its title no larger than its passage. */
  #chat .inline-sources .src-title { font-size: .92em; }
  /* The document table scrolls sideways rather than wrapping "chunks" a letter to a line: Gradio
     sizes each cell in px from column_widths; the header is a table, the rows are flex rows. */
  #corpus-table table { width: 700px !important; min-width: 700px; }
  #corpus-table th:nth-child(1), #corpus-table td:nth-child(1), #corpus-table .body-cell:nth-child(1) {
    width: 250px !important; min-width: 250px !important; max-width: 250px !important; flex: 0 0 250px !important; }
  #corpus-table th:nth-child(2), #corpus-table td:nth-child(2), #corpus-table .body-cell:nth-child(2) {
    width: 140px !important; min-width: 140px !important; max-width: 140px !important; flex: 0 0 140px !important; }
  #corpus-table th:nth-child(3), #corpus-table td:nth-child(3), #corpus-table .body-cell:nth-child(3) {
    width: 115px !important; min-width: 115px !important; max-width: 115px !important; flex: 0 0 115px !important; }
  #corpus-table th:nth-child(4), #corpus-table td:nth-child(4), #corpus-table .body-cell:nth-child(4) {
    width: 120px !important; min-width: 120px !important; max-width: 120px !important; flex: 0 0 120px !important; }
  #corpus-table th:nth-child(5), #corpus-table td:nth-child(5), #corpus-table .body-cell:nth-child(5) {
    width: 75px !important; min-width: 75px !important; max-width: 75px !important; flex: 0 0 75px !important; }
}
/* Gradio floats the chat's trash/copy icons over its top right corner, over the first bubble's
   text and copy button: they get a row of their own above the messages instead. */
#chat .top-panel { position: static; align-self: flex-end; }
/* Gradio's floating "scroll down" arrow covered answer text. The chat scrolls to each new
   question and answer by itself (LATEST), so the arrow is not needed. */
#chat .scroll-down-button-container { display: none !important; }
"""

# Markers live in chat bubbles, sources in another component: one delegated listener links them.
# A marker scrolls only the sources panel (scrollIntoView would also scroll the chat and the page
# away from the answer being read); where the panel does not scroll, the page does.
HEAD = """<style>
/* Outside Gradio's scoped CSS, which reaches only what lies inside the page's main column. On a
   phone the side panel's fixed toggle sat on the chat frame's left edge: the page makes room. */
@media (max-width: 768px) { .sidebar-parent > main.contain { padding-left: 14px; } }
</style>
<script>
(() => {
  const scroller = el => {
    for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
      const y = getComputedStyle(e).overflowY;
      if ((y === 'auto' || y === 'scroll') && e.scrollHeight > e.clientHeight) return e;
      if (e.id === 'sources') break;
    }
    return null;
  };
  // On a phone the bubble's own copy of the sources is shown (page.CSS): the passage opens there,
  // under the answer, and only the chat scrolls the few lines to it.
  const inline = (a, scroll) => {
    const bubble = a.closest('#chat .message, #chat [data-testid="bot"]');
    const fold = bubble && bubble.querySelector('details.inline-sources');
    if (!fold || getComputedStyle(fold).display === 'none') return false;
    const el = fold.querySelector('.' + (a.getAttribute('href') || '').slice(1));
    if (!el) return false;
    fold.querySelectorAll('.source.active').forEach(e => e.classList.remove('active'));
    el.classList.add('active');
    if (!scroll) return true;
    fold.open = true;
    const box = scroller(el);  // the chat's own scroller: the page itself never moves
    if (box) {
      const r = el.getBoundingClientRect(), b = box.getBoundingClientRect();
      const by = r.top < b.top ? r.top - b.top : Math.min(r.top - b.top, Math.max(0, r.bottom - b.bottom));
      box.scrollTo({top: box.scrollTop + by, behavior: 'smooth'});
    }
    return true;
  };
  const show = (a, scroll) => {
    if (inline(a, scroll)) return;
    const id = (a.getAttribute('href') || '').slice(1);
    const el = document.getElementById(id);
    if (!el) return;
    document.querySelectorAll('#sources .source.active').forEach(e => e.classList.remove('active'));
    el.classList.add('active');
    if (!scroll) return;
    const box = scroller(el);
    if (!box) { el.scrollIntoView({behavior: 'smooth', block: 'center'}); return; }
    const offset = el.getBoundingClientRect().top - box.getBoundingClientRect().top;
    box.scrollTo({top: box.scrollTop + offset - Math.max(0, (box.clientHeight - el.offsetHeight) / 2),
                  behavior: 'smooth'});
  };
  document.addEventListener('click', e => {
    const a = e.target.closest && e.target.closest('a[href^="#src-"]');
    if (a) { e.preventDefault(); e.stopPropagation(); show(a, true); }
  }, true);
  // An opened Timeline event shows its whole passage, which starts at the top of its chunk: the
  // highlighted sentence is brought into view (on a phone it was below the fold).
  document.addEventListener('toggle', e => {
    const d = e.target;
    if (!d.open || !d.closest || !d.closest('#timeline')) return;
    const m = d.querySelector('.tl-passage mark');
    if (m) m.scrollIntoView({block: 'center'});
  }, true);
  document.addEventListener('mouseover', e => {
    const a = e.target.closest && e.target.closest('a[href^="#src-"]');
    if (a) show(a, false);
  });
  // Gradio labels each chat message with its raw content, which for us is HTML: a screen reader
  // would read out the tags. The label is rewritten to the message's text.
  const plain = el => {
    const label = el.getAttribute('aria-label') || '';
    const cut = label.indexOf(': ') + 2;
    if (!el.closest('#chat') || cut < 2 || !/[<&]/.test(label.slice(cut))) return;
    const markup = label.slice(cut).replace(/<\/(div|p|li|h\d)>/g, '$& ');  // blocks read as separate
    const text = new DOMParser().parseFromString(markup, 'text/html').body.textContent;
    el.setAttribute('aria-label', label.slice(0, cut) + text.replace(/\s+/g, ' ').trim());
  };
  new MutationObserver(records => records.forEach(r => {
    if (r.type === 'attributes') return plain(r.target);
    r.addedNodes.forEach(n => n.querySelectorAll && [n, ...n.querySelectorAll('[aria-label]')]
      .forEach(e => e.hasAttribute('aria-label') && plain(e)));
  })).observe(document.documentElement, {subtree: true, childList: true, attributes: true,
                                         attributeFilter: ['aria-label']});
})();
</script>"""

# On a phone the conversations panel would cover the page: it starts folded there (its toggle opens it),
# and folds when a window narrows to a phone's width with it open (it then lay over the question box).
FOLD_ON_PHONE = """() => {
  const phone = matchMedia('(max-width: 768px)');
  const fold = () => {
    if (!phone.matches) return;
    const panel = document.querySelector('#saved.open');
    if (panel) panel.querySelector('.toggle-button').click();
  };
  fold();
  phone.addEventListener('change', fold);
}"""

# The conversation's Markdown (made with each answer) saved by the browser as a file.
DOWNLOAD = """(markdown) => {
  if (!markdown) return;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([markdown], {type: 'text/markdown;charset=utf-8'}));
  a.download = 'dossier-conversation.md';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}"""

# After each answer: the chat shows the new question and answer, and the sources panel (newest
# first) goes back to its top, even if a marker click or the wheel had scrolled either elsewhere;
# otherwise a new answer could arrive out of sight, beside an older answer's passages.
LATEST = """() => setTimeout(() => {
  const scroller = root => [root, ...root.querySelectorAll('*')].find(e => {
    const y = getComputedStyle(e).overflowY;
    return (y === 'auto' || y === 'scroll') && e.scrollHeight > e.clientHeight;
  });
  const chat = document.querySelector('#chat');
  const users = chat ? chat.querySelectorAll('[data-testid="user"]') : [];
  const box = chat && scroller(chat);
  if (box && users.length) {
    const last = users[users.length - 1];
    box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
  }
  // On a phone the page itself scrolls too: the question box, below the chat, is brought into
  // view so the next question can be asked without scrolling (it ended at the screen's edge).
  const question = document.querySelector('#question');
  if (question && matchMedia('(max-width: 768px)').matches) {
    const below = question.getBoundingClientRect().bottom + 8 - window.innerHeight;
    if (below > 0) window.scrollBy(0, below);
  }
  const sources = document.querySelector('#sources');
  const panel = sources && scroller(sources);
  if (panel) panel.scrollTop = 0;
  document.querySelectorAll('#sources .source.active').forEach(e => e.classList.remove('active'));
}, 60)"""
