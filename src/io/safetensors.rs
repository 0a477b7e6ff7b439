//! The safetensors format (huggingface/safetensors): an 8-byte little-endian header length `n`, `n` bytes of
//! JSON `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`, then
//! the little-endian tensor bytes, offsets relative to the end of the header.
//!
//! convscope reads and writes `F32` tensors. Every field of a file is checked before it is trusted: header
//! length within the file and below 100 MB, valid JSON, known dtype, shape products that neither overflow nor
//! disagree with the byte ranges, ranges inside the buffer, tiling it without holes or overlaps (as the
//! reference implementation requires). A hostile file gets an error, never a panic or a huge allocation.

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

const MAX_HEADER: u64 = 100 * 1024 * 1024;

/// A parsed file: tensors in file order and the free-form string metadata.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SafeTensors {
    pub tensors: Vec<(String, Tensor)>,
    pub metadata: BTreeMap<String, String>,
}

impl SafeTensors {
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.tensors.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}

struct Entry {
    name: String,
    shape: Vec<usize>,
    begin: usize,
    end: usize,
}

fn field<'a>(obj: &'a Map<String, Value>, name: &str, key: &str) -> Result<&'a Value> {
    obj.get(key)
        .ok_or_else(|| Error::weights(format!("tensor {name:?} has no {key:?} field")))
}

fn as_usize(v: &Value, what: &str) -> Result<usize> {
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| Error::weights(format!("{what} must be a non-negative integer, got {v}")))
}

fn parse_entry(name: &str, v: &Value) -> Result<Entry> {
    let obj = v
        .as_object()
        .ok_or_else(|| Error::weights(format!("tensor {name:?} is not a JSON object")))?;
    let dtype = field(obj, name, "dtype")?;
    if dtype.as_str() != Some("F32") {
        return Err(Error::weights(format!(
            "tensor {name:?} has dtype {dtype}; convscope reads F32 (convert with model.float() before saving)"
        )));
    }
    let shape = field(obj, name, "shape")?
        .as_array()
        .ok_or_else(|| Error::weights(format!("shape of {name:?} is not an array")))?
        .iter()
        .map(|d| as_usize(d, &format!("a dimension of {name:?}")))
        .collect::<Result<Vec<_>>>()?;
    let offsets = field(obj, name, "data_offsets")?
        .as_array()
        .filter(|a| a.len() == 2)
        .ok_or_else(|| Error::weights(format!("data_offsets of {name:?} must be [begin, end]")))?;
    let begin = as_usize(&offsets[0], "a data offset")?;
    let end = as_usize(&offsets[1], "a data offset")?;
    let bytes = shape
        .iter()
        .try_fold(4usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::weights(format!("shape {shape:?} of {name:?} is absurdly large")))?;
    if end < begin || end - begin != bytes {
        return Err(Error::weights(format!(
            "tensor {name:?} of shape {shape:?} needs {bytes} bytes but its data_offsets [{begin}, {end}] span {}",
            end.saturating_sub(begin)
        )));
    }
    Ok(Entry {
        name: name.to_string(),
        shape,
        begin,
        end,
    })
}

