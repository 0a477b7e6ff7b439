//! The boundary tests of `tests/web.rs`, run in a browser by `wasm-pack test --headless --chrome` (a test
//! binary runs either in Node or in a browser, so the browser run needs its own binary; each wasm-pack command
//! skips the binary meant for the other).
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[path = "web.rs"]
mod web;
