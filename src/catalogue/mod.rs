//! The catalogue of techniques: every technique convscope runs, declared once, in Rust, in its own file (an
//! attribution method beside its code in `explain/attribution/`, the deconvnet in `explain/deconvnet.rs`,
//! ...). A [`Technique`] gives the id, label, family, the CLI command that runs it, what it returns, whether it
//! is long-running or stateful, a plain-language summary and explanation with the paper, and its options
//! ([`options::OptionSpec`]: type, default, range). Everything else is read from here:
//!
//! - the CLI's flags, their checking and each command's `--help` (`src/bin/convscope/`);
//! - `catalogue()` of the JS API ([`describe`]) and its TypeScript types ([`typescript`], committed in
//!   `src/bindings/catalogue.d.ts` and compared with this by a test);
//! - the option checking of every JS call (`Model.attribute` and the others);
//! - the lists in `docs/cli.md` and `docs/js-api.md` (a test compares them).
//!
//! `docs/contributing.md` walks through adding a technique.

pub mod inputs;
pub mod options;

use crate::error::{Error, Result};
use crate::render::colormap::Colormap;
use options::OptionSpec;
use serde_json::{json, Value};

/// Which group of views a technique belongs to (the page's panel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Prediction,
    Activations,
    Filters,
    Deconvnet,
    Attribution,
    Monitor,
    /// Views of many inputs at once: patches, neighbours, maps.
    Dataset,
    /// Images optimized so that the network does something (activation maximization, DeepDream,
    /// inversion).
    FeatureVisualization,
    Texture,
    /// Maps of the neurons themselves, laid out by how they fire together.
    ResponseMap,
    /// A layer as a volume: ordered output stacks, weight gradients.
    Volumes,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Prediction => "prediction",
            Family::Activations => "activations",
            Family::Filters => "filters",
            Family::Deconvnet => "deconvnet",
            Family::Attribution => "attribution",
            Family::Monitor => "monitor",
            Family::Dataset => "dataset",
            Family::FeatureVisualization => "featureviz",
            Family::Texture => "texture",
            Family::ResponseMap => "response-map",
            Family::Volumes => "volumes",
        }
    }
}

/// What a technique returns, which tells the page how to draw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// A map whose sign means something (diverging colormap centred on 0).
    SignedMap,
    /// A map that is never negative (sequential colormap).
    UnsignedMap,
    /// A stack of maps: every channel of a layer, or every reconstruction of an image.
    Volume,
    /// A weight tensor (conv kernels or a linear layer's matrix).
    Matrix,
    /// Numbers to list: class scores, a verdict.
    Table,
    /// Ranked images of a data set (each with its index, score and, for patches, a box).
    Gallery,
    /// A 2-D point per image of a data set.
    Scatter,
    /// Titled images in the input's raw pixel range `[0, 1]` (optimized images, an atlas's cells).
    Images,
}

impl OutputKind {
    pub fn name(self) -> &'static str {
        match self {
            OutputKind::SignedMap => "signed-map",
            OutputKind::UnsignedMap => "unsigned-map",
            OutputKind::Volume => "volume",
            OutputKind::Matrix => "matrix",
            OutputKind::Table => "table",
            OutputKind::Gallery => "gallery",
            OutputKind::Scatter => "scatter",
            OutputKind::Images => "images",
        }
    }
}

/// The paper a technique comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paper {
    pub title: &'static str,
    pub authors: &'static str,
    pub year: u16,
    pub url: &'static str,
}

/// One technique (see the module header).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Technique {
    /// Kebab-case, stable: the JS id and the CLI's `--method` value (or command).
    pub id: &'static str,
    pub label: &'static str,
    pub family: Family,
    /// The CLI command that runs it (`attribute`, `monitor check`, ...).
    pub command: &'static str,
    pub output: OutputKind,
    /// Runs many forward/backward passes: the page runs it in a worker, step by step, with progress.
    pub long_running: bool,
    /// State the technique needs beyond the model, built once (e.g. the monitor file), if any.
    pub stateful: Option<&'static str>,
    /// How to read the result, one line.
    pub summary: &'static str,
    /// What it computes, in words, a paragraph.
    pub explanation: &'static str,
    pub paper: Option<Paper>,
    pub options: &'static [OptionSpec],
}

impl Technique {
    /// This technique as a value of a `choice` option (SmoothGrad's averaged method).
    pub const fn choice(&self) -> options::Choice {
        options::Choice {
            value: self.id,
            label: self.label,
        }
    }

    /// The technique as `catalogue()` shows it (camelCase keys; `docs/js-api.md`).
    pub fn describe(&self) -> Value {
        json!({
            "id": self.id,
            "label": self.label,
            "family": self.family.name(),
            "command": self.command,
            "output": self.output.name(),
            "longRunning": self.long_running,
            "stateful": self.stateful,
            "summary": self.summary,
            "explanation": self.explanation,
            "paper": self.paper.map(|p| json!({
                "title": p.title, "authors": p.authors, "year": p.year, "url": p.url,
            })),
            "options": self.options.iter().map(OptionSpec::describe).collect::<Vec<_>>(),
            "familyDefault": self.is_family_default(),
        })
    }

