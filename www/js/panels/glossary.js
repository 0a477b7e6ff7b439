// Glossary panel: every entry of js/glossary.js, the one list of the page's jargon, as a definition list. A
// term button anywhere on the page opens its definition in place and links here (`#glossary-<id>`, focused
// without navigating: the URL hash holds the view); the terms inside a definition link to their own entries.

import { el } from '../dom.js';
import { GLOSSARY, glossed } from '../glossary.js';

export const meta = {
  id: 'glossary',
  title: 'Glossary',
  description: 'The words this page uses, in plain language. A dotted-underlined word in a panel opens its definition in place, and from there its entry here.',
  needsImage: false,
  wide: true,
};

export function createPanel(root) {
  const sorted = [...GLOSSARY].sort((a, b) => a.term.localeCompare(b.term, 'en', { sensitivity: 'base' }));
  const items = sorted.map((entry) =>
    el(
      'div',
      { className: 'glossary-item' },
      el('dt', { id: `glossary-${entry.id}`, tabIndex: -1, textContent: entry.term }),
      el('dd', {}, ...glossed(entry.text, { seen: new Set([entry.id]), link: true })),
    ),
  );
  root.replaceChildren(el('dl', { className: 'glossary-list', dataset: { testid: 'glossary' } }, ...items));
  return { render() {} };
}
