// Light and dark themes: `data-theme="light" | "dark"` on the page's <html> or on the widget's host element,
// which css/panels.css reads. A choice of 'auto' follows the reader's system setting (prefers-color-scheme) and
// its changes; the page keeps the reader's choice in localStorage. No other state.

const LIGHT = '(prefers-color-scheme: light)';
const CHOICES = ['auto', 'light', 'dark'];

/** The theme a choice means now: 'light' or 'dark' ('auto' and unknown values follow the system). */
export function resolveTheme(choice, prefersLight = matchMedia(LIGHT).matches) {
  if (choice === 'light' || choice === 'dark') return choice;
  return prefersLight ? 'light' : 'dark';
}

/**
 * Sets `element.dataset.theme` from `choice` and, while it is 'auto', follows the system's changes.
 * Returns a function that stops following.
 */
export function applyTheme(element, choice) {
  const media = matchMedia(LIGHT);
  const set = () => (element.dataset.theme = resolveTheme(choice, media.matches));
  set();
  if (CHOICES.includes(choice) && choice !== 'auto') return () => {};
  media.addEventListener('change', set);
  return () => media.removeEventListener('change', set);
}

/** The page's theme select (Auto / Light / Dark), remembered in localStorage under `convscope-theme`. */
export function themeSwitch(select, root = document.documentElement) {
  const saved = localStorage.getItem('convscope-theme');
  select.value = CHOICES.includes(saved) ? saved : 'auto';
  let stop = applyTheme(root, select.value);
  select.addEventListener('change', () => {
    stop();
    stop = applyTheme(root, select.value);
    localStorage.setItem('convscope-theme', select.value);
  });
}