    /// Whether this is its family's declared default ([`family_default`]).
    pub fn is_family_default(&self) -> bool {
        family_default(self.family).is_some_and(|t| t.id == self.id)
    }

    /// The option with JS key `key`.
    pub fn option(&self, key: &str) -> Option<&'static OptionSpec> {
        self.options.iter().find(|o| o.key == key)
    }

    /// Checks a JS options object against this technique's options.
    pub fn values_from_json(&self, options: &Value) -> Result<options::Values> {
        options::Values::from_json(self.id, self.options, options)
    }
}

/// Every technique, in the order the CLI's help and the page list them.
pub fn techniques() -> Vec<&'static Technique> {
    use crate::explain::dataset::{embedding, neighbours, patches};
    use crate::explain::featureviz::{atlas, dream, inversion, visualize};
    use crate::explain::{attribution, deconvnet, inspect, monitor, nrm, texture, volume};
    let mut all = vec![
        &inspect::PREDICTION,
        &inspect::ACTIVATIONS,
        &inspect::FILTERS,
        &deconvnet::TECHNIQUE,
        &deconvnet::TECHNIQUE_ALL,
    ];
    all.extend(
        attribution::Method::ALL
            .iter()
            .map(|m| m.technique() as &'static Technique),
    );
    all.push(&monitor::TECHNIQUE);
    all.extend([&patches::TECHNIQUE, &neighbours::TECHNIQUE]);
    all.extend(embedding::Method::ALL.iter().map(|m| m.technique()));
    all.extend([
        &visualize::TECHNIQUE,
        &atlas::TECHNIQUE,
        &dream::TECHNIQUE,
        &inversion::TECHNIQUE,
    ]);
    all.extend([&texture::GRAM, &texture::TEXTURE, &texture::STYLE]);
    all.extend([&nrm::TRAIN, &nrm::GENERATE]);
    all.extend([
        &volume::order::TECHNIQUE,
        &volume::weight_gradient::TECHNIQUE,
        &volume::weight_gradient::COMPARISON,
    ]);
    all
}

/// The technique a family's panel opens with and its CLI command runs when none is named, declared here
/// rather than taken from the catalogue's order. `None`: the family has nothing to choose (each of its
/// techniques has its own command or panel).
pub fn family_default(family: Family) -> Option<&'static Technique> {
    match family {
        Family::Attribution => Some(crate::explain::attribution::Method::DEFAULT.technique()),
        _ => None,
    }
}

/// The technique called `id`.
pub fn find(id: &str) -> Result<&'static Technique> {
    let all = techniques();
    all.iter().find(|t| t.id == id).copied().ok_or_else(|| {
        let ids: Vec<&str> = all.iter().map(|t| t.id).collect();
        Error::unknown("technique", id, &ids)
    })
}

/// The whole catalogue as JSON (what the JS `catalogue()` returns).
pub fn describe() -> Value {
    Value::Array(techniques().iter().map(|t| t.describe()).collect())
}

/// The TypeScript the catalogue implies: the technique ids, and one options interface per technique with
/// options. `src/bindings/catalogue.d.ts` holds this text (the bindings include it in `convscope.d.ts`); a
/// test fails when the two differ.
pub fn typescript() -> String {
    let all = techniques();
    let union = |ids: Vec<&str>| {
        ids.iter()
            .map(|id| format!("\n  | \"{id}\""))
            .collect::<String>()
    };
    let mut out = String::from(
        "// Generated from the Rust catalogue (src/catalogue); a test keeps it in step.\n",
    );
    out += &format!(
        "export type AttributionMethod ={};\n",
        union(
            all.iter()
                .filter(|t| t.family == Family::Attribution)
                .map(|t| t.id)
                .collect()
        )
    );
    out += &format!(
        "export type TechniqueId = AttributionMethod{};\n",
        union(
            all.iter()
                .filter(|t| t.family != Family::Attribution)
                .map(|t| t.id)
                .collect()
        )
    );
    let mut families_done = Vec::new();
    for t in all.iter().filter(|t| !t.options.is_empty()) {
        let common: Vec<&OptionSpec> = t.options.iter().filter(|o| o.common).collect();
        let own: Vec<&OptionSpec> = t.options.iter().filter(|o| !o.common).collect();
        let family = format!("{}CommonOptions", pascal_case(t.family.name()));
        if !common.is_empty() && !families_done.contains(&t.family) {
            families_done.push(t.family);
            out += &ts_interface(&family, "", &common);
        }
        let name = format!("{}Options", pascal_case(t.id));
        match (common.is_empty(), own.is_empty()) {
            (false, true) => out += &format!("export type {name} = {family};\n"),
            (false, false) => out += &ts_interface(&name, &format!(" extends {family}"), &own),
            (true, _) => out += &ts_interface(&name, "", &own),
        }
    }
    out += "/** The options object each technique takes (`{}` for those without options). */\n";
    out += "export interface TechniqueOptions {\n";
    for t in &all {
        let options = if t.options.is_empty() {
            "Record<string, never>".to_string()
        } else {
            format!("{}Options", pascal_case(t.id))
        };
        out += &format!("  \"{}\": {options};\n", t.id);
    }
    out += "}\nexport type AttributionOptions = TechniqueOptions[AttributionMethod];\n";
    if let Some(t) = family_default(Family::Attribution) {
        out += &format!(
            "/** The method the page opens with and `convscope attribute` runs without --method. */\n\
             export type DefaultAttributionMethod = \"{}\";\n",
            t.id
        );
    }
    let colormaps = |signed: bool| {
        union(
            Colormap::ALL
                .iter()
                .filter(|c| c.signed() == signed)
                .map(|c| c.name())
                .collect(),
        )
    };
    out += &format!(
        "/** The colormaps of `colormaps()`: diverging ones (centred on zero, `signed: true`) and the others. */\n\
         export type SignedColormapName ={};\nexport type UnsignedColormapName ={};\n\
         export type ColormapName = SignedColormapName | UnsignedColormapName;\n",
        colormaps(true),
        colormaps(false)
    );
    out
}