/// Parses a safetensors file.
pub fn parse(bytes: &[u8]) -> Result<SafeTensors> {
    let len_bytes: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            Error::weights(format!(
                "file is {} bytes, too short for a header",
                bytes.len()
            ))
        })?;
    let header_len = u64::from_le_bytes(len_bytes);
    let available = bytes.len() as u64 - 8;
    // The length is not echoed: when the file is not safetensors at all, it is 8 bytes of someone's data.
    if header_len > available || header_len > MAX_HEADER {
        return Err(Error::weights(format!(
            "the header length field runs past the end of the file ({available} bytes follow the 8-byte \
             field; not a safetensors file, or a truncated download?)"
        )));
    }
    let header_end = 8 + header_len as usize;
    let header: Value = serde_json::from_slice(&bytes[8..header_end])
        .map_err(|e| Error::weights(format!("header is not valid JSON: {e}")))?;
    let header = header
        .as_object()
        .ok_or_else(|| Error::weights("header is not a JSON object"))?;
    let data = &bytes[header_end..];

    let mut metadata = BTreeMap::new();
    let mut entries = Vec::new();
    for (name, v) in header {
        if name == "__metadata__" {
            let obj = v
                .as_object()
                .ok_or_else(|| Error::weights("__metadata__ is not an object"))?;
            for (k, val) in obj {
                let s = val.as_str().ok_or_else(|| {
                    Error::weights(format!("metadata value of {k:?} is not a string"))
                })?;
                metadata.insert(k.clone(), s.to_string());
            }
        } else {
            entries.push(parse_entry(name, v)?);
        }
    }
    entries.sort_by_key(|e| (e.begin, e.end));
    let mut cursor = 0;
    for e in &entries {
        if e.begin != cursor {
            return Err(Error::weights(format!(
                "tensor {:?} starts at byte {} but the previous data ends at {cursor} (overlap or hole)",
                e.name, e.begin
            )));
        }
        cursor = e.end;
    }
    if cursor != data.len() {
        return Err(Error::weights(format!(
            "tensor data covers {cursor} bytes but the file carries {} after the header (truncated or padded file)",
            data.len()
        )));
    }
    let tensors = entries
        .into_iter()
        .map(|e| {
            let values = data[e.begin..e.end]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            Ok((e.name, Tensor::from_vec(&e.shape, values)?))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(SafeTensors { tensors, metadata })
}

/// Serializes tensors (in the given order) as F32 safetensors; the header is padded with spaces to a multiple
/// of 8 bytes as the reference writer does.
pub fn serialize(
    tensors: &[(String, Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    let mut header = Map::new();
    if !metadata.is_empty() {
        header.insert(
            "__metadata__".into(),
            Value::Object(
                metadata
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        );
    }
    let mut offset = 0usize;
    for (name, t) in tensors {
        if name == "__metadata__" || header.contains_key(name) {
            return Err(Error::weights(format!(
                "duplicate or reserved tensor name {name:?}"
            )));
        }
        let end = offset + 4 * t.len();
        header.insert(
            name.clone(),
            serde_json::json!({"dtype": "F32", "shape": t.shape(), "data_offsets": [offset, end]}),
        );
        offset = end;
    }
    let mut json = serde_json::to_string(&Value::Object(header))
        .map_err(|e| Error::internal(e.to_string()))?;
    while json.len() % 8 != 0 {
        json.push(' ');
    }
    let mut out = Vec::with_capacity(8 + json.len() + offset);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(json.as_bytes());
    for (_, t) in tensors {
        for v in t.data() {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<(String, Tensor)> {
        vec![
            (
                "b".to_string(),
                Tensor::from_vec(&[3], vec![1.0, -2.5, 3.25]).unwrap(),
            ),
            (
                "a.weight".to_string(),
                Tensor::from_vec(&[2, 2], vec![0.5, 0.25, -0.125, 8.0]).unwrap(),
            ),
            ("empty".to_string(), Tensor::zeros(&[0, 4])),
        ]
    }

    #[test]
    fn round_trip_keeps_names_shapes_values_metadata() {
        let meta = BTreeMap::from([("format".to_string(), "pt".to_string())]);
        let bytes = serialize(&sample(), &meta).unwrap();
        assert_eq!(u64::from_le_bytes(bytes[..8].try_into().unwrap()) % 8, 0);
        let back = parse(&bytes).unwrap();
        assert_eq!(back.metadata, meta);
        for (name, t) in sample() {
            assert_eq!(back.get(&name), Some(&t), "{name}");
        }
    }

    fn with_header(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn hostile_files_are_rejected_with_reasons() {
        let good = serialize(&sample(), &BTreeMap::new()).unwrap();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![1, 2, 3], "too short"),
            (good[..good.len() - 3].to_vec(), "truncated"),
            (
                {
                    let mut b = good.clone();
                    b[..8].copy_from_slice(&u64::MAX.to_le_bytes());
                    b
                },
                "past the end",
            ),
        ];
        // Headers that are wrong, each followed by this many zero bytes of data.
        let headers: [(&str, usize, &str); 10] = [
            ("[1,2]", 0, "not a JSON object"),
            ("{\"x\":", 0, "not valid JSON"),
            (
                r#"{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#,
                8,
                "dtype",
            ),
            (
                r#"{"x":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}"#,
                4,
                "absurdly large",
            ),
            (
                r#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#,
                4,
                "needs 8 bytes",
            ),
            (
                r#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                8,
                "hole",
            ),
            (
                r#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"y":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
                4,
                "overlap",
            ),
            (
                r#"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#,
                4,
                "non-negative",
            ),
            (
                r#"{"x":{"dtype":"F32","data_offsets":[0,4]}}"#,
                4,
                "no \"shape\"",
            ),
            (r#"{"__metadata__":{"k":1}}"#, 0, "not a string"),
        ];
        let cases = cases.into_iter().chain(
            headers
                .iter()
                .map(|&(header, data, want)| (with_header(header, &vec![0; data]), want)),
        );
        for (bytes, want) in cases {
            let err = parse(&bytes).expect_err(want).to_string();
            assert!(err.contains(want), "expected {want:?} in {err:?}");
        }
    }
}
