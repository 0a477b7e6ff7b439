// Roving tabindex (WAI-ARIA Authoring Practices, "Keyboard navigation inside components"): a group of many
// buttons is one Tab stop. The arrow keys move the focus between the visible buttons (up and down by a row of
// the laid-out grid), Home and End to the first and the last; Enter and Space press the focused button as
// they press any button. No state beyond which button holds the group's Tab stop.

/** Installs the keys on `container`, whose `items` are its buttons; `update(item)` makes `item` (or, when it is null or hidden, the first visible button) the Tab stop. */
export function rovingFocus(container, items) {
  let current = null;
  const set = (item) => {
    if (current) current.tabIndex = -1;
    current = item ?? null;
    if (current) current.tabIndex = 0;
  };
  /** Buttons per row: those laid out on the first visible one's line. */
  const columns = (shown) => {
    const top = shown[0].offsetTop;
    const n = shown.findIndex((item) => item.offsetTop !== top);
    return n < 0 ? shown.length : Math.max(1, n);
  };
  const steps = { ArrowRight: () => 1, ArrowLeft: () => -1, ArrowDown: columns, ArrowUp: (shown) => -columns(shown), Home: () => -Infinity, End: () => Infinity };
  for (const item of items) item.tabIndex = -1;
  container.addEventListener('keydown', (event) => {
    const step = steps[event.key];
    if (!step || event.altKey || event.ctrlKey || event.metaKey) return;
    const shown = items.filter((item) => !item.hidden);
    if (shown.length === 0) return;
    event.preventDefault();
    const at = shown.indexOf(current);
    const next = shown[Math.min(shown.length - 1, Math.max(0, at + step(shown)))];
    set(next);
    next.focus();
  });
  container.addEventListener('focusin', (event) => {
    if (items.includes(event.target)) set(event.target);
  });
  return {
    update(item) {
      set(item && !item.hidden ? item : items.find((candidate) => !candidate.hidden));
    },
  };
}
