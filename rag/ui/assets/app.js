() => {
  // The page's only script (rag/ui/app.py passes it to launch(js=...)).
  // Clicking [n] in an answer opens the passage it cites, just under that answer.
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.rag-fn');
    if (!link) return;
    event.preventDefault();
    const id = (link.getAttribute('href') || '').slice(1);
    const item = id && document.getElementById(id);
    if (!item) return;
    document.querySelectorAll('.rag-source.is-target').forEach((x) => x.classList.remove('is-target'));
    item.classList.add('is-target');
    const details = item.querySelector('details');
    if (details) details.open = true;
    item.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }, true);

  // The language switch: Gradio translates labels with the locale of its i18n module,
  // which exports changeLocale; the module is already loaded, so import() returns it.
  window.ragSetLocale = async (lang) => {
    const core = performance.getEntriesByType('resource')
      .map((entry) => entry.name)
      .find((url) => /\/assets\/core-[^/?]+\.js(\?|$)/.test(url));
    if (!core) return false;
    const module = await import(core);
    if (typeof module.changeLocale !== 'function') return false;
    module.changeLocale(lang);
    document.documentElement.lang = lang;
    return true;
  };
}
