//! A technique's options, declared once: each [`OptionSpec`] names the option (JS key and CLI flag), its type,
//! default and valid range, and the same declaration validates what a caller gives ([`Values::from_json`] for
//! the JS options object, [`Values::from_flags`] for the CLI), describes the option to the page
//! ([`OptionSpec::describe`]) and supplies the default to the Rust API ([`OptionSpec::int_default`], ...).
//!
//! The accepted values, per [`Kind`]:
//!
//! | type | JSON (JS) | CLI |
//! |---|---|---|
//! | `int` | a number that is a whole number in `[min, max]` | a decimal integer |
//! | `float` | a finite number in `[min, max]`; with `perPixel`, also an array of `C·H·W` numbers | a decimal number |
//! | `choice` | one of the `choices` values (a string) | the same |
//! | `unit` | `"all"`, `"max"` or `"y,x"` | the same |
//! | `layer`, `class` | a layer name / a class number, or `null` for the technique's own default | the same |
//! | `text` | a string the technique reads (an objective such as `class:3`) | the same |
//! | `flag` | `true` or `false` | present (`--negative`) or absent |
//! | `list` | an array of layer names or of numbers in `[min, max]` (`len` of them when declared) | the items separated by commas |
//!
//! A key the technique does not have is an error naming the key and the technique: nothing is ignored.

use crate::error::{Error, Result};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The largest integer a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// One value of a [`Kind::Choice`] option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

/// What an option holds, with its default and valid range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A whole number in `min..=max` (`max: None`: up to [`MAX_SAFE_INTEGER`] or a bound that depends on
    /// the model, checked by the technique). `default: None`: the option has no default (see
    /// [`OptionSpec::required`]) or the technique picks one (the monitor's own γ).
    Int {
        min: u64,
        max: Option<u64>,
        default: Option<u64>,
    },
    /// A finite number in `min..=max`; `per_pixel`: JS may also give a whole image (`C·H·W` numbers).
    /// `default: None`: the technique picks one from its other options (a prior's weight that depends on
    /// the objective).
    Float {
        min: f64,
        max: f64,
        step: f64,
        default: Option<f64>,
        per_pixel: bool,
    },
    /// One of `choices`.
    Choice {
        choices: &'static [Choice],
        default: &'static str,
    },
    /// A deconvnet seed: `"all"`, `"max"` or `"y,x"`.
    Unit { default: &'static str },
    /// A layer name of one of these manifest types (empty: any layer); `null` = the technique's default.
    Layer { types: &'static [&'static str] },
    /// A class number; `null` = the predicted class.
    Class,
    /// Free text the technique parses and checks itself (a feature-visualization objective).
    Text,
    /// On or off (default off); a CLI flag without a value.
    Flag,
    /// Several items (`len`: exactly that many): layer names (texture synthesis's style layers) or numbers
    /// (per-layer weights, a size `H,W`). Not given = the technique's own default.
    List { item: Item, len: Option<usize> },
}

/// What a [`Kind::List`] holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Item {
    /// Layer names (checked by the technique against its network).
    Layer,
    /// Finite numbers in `min..=max`, whole numbers when `whole`.
    Number { min: f64, max: f64, whole: bool },
}

/// One option of a technique.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptionSpec {
    /// The JS key (camelCase).
    pub key: &'static str,
    /// The CLI flag, without `--` (kebab-case).
    pub flag: &'static str,
    pub label: &'static str,
    /// One line for the page's tooltip and the CLI's help.
    pub help: &'static str,
    pub kind: Kind,
    /// Shared by every technique of the family (the page shows it once).
    pub common: bool,
    /// The CLI needs it (no default); JS calls that take it as an argument need it too.
    pub required: bool,
}

/// A checked option value.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    Int(u64),
    Float(f64),
    /// A per-pixel float option given as a whole image, or a list of numbers.
    Floats(Vec<f32>),
    Text(String),
    Flag(bool),
    /// A list of layer names.
    Texts(Vec<String>),
}

impl OptionSpec {
    /// An optional `int` option in `min..=max` with a default.
    pub const fn int(
        key: &'static str,
        flag: &'static str,
        label: &'static str,
        help: &'static str,
        [min, max, default]: [u64; 3],
    ) -> OptionSpec {
        OptionSpec {
            key,
            flag,
            label,
            help,
            kind: Kind::Int {
                min,
                max: Some(max),
                default: Some(default),
            },
            common: false,
            required: false,
        }
    }

