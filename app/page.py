"""The chat page's own CSS and scripts (Gradio builds the rest of the page)."""

CSS = """
.searched { font-size: .85em; opacity: .75; margin-bottom: .3em; }
.abstain { border-left: 4px solid #d97706; padding-left: .6em; }
a.cite { text-decoration: none; font-weight: 600; cursor: pointer; }
#sources .source { border: 1px solid #e5e7eb; border-radius: 8px; padding: .5em .7em; margin: .4em 0; }
#sources .source.near { border-style: dashed; opacity: .85; }
#sources .source.active { outline: 3px solid #2563eb; outline-offset: -3px; }
#sources .src-title { font-weight: 600; }
#sources .src-meta, #sources .src-label { font-size: .85em; opacity: .8; }
#sources blockquote { margin: .4em 0 0; font-size: .92em; }
#sources mark { background: #fde68a; color: inherit; }
#sources .closest { text-decoration: underline dotted; }
#sources .flagged { background: #fee2e2; }
#sources .flagged::before { content: "⚠ addressed to an AI, never used as an answer: "; font-size: .8em; font-weight: 600; }
"""

# Markers live in chat bubbles, sources in another component: one delegated listener links them.
# A marker scrolls only the sources panel (scrollIntoView would also scroll the chat and the page
# away from the answer being read); where the panel does not scroll, the page does.
HEAD = """<script>
(() => {
  const scroller = el => {
    for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
      const y = getComputedStyle(e).overflowY;
      if ((y === 'auto' || y === 'scroll') && e.scrollHeight > e.clientHeight) return e;
      if (e.id === 'sources') break;
    }
    return null;
  };
  const show = (a, scroll) => {
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
  document.addEventListener('mouseover', e => {
    const a = e.target.closest && e.target.closest('a[href^="#src-"]');
    if (a) show(a, false);
  });
})();
</script>"""

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
