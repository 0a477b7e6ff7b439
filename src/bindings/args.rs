//! Checks the arguments of the JS API before anything is copied into wasm memory: typed arrays of the
//! right kind and exact length (a `{ length: 3e8 }` object is refused at once), whole numbers that are whole
//! numbers in range (`2**32`, `NaN`, `1.5` and `-28` are errors, never wrapped), and options objects read
//! into JSON with every number finite (`{ target: NaN }` is an error, not "the predicted class").

use crate::catalogue::options::MAX_SAFE_INTEGER;
use crate::error::{Error, Result};
use js_sys::{Array, Float32Array, JsString, Object, Uint8Array, Uint8ClampedArray};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};

/// Largest array accepted inside an options object (a per-pixel baseline).
const MAX_OPTION_ARRAY: u32 = 1 << 24;
/// Deepest nesting accepted in an options object.
const MAX_DEPTH: usize = 4;

/// What a JS value is, for error messages.
fn kind(value: &JsValue) -> String {
    if value.is_null() {
        return "null".into();
    }
    if value.is_object() {
        let name = String::from(Object::from(value.clone()).constructor().name());
        let article = match name.chars().next() {
            Some('A' | 'E' | 'I' | 'O' | 'U') => "an",
            _ => "a",
        };
        return format!("{article} {name}");
    }
    value.js_typeof().as_string().unwrap_or_default()
}

/// `value` as a `Float32Array` of exactly `shape`'s element count, copied (an image).
pub fn float32_image(what: &str, value: &JsValue, shape: &[usize]) -> Result<Vec<f32>> {
    let array = value.dyn_ref::<Float32Array>().ok_or_else(|| {
        Error::option(what, format!("must be a Float32Array, got {}", kind(value)))
    })?;
    let expected: usize = shape.iter().product();
    let length = array.length() as usize;
    if length != expected {
        return Err(Error::shape(what, shape, &[length]));
    }
    Ok(array.to_vec())
}

/// `value` as bytes (a `Uint8Array` or `Uint8ClampedArray`) of at most `max` bytes, copied.
pub fn bytes(what: &str, value: &JsValue, max: u64) -> Result<Vec<u8>> {
    let (length, copy): (u32, Box<dyn Fn() -> Vec<u8>>) =
        if let Some(array) = value.dyn_ref::<Uint8Array>() {
            (array.length(), Box::new(|| array.to_vec()))
        } else if let Some(array) = value.dyn_ref::<Uint8ClampedArray>() {
            (array.length(), Box::new(|| array.to_vec()))
        } else {
            return Err(Error::option(
                what,
                format!("must be a Uint8Array, got {}", kind(value)),
            ));
        };
    if u64::from(length) > max {
        return Err(Error::out_of_range(
            format!("{what} length"),
            length,
            format!("at most {max} bytes"),
        ));
    }
    Ok(copy())
}

/// `value` as bytes of exactly `expected` bytes (canvas RGBA data).
pub fn exact_bytes(what: &str, value: &JsValue, expected: usize) -> Result<Vec<u8>> {
    let max = u64::try_from(expected).unwrap_or(u64::MAX);
    let data = bytes(what, value, max)?;
    if data.len() != expected {
        return Err(Error::shape(what, &[expected], &[data.len()]));
    }
    Ok(data)
}

/// A JS string of at most `max` UTF-16 units, copied.
pub fn text(what: &str, value: &JsValue, max: u32) -> Result<String> {
    let string = value
        .dyn_ref::<JsString>()
        .ok_or_else(|| Error::option(what, format!("must be a string, got {}", kind(value))))?;
    if string.length() > max {
        return Err(Error::out_of_range(
            format!("{what} length"),
            string.length(),
            format!("at most {max} characters"),
        ));
    }
    Ok(String::from(string))
}

/// A JS number that is a whole number from 0 to `max`.
pub fn whole_number(what: &str, value: f64, max: u64) -> Result<u64> {
    let max = max.min(MAX_SAFE_INTEGER);
    if value.is_finite() && value.fract() == 0.0 && value >= 0.0 && value <= max as f64 {
        // Exact: a whole number from 0 to 2^53 − 1.
        Ok(value as u64)
    } else {
        Err(Error::out_of_range(
            what,
            value,
            format!("a whole number from 0 to {max}"),
        ))
    }
}

/// [`whole_number`] as a `usize`.
pub fn index(what: &str, value: f64, max: u64) -> Result<usize> {
    let number = whole_number(what, value, max)?;
    usize::try_from(number).map_err(|_| Error::out_of_range(what, number, "a smaller number"))
}

/// An options object as JSON: `undefined`/`null` → `null`; numbers must be finite; arrays (and
/// `Float32Array`s) hold at most 2^24 items.
pub fn options(value: &JsValue) -> Result<Value> {
    to_json(value, "options", 0)
}

fn to_json(value: &JsValue, path: &str, depth: usize) -> Result<Value> {
    let too_long = |length: u32| {
        Error::out_of_range(
            format!("length of {path}"),
            length,
            format!("at most {MAX_OPTION_ARRAY} items"),
        )
    };
    if value.is_undefined() || value.is_null() {
        return Ok(Value::Null);
    }
    if let Some(flag) = value.as_bool() {
        return Ok(Value::Bool(flag));
    }
    if let Some(number) = value.as_f64() {
        return serde_json::Number::from_f64(number)
            .map(Value::Number)
            .ok_or_else(|| Error::option(path, format!("{number} is not a finite number")));
    }
    if let Some(text) = value.as_string() {
        return Ok(Value::String(text));
    }
    if depth >= MAX_DEPTH {
        return Err(Error::option(path, "is nested too deeply"));
    }
    if let Some(array) = value.dyn_ref::<Float32Array>() {
        if array.length() > MAX_OPTION_ARRAY {
            return Err(too_long(array.length()));
        }
        let items = array
            .to_vec()
            .into_iter()
            .map(|v| to_json(&JsValue::from(v), path, depth + 1));
        return items.collect::<Result<Vec<_>>>().map(Value::Array);
    }
    if Array::is_array(value) {
        let array = Array::from(value);
        if array.length() > MAX_OPTION_ARRAY {
            return Err(too_long(array.length()));
        }
        let items = array.iter().map(|item| to_json(&item, path, depth + 1));
        return items.collect::<Result<Vec<_>>>().map(Value::Array);
    }
    if value.is_object() && !value.is_function() {
        let mut object = serde_json::Map::new();
        for entry in Object::entries(&Object::from(value.clone())).iter() {
            let pair = Array::from(&entry);
            let key = pair.get(0).as_string().unwrap_or_default();
            let item = to_json(&pair.get(1), &key, depth + 1)?;
            object.insert(key, item);
        }
        return Ok(Value::Object(object));
    }
    Err(Error::option(
        path,
        format!(
            "cannot be {} (numbers, strings, arrays and plain objects only)",
            kind(value)
        ),
    ))
}