    /// The `seed` of a technique that draws random numbers: any integer a JS number holds exactly, so that the
    /// CLI and the page accept the same seeds (the same seed gives the same result on every platform).
    pub const fn seed(help: &'static str, default: u64) -> OptionSpec {
        OptionSpec::int("seed", "seed", "Seed", help, [0, MAX_SAFE_INTEGER, default])
    }

    /// An optional `float` option in `min..=max`, edited in steps of `step`, with a default (`None`: the
    /// technique picks it).
    pub const fn float(
        key: &'static str,
        flag: &'static str,
        label: &'static str,
        help: &'static str,
        [min, max, step]: [f64; 3],
        default: Option<f64>,
    ) -> OptionSpec {
        OptionSpec {
            key,
            flag,
            label,
            help,
            kind: Kind::Float {
                min,
                max,
                step,
                default,
                per_pixel: false,
            },
            common: false,
            required: false,
        }
    }

    /// The option as the page's `catalogue()` shows it (see `docs/js-api.md`).
    pub fn describe(&self) -> Value {
        let mut out = json!({
            "key": self.key, "flag": self.flag, "label": self.label, "help": self.help,
            "common": self.common, "required": self.required,
        });
        let extra = match self.kind {
            Kind::Int { min, max, default } => {
                json!({ "type": "int", "min": min, "max": max, "step": 1, "default": default })
            }
            Kind::Float {
                min,
                max,
                step,
                default,
                per_pixel,
            } => json!({ "type": "float", "min": min, "max": max, "step": step, "default": default,
                         "perPixel": per_pixel }),
            Kind::Choice { choices, default } => json!({
                "type": "choice", "default": default,
                "choices": choices.iter().map(|c| json!({ "value": c.value, "label": c.label }))
                    .collect::<Vec<_>>(),
            }),
            Kind::Unit { default } => json!({ "type": "unit", "default": default }),
            Kind::Layer { types } => {
                json!({ "type": "layer", "layerTypes": types, "default": null })
            }
            Kind::Class => json!({ "type": "class", "default": null }),
            Kind::Text => json!({ "type": "text", "default": null }),
            Kind::Flag => json!({ "type": "flag", "default": false }),
            Kind::List { item, len } => match item {
                Item::Layer => {
                    json!({ "type": "list", "item": "layer", "len": len, "default": null })
                }
                Item::Number { min, max, whole } => json!({
                    "type": "list", "item": "number", "min": min, "max": max, "whole": whole, "len": len,
                    "default": null,
                }),
            },
        };
        if let (Value::Object(out), Value::Object(extra)) = (&mut out, extra) {
            out.extend(extra);
        }
        out
    }

    /// The default of an `int` option (0 for an option without one, which the caller then requires).
    pub const fn int_default(&self) -> u64 {
        match self.kind {
            Kind::Int {
                default: Some(d), ..
            } => d,
            _ => 0,
        }
    }

    /// [`OptionSpec::int_default`] as a `usize` (the declared defaults are small).
    pub fn usize_default(&self) -> usize {
        usize::try_from(self.int_default()).unwrap_or(usize::MAX)
    }

    /// The default of a `float` option (0 for one whose default the technique picks).
    pub const fn float_default(&self) -> f64 {
        match self.kind {
            Kind::Float {
                default: Some(d), ..
            } => d,
            _ => 0.0,
        }
    }

