//! The only wasm-bindgen module: turns core results into typed arrays and `JsError`s.
