//! The monitor file: a versioned little-endian binary format, checked field by field when read.
//!
//! ```text
//! magic        8 bytes  "CSMONITR"
//! version      u32      1
//! layer        u32 length (1..=256) + UTF-8 bytes: the monitored layer's manifest name
//! neurons      u32      n, 1..=MAX_NEURONS; W = ⌈n / 64⌉ words per pattern
//! classes      u32      K, 1..=MAX_CLASSES
//! gamma        u32      default γ, ≤ n
//! images       u32      training images run through the network
//! clusters     u32      k-means clusters requested per class, 1..=MAX_CLUSTERS
//! calibration  u32 held-out images (0: γ was fixed), u32 of them warned (≤ held out), f64 target warning
//!                        rate in [0, 1] (all three 0 when γ was fixed)
//! model        u64      fingerprint of the network's weights (checked when the monitor is bound to a model)
//! per class    K × (u32 correct, u32 patterns, u32 boxes)
//!                        correctly classified images; distinct patterns (≤ correct, 0 iff correct = 0);
//!                        boxes (≤ clusters, ≤ correct, 0 iff correct = 0); Σ correct ≥ 1 and ≤ images
//! patterns     Σ patterns × W u64, class by class, each class's rows strictly ascending (sorted, distinct);
//!                        bits ≥ n of the last word are zero
//! box scale    n f32    positive
//! boxes        per class: boxes × n f32 lower bounds, then boxes × n f32 upper bounds (lower ≤ upper)
//! means        K × n f32 class means (zero for a class without images)
//! precision    n × n f32 symmetric, positive diagonal
//! ```
//!
//! Every count is checked against the bytes that remain before anything is allocated, so a corrupt or
//! hostile count is an error, never an out-of-memory; trailing bytes are an error too.

use super::boxes::{Boxes, ClassBoxes};
use super::mahalanobis::Mahalanobis;
use super::pattern::{words_for, PatternSet, WORD_BITS};
use super::{BuildStats, Calibration, Monitor};
use crate::error::{Error, Result};

pub const MAGIC: [u8; 8] = *b"CSMONITR";
pub const VERSION: u32 = 1;
pub const MAX_LAYER_NAME: usize = 256;
/// The largest monitored layer (LeNet-5's pool1 has 6·14·14 = 1176 values); the precision matrix is
/// `n²` floats.
pub const MAX_NEURONS: usize = 2048;
pub const MAX_CLASSES: usize = 1024;
pub const MAX_CLUSTERS: usize = 64;

/// Serialises a monitor.
pub fn encode(m: &Monitor) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    let put = |out: &mut Vec<u8>, v: usize| out.extend_from_slice(&(v as u32).to_le_bytes());
    put(&mut out, VERSION as usize);
    put(&mut out, m.layer.len());
    out.extend_from_slice(m.layer.as_bytes());
    put(&mut out, m.neurons);
    put(&mut out, m.patterns.len());
    put(&mut out, m.gamma as usize);
    put(&mut out, m.stats.images);
    put(&mut out, m.stats.clusters);
    let calibration = m
        .stats
        .calibration
        .map_or((0, 0, 0.0), |c| (c.held_out, c.warned, c.target));
    put(&mut out, calibration.0);
    put(&mut out, calibration.1);
    out.extend_from_slice(&calibration.2.to_le_bytes());
    out.extend_from_slice(&m.model.to_le_bytes());
    for ((correct, set), boxes) in m
        .stats
        .correct
        .iter()
        .zip(&m.patterns)
        .zip(m.boxes.classes())
    {
        put(&mut out, *correct);
        put(&mut out, set.len());
        put(&mut out, boxes.count(m.neurons));
    }
    for set in &m.patterns {
        for w in set.as_words() {
            out.extend_from_slice(&w.to_le_bytes());
        }
    }
    let floats = |out: &mut Vec<u8>, values: &[f32]| {
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
    };
    floats(&mut out, m.boxes.scale());
    for b in m.boxes.classes() {
        floats(&mut out, &b.lo);
        floats(&mut out, &b.hi);
    }
    floats(&mut out, m.mahalanobis.means());
    floats(&mut out, m.mahalanobis.precision());
    out
}