    /// The default of a `choice` or `unit` option.
    pub const fn text_default(&self) -> &'static str {
        match self.kind {
            Kind::Choice { default, .. } | Kind::Unit { default } => default,
            _ => "",
        }
    }

    /// `value` for an `int` option, or the out-of-range error naming `technique`.
    pub fn check_int(&self, technique: &str, value: u64) -> Result<u64> {
        if let Kind::Int { min, max, .. } = self.kind {
            let max = max.unwrap_or(MAX_SAFE_INTEGER);
            if value < min || value > max {
                return Err(Error::out_of_range(
                    format!("{technique} option {}", self.key),
                    value,
                    format!("{min} to {max}"),
                ));
            }
        }
        Ok(value)
    }

    /// `value` for a `float` option: finite and inside the declared range.
    pub fn check_float(&self, technique: &str, value: f64) -> Result<f64> {
        if let Kind::Float { min, max, .. } = self.kind {
            if !(value.is_finite() && value >= min && value <= max) {
                return Err(Error::out_of_range(
                    format!("{technique} option {}", self.key),
                    value,
                    format!("a finite number from {min} to {max}"),
                ));
            }
        }
        Ok(value)
    }

    /// Reads this option from a JSON value (`null` = not given).
    fn read_json(&self, technique: &str, value: &Value) -> Result<Option<OptionValue>> {
        let wrong = |expected: &str| {
            Error::option(
                self.key,
                format!("{technique} expects {expected}, got {}", short_json(value)),
            )
        };
        if value.is_null() {
            return Ok(None);
        }
        let checked = match self.kind {
            Kind::Int { .. } | Kind::Class => {
                let number = value.as_f64().ok_or_else(|| wrong("a whole number"))?;
                if number.fract() != 0.0 || !(0.0..=MAX_SAFE_INTEGER as f64).contains(&number) {
                    return Err(wrong("a whole number ≥ 0"));
                }
                // Exact: a whole number from 0 to 2^53 − 1.
                OptionValue::Int(self.check_int(technique, number as u64)?)
            }
            Kind::Float { per_pixel, .. } => match value {
                Value::Array(items) if per_pixel => OptionValue::Floats(
                    items
                        .iter()
                        .map(|v| {
                            v.as_f64()
                                .filter(|f| f.is_finite())
                                .map(|f| f as f32)
                                .ok_or_else(|| wrong("finite numbers"))
                        })
                        .collect::<Result<_>>()?,
                ),
                _ => {
                    let number = value.as_f64().ok_or_else(|| {
                        wrong(if per_pixel {
                            "a number or an array of numbers"
                        } else {
                            "a number"
                        })
                    })?;
                    OptionValue::Float(self.check_float(technique, number)?)
                }
            },
            Kind::Choice { .. } | Kind::Unit { .. } | Kind::Layer { .. } | Kind::Text => {
                let text = value.as_str().ok_or_else(|| wrong("a string"))?;
                self.text(technique, text)?
            }
            Kind::Flag => OptionValue::Flag(value.as_bool().ok_or_else(|| wrong("true or false"))?),
            Kind::List { item, .. } => {
                let items = value.as_array().ok_or_else(|| wrong("an array"))?;
                let texts = items
                    .iter()
                    .map(|v| match (item, v) {
                        (Item::Layer, Value::String(s)) => Ok(s.clone()),
                        (Item::Number { .. }, Value::Number(n)) => Ok(n.to_string()),
                        (Item::Layer, _) => Err(wrong("an array of layer names")),
                        (Item::Number { .. }, _) => Err(wrong("an array of numbers")),
                    })
                    .collect::<Result<Vec<_>>>()?;
                self.list(technique, texts)?
            }
        };
        Ok(Some(checked))
    }

    /// Reads this option from a CLI flag's text.
    fn read_flag(&self, technique: &str, text: &str) -> Result<OptionValue> {
        let bad = |expected: &str| {
            Error::option(
                self.flag,
                format!("{technique} expects {expected}, got {text:?}"),
            )
        };
        match self.kind {
            Kind::Int { .. } | Kind::Class => {
                let value = text.parse::<u64>().map_err(|_| bad("a whole number ≥ 0"))?;
                Ok(OptionValue::Int(self.check_int(technique, value)?))
            }
            Kind::Float { .. } => {
                let value = text.parse::<f64>().map_err(|_| bad("a number"))?;
                Ok(OptionValue::Float(self.check_float(technique, value)?))
            }
            Kind::Choice { .. } | Kind::Unit { .. } | Kind::Layer { .. } | Kind::Text => {
                self.text(technique, text)
            }
            Kind::Flag => match text {
                "true" => Ok(OptionValue::Flag(true)),
                "false" => Ok(OptionValue::Flag(false)),
                _ => Err(bad("true or false")),
            },
            Kind::List { .. } => self.list(
                technique,
                text.split(',').map(|t| t.trim().to_string()).collect(),
            ),
        }
    }

    /// A `list` option's items, checked: their count, and numbers in range.
    fn list(&self, technique: &str, items: Vec<String>) -> Result<OptionValue> {
        let Kind::List { item, len } = self.kind else {
            return Err(Error::internal(format!(
                "{} is not a list option",
                self.key
            )));
        };
        let count = len.map_or("one or more".to_string(), |n| n.to_string());
        if items.is_empty()
            || items.iter().any(String::is_empty)
            || len.is_some_and(|n| n != items.len())
        {
            return Err(Error::option(
                self.flag,
                format!(
                    "{technique} expects {count} comma-separated items, got {:?}",
                    items.join(",")
                ),
            ));
        }
        match item {
            Item::Layer => Ok(OptionValue::Texts(items)),
            Item::Number { min, max, whole } => items
                .iter()
                .map(|t| match t.parse::<f64>() {
                    Ok(v)
                        if v.is_finite()
                            && v >= min
                            && v <= max
                            && (!whole || v.fract() == 0.0) =>
                    {
                        Ok(v as f32)
                    }
                    _ => Err(Error::out_of_range(
                        format!("{technique} option {}", self.key),
                        t,
                        format!(
                            "{} from {min} to {max}",
                            if whole { "whole numbers" } else { "numbers" }
                        ),
                    )),
                })
                .collect::<Result<Vec<_>>>()
                .map(OptionValue::Floats),
        }
    }

    fn text(&self, technique: &str, text: &str) -> Result<OptionValue> {
        if let Kind::Choice { choices, .. } = self.kind {
            if !choices.iter().any(|c| c.value == text) {
                let known: Vec<&str> = choices.iter().map(|c| c.value).collect();
                return Err(Error::unknown(
                    format!("{technique} {}", self.key),
                    text,
                    &known,
                ));
            }
        }
        Ok(OptionValue::Text(text.to_string()))
    }
}