/// `export interface {name}{extends} { ... }` with one optional, documented member per option.
fn ts_interface(name: &str, extends: &str, options: &[&OptionSpec]) -> String {
    let members: String = options
        .iter()
        .map(|o| format!("  /** {} */\n  {}?: {};\n", o.help, o.key, ts_type(o)))
        .collect();
    format!("export interface {name}{extends} {{\n{members}}}\n")
}

fn ts_type(option: &OptionSpec) -> String {
    use options::Kind;
    match option.kind {
        Kind::Int { .. } => "number".into(),
        Kind::Class => "number | null".into(),
        Kind::Float { per_pixel, .. } if per_pixel => "number | number[]".into(),
        Kind::Float { .. } => "number".into(),
        Kind::Choice { choices, .. } => choices
            .iter()
            .map(|c| format!("\"{}\"", c.value))
            .collect::<Vec<_>>()
            .join(" | "),
        Kind::Unit { .. } => "\"all\" | \"max\" | `${number},${number}`".into(),
        Kind::Layer { .. } => "string | null".into(),
        Kind::Text => "string".into(),
        Kind::Flag => "boolean".into(),
        Kind::List {
            item: options::Item::Layer,
            ..
        } => "string[]".into(),
        Kind::List { .. } => "number[]".into(),
    }
}

/// `integrated-gradients` → `IntegratedGradients`.
fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_found() {
        let all = techniques();
        let mut ids: Vec<&str> = all.iter().map(|t| t.id).collect();
        for id in &ids {
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
            assert_eq!(find(id).unwrap().id, *id);
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        let e = find("heatmap").unwrap_err().to_string();
        assert!(
            e.contains("unknown technique \"heatmap\"") && e.contains("occlusion"),
            "{e}"
        );
    }

    #[test]
    fn options_have_unique_keys_and_flags_and_defaults_in_range() {
        for t in techniques() {
            for (i, o) in t.options.iter().enumerate() {
                assert!(
                    t.options[..i]
                        .iter()
                        .all(|p| p.key != o.key && p.flag != o.flag),
                    "{} {}",
                    t.id,
                    o.key
                );
                match o.kind {
                    options::Kind::Int {
                        default: Some(d), ..
                    } => {
                        o.check_int(t.id, d).unwrap();
                    }
                    options::Kind::Float {
                        default: Some(d), ..
                    } => {
                        o.check_float(t.id, d).unwrap();
                    }
                    options::Kind::Choice { choices, default } => {
                        assert!(choices.iter().any(|c| c.value == default), "{}", o.key)
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn the_committed_typescript_is_what_the_catalogue_implies() {
        if std::env::var_os("CONVSCOPE_WRITE_TYPES").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/bindings/catalogue.d.ts");
            std::fs::write(path, typescript()).unwrap();
            return;
        }
        let committed = include_str!("../bindings/catalogue.d.ts");
        assert_eq!(
            committed,
            typescript(),
            "src/bindings/catalogue.d.ts is stale: rewrite it with \
             CONVSCOPE_WRITE_TYPES=1 cargo test --lib catalogue"
        );
    }

    #[test]
    fn the_default_method_is_declared_not_the_first_listed() {
        let defaults: Vec<&str> = techniques()
            .into_iter()
            .filter(|t| t.is_family_default())
            .map(|t| t.id)
            .collect();
        assert_eq!(defaults, ["integrated-gradients"]);
        let described = describe();
        let flagged: Vec<&Value> = described
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["familyDefault"] == json!(true))
            .map(|t| &t["id"])
            .collect();
        assert_eq!(flagged, [&json!("integrated-gradients")]);
        // Not the catalogue's first attribution method, nor (by accident) its first long-running one only.
        assert_ne!(
            crate::explain::attribution::Method::ALL[0],
            crate::explain::attribution::Method::DEFAULT
        );
    }

    #[test]
    fn pascal_case_joins_words() {
        assert_eq!(pascal_case("integrated-gradients"), "IntegratedGradients");
        assert_eq!(pascal_case("occlusion"), "Occlusion");
    }
}