/// Reads the file a byte at a time, with errors that say what was being read.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(len).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(Error::monitor(format!(
                "truncated: {what} needs {len} bytes at offset {}, the file has {} bytes",
                self.pos,
                self.bytes.len()
            )));
        };
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn u32(&mut self, what: &str) -> Result<usize> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    /// `count` values of `size` bytes: the byte length is checked for overflow and against the file first.
    fn array(&mut self, count: usize, size: usize, what: &str) -> Result<&'a [u8]> {
        let len = count.checked_mul(size).ok_or_else(|| {
            Error::monitor(format!("{what}: {count} values overflow the address space"))
        })?;
        self.take(len, what)
    }

    fn u64s(&mut self, count: usize, what: &str) -> Result<Vec<u64>> {
        Ok(self
            .array(count, 8, what)?
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect())
    }

    fn u64(&mut self, what: &str) -> Result<u64> {
        let b = self.take(8, what)?;
        Ok(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    fn f64(&mut self, what: &str) -> Result<f64> {
        let b = self.take(8, what)?;
        Ok(f64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    fn f32s(&mut self, count: usize, what: &str) -> Result<Vec<f32>> {
        Ok(self
            .array(count, 4, what)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }
}

fn in_range(value: usize, lo: usize, hi: usize, what: &str) -> Result<usize> {
    if value < lo || value > hi {
        return Err(Error::monitor(format!(
            "{what} is {value}, expected {lo}..={hi}"
        )));
    }
    Ok(value)
}

/// The fields before the per-class counts.
struct Header {
    layer: String,
    neurons: usize,
    classes: usize,
    gamma: usize,
    images: usize,
    clusters: usize,
    calibration: Option<Calibration>,
    model: u64,
}

/// `(correct images, distinct patterns, boxes)` of one class.
type ClassCounts = (usize, usize, usize);

/// Parses and checks a monitor file (the network fit is checked by [`Monitor::layer_index`]).
pub fn decode(bytes: &[u8]) -> Result<Monitor> {
    let mut r = Reader { bytes, pos: 0 };
    let header = read_header(&mut r)?;
    let neurons = header.neurons;
    let counts = read_counts(&mut r, &header)?;
    let patterns = read_patterns(&mut r, &counts, neurons)?;
    let boxes = read_boxes(&mut r, &counts, neurons)?;
    let means = r.f32s(header.classes * neurons, "the class means")?;
    let precision = r.f32s(neurons * neurons, "the precision matrix")?;
    let present = counts.iter().map(|c| c.0 > 0).collect();
    let mahalanobis = Mahalanobis::from_parts(neurons, means, present, precision)?;
    if r.pos != bytes.len() {
        return Err(Error::monitor(format!(
            "{} unexpected bytes after the end of the data (offset {})",
            bytes.len() - r.pos,
            r.pos
        )));
    }
    Ok(Monitor {
        layer: header.layer,
        neurons,
        gamma: header.gamma as u32,
        model: header.model,
        stats: BuildStats {
            images: header.images,
            correct: counts.iter().map(|c| c.0).collect(),
            clusters: header.clusters,
            calibration: header.calibration,
        },
        patterns,
        boxes,
        mahalanobis,
    })
}

/// Magic, version, layer name, sizes, γ calibration and model fingerprint.
fn read_header(r: &mut Reader) -> Result<Header> {
    if r.take(8, "the magic number")? != MAGIC {
        return Err(Error::monitor(
            "not a convscope monitor file (the magic number is not \"CSMONITR\")",
        ));
    }
    let version = r.u32("the version")?;
    if version != VERSION as usize {
        return Err(Error::monitor(format!(
            "version {version} is not supported (this convscope reads version {VERSION})"
        )));
    }
    let name_len = in_range(
        r.u32("the layer name length")?,
        1,
        MAX_LAYER_NAME,
        "the layer name length",
    )?;
    let layer = std::str::from_utf8(r.take(name_len, "the layer name")?)
        .map_err(|_| Error::monitor("the layer name is not UTF-8"))?
        .to_string();
    let neurons = in_range(
        r.u32("the neuron count")?,
        1,
        MAX_NEURONS,
        "the neuron count",
    )?;
    let classes = in_range(r.u32("the class count")?, 1, MAX_CLASSES, "the class count")?;
    let gamma = in_range(r.u32("the default gamma")?, 0, neurons, "the default gamma")?;
    let images = r.u32("the image count")?;
    let clusters = in_range(
        r.u32("the cluster count")?,
        1,
        MAX_CLUSTERS,
        "the cluster count",
    )?;
    let calibration = read_calibration(r, images)?;
    let model = r.u64("the model fingerprint")?;
    Ok(Header {
        layer,
        neurons,
        classes,
        gamma,
        images,
        clusters,
        calibration,
        model,
    })
}

/// The γ calibration: held-out images (at most `images`), how many warned, the target rate; all three 0
/// (`None`) when γ was fixed.
fn read_calibration(r: &mut Reader, images: usize) -> Result<Option<Calibration>> {
    let held_out = in_range(
        r.u32("the held-out count")?,
        0,
        images,
        "the held-out count",
    )?;
    let warned = in_range(
        r.u32("the held-out warnings")?,
        0,
        held_out,
        "the held-out warnings",
    )?;
    let target = r.f64("the target warning rate")?;
    if !(0.0..=1.0).contains(&target) || (held_out == 0 && (warned != 0 || target.to_bits() != 0)) {
        return Err(Error::monitor(format!(
            "the γ calibration ({held_out} held out, {warned} warned, target {target}) is inconsistent: the \
             target must be in [0, 1], and all three are 0 when γ was fixed"
        )));
    }
    Ok((held_out > 0).then_some(Calibration {
        held_out,
        warned,
        target,
    }))
}

/// Every class's counts, checked against each other and the header.
fn read_counts(r: &mut Reader, header: &Header) -> Result<Vec<ClassCounts>> {
    let (clusters, images) = (header.clusters, header.images);
    let mut counts = Vec::with_capacity(header.classes);
    for c in 0..header.classes {
        let what = format!("the counts of class {c}");
        let correct = r.u32(&what)?;
        let patterns = r.u32(&what)?;
        let boxes = r.u32(&what)?;
        let empty = correct == 0;
        if patterns > correct
            || boxes > correct.min(clusters)
            || (patterns == 0) != empty
            || (boxes == 0) != empty
        {
            return Err(Error::monitor(format!(
                "class {c} has {correct} correct images, {patterns} patterns and {boxes} boxes: patterns must be \
                 ≤ images, boxes ≤ min(images, {clusters}), and both 0 exactly when there are no images"
            )));
        }
        counts.push((correct, patterns, boxes));
    }
    let correct_total: usize = counts.iter().map(|c| c.0).sum();
    if correct_total == 0 || correct_total > images {
        return Err(Error::monitor(format!(
            "{correct_total} correctly classified images out of {images}: expected between 1 and {images}"
        )));
    }
    Ok(counts)
}

/// Every class's pattern set: sorted, distinct rows with no bit set past the last neuron.
fn read_patterns(
    r: &mut Reader,
    counts: &[ClassCounts],
    neurons: usize,
) -> Result<Vec<PatternSet>> {
    let words = words_for(neurons);
    let padding = match neurons % WORD_BITS {
        0 => 0,
        used => u64::MAX << used,
    };
    let mut patterns = Vec::with_capacity(counts.len());
    for (c, &(_, count, _)) in counts.iter().enumerate() {
        let what = format!("the patterns of class {c}");
        let rows = count
            .checked_mul(words)
            .ok_or_else(|| Error::monitor(format!("{what}: too many")))?;
        let data = r.u64s(rows, &what)?;
        if data
            .chunks_exact(words)
            .any(|row| row.last().is_some_and(|w| w & padding != 0))
        {
            return Err(Error::monitor(format!(
                "{what}: bits beyond neuron {neurons} are set"
            )));
        }
        let set = PatternSet::from_sorted(words, data)
            .ok_or_else(|| Error::monitor(format!("{what} are not sorted and distinct")))?;
        patterns.push(set);
    }
    Ok(patterns)
}

/// The box scale and every class's boxes (lower bounds, then upper bounds).
fn read_boxes(r: &mut Reader, counts: &[ClassCounts], neurons: usize) -> Result<Boxes> {
    let scale = r.f32s(neurons, "the box scale")?;
    let mut class_boxes = Vec::with_capacity(counts.len());
    for (c, &(_, _, count)) in counts.iter().enumerate() {
        let what = format!("the boxes of class {c}");
        let values = count
            .checked_mul(neurons)
            .ok_or_else(|| Error::monitor(format!("{what}: too many")))?;
        let lo = r.f32s(values, &what)?;
        let hi = r.f32s(values, &what)?;
        class_boxes.push(ClassBoxes { lo, hi });
    }
    Boxes::from_parts(neurons, scale, class_boxes)
}

/// Where a monitor file lives relative to its model: reading the one a manifest names (through the
/// manifest-relative resolver of [`crate::io::files`]) and writing the manifest's `"monitor"` entry.
pub mod manifest {
    use super::super::Monitor;
    use crate::error::{Error, Result};
    use crate::io::files::{
        self, ManifestDir, ManifestFiles, MAX_MANIFEST_BYTES, MAX_MONITOR_BYTES,
    };
    use crate::model::manifest::Manifest;
    use crate::model::network::Network;
    use std::path::Path;

    /// Reads `explicit`, or else the file of the manifest's `"monitor"` entry (inside the manifest's folder),
    /// and binds it to `net`; errors name the file.
    pub fn read(net: &Network, manifest_path: &Path, explicit: Option<&Path>) -> Result<Monitor> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None => {
                let name = ManifestFiles::of(net.manifest())?.monitor.ok_or_else(|| {
                    Error::option(
                        "monitor",
                        "the manifest has no \"monitor\" entry: give --monitor FILE (or build one with \
                         `convscope monitor build --update-manifest`)",
                    )
                })?;
                ManifestDir::of(manifest_path)?.resolve("monitor.file", &name)?
            }
        };
        let bytes = files::read_capped(&path, MAX_MONITOR_BYTES)?;
        Monitor::load(&bytes, net).map_err(|e| match e {
            Error::BadMonitor { reason } => Error::monitor(format!("{}: {reason}", path.display())),
            other => other,
        })
    }

    /// The manifest entry of `monitor` saved at `file`: the name relative to the manifest when `file` lies in
    /// its folder (else the path as given), and whether it does.
    pub fn entry(
        monitor: &Monitor,
        manifest_path: &Path,
        file: &Path,
    ) -> Result<(serde_json::Value, bool)> {
        let relative = ManifestDir::of(manifest_path)?.relative(file);
        let shown = file.display().to_string();
        let inside = relative.is_some();
        Ok((
            monitor.manifest_entry(relative.as_deref().unwrap_or(&shown)),
            inside,
        ))
    }

    /// Writes `entry` into the manifest file's `"monitor"` field (other fields unchanged).
    pub fn register(manifest_path: &Path, entry: &serde_json::Value) -> Result<()> {
        let mut manifest = Manifest::parse(&files::read_text(manifest_path, MAX_MANIFEST_BYTES)?)?;
        manifest.extra.insert("monitor".to_string(), entry.clone());
        std::fs::write(manifest_path, manifest.to_json()? + "\n")
            .map_err(|e| Error::io(manifest_path.display().to_string(), e))
    }
}