/// A JSON value for an error message, cut to 40 characters (a message never echoes a whole input).
fn short_json(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// The checked options of one call of a technique: those given, by key; the others take their defaults.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Values {
    given: BTreeMap<&'static str, OptionValue>,
}

impl Values {
    /// Checks a JS options object (`undefined`/`null` → no options) against `options` of `technique`.
    pub fn from_json(technique: &str, options: &[OptionSpec], value: &Value) -> Result<Values> {
        let empty = Map::new();
        let object = match value {
            Value::Null => &empty,
            Value::Object(object) => object,
            other => {
                return Err(Error::option(
                    "options",
                    format!(
                        "{technique} takes an options object, got {}",
                        short_json(other)
                    ),
                ))
            }
        };
        let mut given = BTreeMap::new();
        for (key, value) in object {
            let spec = find(technique, options, key, |s| s.key)?;
            if let Some(v) = spec.read_json(technique, value)? {
                given.insert(spec.key, v);
            }
        }
        Ok(Values { given })
    }

    /// Checks CLI flags (`(flag, text)` pairs, flags without `--`) against `options` of `technique`.
    pub fn from_flags<'a>(
        technique: &str,
        options: &[OptionSpec],
        flags: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Values> {
        let mut given = BTreeMap::new();
        for (flag, text) in flags {
            let spec = find(technique, options, flag, |s| s.flag)?;
            given.insert(spec.key, spec.read_flag(technique, text)?);
        }
        Ok(Values { given })
    }

    /// Whether `spec` was given.
    pub fn has(&self, spec: &OptionSpec) -> bool {
        self.given.contains_key(spec.key)
    }

    /// An `int` or `class` option, if given.
    pub fn int(&self, spec: &OptionSpec) -> Option<u64> {
        match self.given.get(spec.key) {
            Some(OptionValue::Int(v)) => Some(*v),
            _ => None,
        }
    }

    /// An `int` option as a `usize`, or its default.
    pub fn usize_or_default(&self, spec: &OptionSpec) -> usize {
        self.int(spec)
            .and_then(|v| usize::try_from(v).ok())
            .unwrap_or_else(|| spec.usize_default())
    }

    /// A `float` option given as one number, or its default.
    pub fn float_or_default(&self, spec: &OptionSpec) -> f64 {
        self.float(spec).unwrap_or_else(|| spec.float_default())
    }

    /// A `float` option given as one number, if given.
    pub fn float(&self, spec: &OptionSpec) -> Option<f64> {
        match self.given.get(spec.key) {
            Some(OptionValue::Float(v)) => Some(*v),
            _ => None,
        }
    }

    /// A `flag` option: whether it was given and on.
    pub fn flag(&self, spec: &OptionSpec) -> bool {
        matches!(self.given.get(spec.key), Some(OptionValue::Flag(true)))
    }

    /// A per-pixel `float` option given as a whole image, or a `list` option of numbers.
    pub fn floats(&self, spec: &OptionSpec) -> Option<&[f32]> {
        match self.given.get(spec.key) {
            Some(OptionValue::Floats(v)) => Some(v),
            _ => None,
        }
    }

    /// A `list` option of layer names, if given.
    pub fn texts(&self, spec: &OptionSpec) -> Option<&[String]> {
        match self.given.get(spec.key) {
            Some(OptionValue::Texts(v)) => Some(v),
            _ => None,
        }
    }

