// What a dead wasm instance looks like from JS. A trap (a Rust panic compiled to `unreachable`, an
// out-of-bounds access) unwinds no Rust frames: borrow flags stay set and memory may be half-written, so the
// instance must not be used again. Later calls on it show the damage as "recursive use" or "borrowed" errors.
// Used by js/engine.js (page and widget) and js/worker.js; no DOM here.

const SYMPTOMS = /unreachable|memory access out of bounds|recursive use of an object|while it was borrowed/i;

/** Whether `error` means the instance that threw it is dead (re-instantiate it; never call it again). */
export function isTrap(error) {
  return error instanceof WebAssembly.RuntimeError || SYMPTOMS.test(error?.message ?? '');
}