    /// A `choice`, `unit` or `layer` option, if given.
    pub fn text(&self, spec: &OptionSpec) -> Option<&str> {
        match self.given.get(spec.key) {
            Some(OptionValue::Text(v)) => Some(v),
            _ => None,
        }
    }

    /// A `choice` or `unit` option, or its default.
    pub fn text_or_default(&self, spec: &OptionSpec) -> &str {
        self.text(spec).unwrap_or(spec.text_default())
    }
}

/// The option of `technique` whose `name_of` is `name`; an error listing the technique's options otherwise.
fn find<'s>(
    technique: &str,
    options: &'s [OptionSpec],
    name: &str,
    name_of: fn(&OptionSpec) -> &'static str,
) -> Result<&'s OptionSpec> {
    options.iter().find(|s| name_of(s) == name).ok_or_else(|| {
        let known: Vec<&str> = options.iter().map(name_of).collect();
        Error::option(
            name,
            if known.is_empty() {
                format!("{technique} takes no options")
            } else {
                format!(
                    "{technique} has no such option (its options: {})",
                    known.join(", ")
                )
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: OptionSpec = OptionSpec {
        key: "steps",
        flag: "steps",
        label: "Steps",
        help: "",
        kind: Kind::Int {
            min: 2,
            max: Some(1000),
            default: Some(50),
        },
        common: false,
        required: false,
    };
    const SIGMA: OptionSpec = OptionSpec {
        key: "sigma",
        flag: "sigma",
        label: "σ",
        help: "",
        kind: Kind::Float {
            min: 0.0,
            max: 10.0,
            step: 0.01,
            default: Some(0.15),
            per_pixel: true,
        },
        common: false,
        required: false,
    };
    const OPTIONS: [OptionSpec; 2] = [STEPS, SIGMA];

    fn json(text: &str) -> Result<Values> {
        Values::from_json("demo", &OPTIONS, &serde_json::from_str(text).unwrap())
    }

    #[test]
    fn json_values_are_checked_and_defaults_fill_in() {
        let v = json(r#"{"steps": 7, "sigma": 0.5}"#).unwrap();
        assert_eq!(v.usize_or_default(&STEPS), 7);
        assert_eq!(v.float_or_default(&SIGMA), 0.5);
        let v = json("{}").unwrap();
        assert_eq!(v.usize_or_default(&STEPS), 50);
        assert_eq!(v.float_or_default(&SIGMA), 0.15);
        assert_eq!(json("null").unwrap(), Values::default());
        let v = json(r#"{"sigma": [0.5, 1]}"#).unwrap();
        assert_eq!(v.floats(&SIGMA), Some(&[0.5f32, 1.0][..]));
        for (bad, needle) in [
            (
                r#"{"stpes": 3}"#,
                "option stpes: demo has no such option (its options: steps, sigma)",
            ),
            (r#"{"steps": 1.5}"#, "whole number"),
            (
                r#"{"steps": 4294967296}"#,
                "4294967296 is out of range (allowed: 2 to 1000)",
            ),
            (r#"{"steps": -3}"#, "whole number ≥ 0, got -3"),
            (r#"{"steps": "7"}"#, "whole number"),
            (r#"{"sigma": 11}"#, "from 0 to 10"),
            (r#"{"sigma": [1, "x"]}"#, "finite numbers"),
            ("[1]", "options object"),
        ] {
            let e = json(bad).unwrap_err().to_string();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }

    #[test]
    fn cli_flags_are_checked_like_json() {
        let v = Values::from_flags("demo", &OPTIONS, [("steps", "9")]).unwrap();
        assert_eq!(v.usize_or_default(&STEPS), 9);
        let e = Values::from_flags("demo", &OPTIONS, [("steps", "1")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("allowed: 2 to 1000"), "{e}");
        let e = Values::from_flags("demo", &OPTIONS, [("sigma", "NaN")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("finite"), "{e}");
        let e = Values::from_flags("demo", &[], [("sigma", "1")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("demo takes no options"), "{e}");
    }

    #[test]
    fn descriptions_carry_type_range_and_default() {
        let d = STEPS.describe();
        assert_eq!(d["type"], "int");
        assert_eq!(
            (d["min"].as_u64(), d["max"].as_u64()),
            (Some(2), Some(1000))
        );
        assert_eq!(d["default"], 50);
        let d = SIGMA.describe();
        assert_eq!(
            (d["type"].as_str(), d["perPixel"].as_bool()),
            (Some("float"), Some(true))
        );
    }
}
