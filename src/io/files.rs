//! File access, in one place: the manifest-relative resolver and size-capped reads of regular files.
//!
//! **Names in a manifest** (`weights`, `monitor.file`) are relative to the manifest's folder and must stay
//! inside it: [`check_relative_name`] refuses an empty name, an absolute path, a drive letter or URL scheme
//! (`C:`, `https:`), a `..` component, backslashes and the URL delimiters `?` and `#`. The page joins a checked
//! name to the manifest's URL (`manifestFiles()` of the JS API runs the same check); the CLI resolves it with
//! [`ManifestDir::resolve`], which also canonicalizes the result and refuses a symlink that leads out of the
//! folder.
//!
//! **Reads** ([`read_capped`]) accept regular files only — a directory, FIFO or device (`/dev/zero`) is an error
//! before anything is read, so nothing blocks or reads forever — and check the file's length against a cap
//! before reading (and read at most the cap, in case the file grows). Errors name the file and never echo its
//! contents.

use crate::error::{Error, Result};
use crate::model::manifest::Manifest;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Largest manifest accepted (the shipped ones are 3 KB).
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// Largest weights file accepted (LeNet-5's is 250 KB).
pub const MAX_WEIGHTS_BYTES: u64 = 1 << 30;
/// Largest image file accepted (PNG, JPEG, PGM/PPM).
pub const MAX_IMAGE_BYTES: u64 = 64 << 20;
/// Largest monitor file accepted.
pub const MAX_MONITOR_BYTES: u64 = 256 << 20;

/// `name` if it is a safe manifest-relative name (see the module header), else a [`Error::BadManifest`]
/// naming `field`.
pub fn check_relative_name<'a>(field: &str, name: &'a str) -> Result<&'a str> {
    let bad = |why: &str| Error::manifest(format!("{field} {name:?} {why}"));
    if name.is_empty() {
        return Err(bad("is empty"));
    }
    if name.starts_with('/') || name.contains('\\') {
        return Err(bad(
            "must be a path relative to the manifest, with / separators",
        ));
    }
    let first = name.split('/').next().unwrap_or("");
    if first.contains(':') {
        return Err(bad(
            "must be relative to the manifest (no drive letter or URL scheme)",
        ));
    }
    if name.split('/').any(|part| part == "..") {
        return Err(bad("must stay inside the manifest's folder (no ..)"));
    }
    if name.contains(['?', '#', '\0']) {
        return Err(bad("must be a plain file name (no ?, # or NUL)"));
    }
    Ok(name)
}

/// The files a manifest names, checked by [`check_relative_name`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ManifestFiles {
    pub weights: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitor: Option<String>,
}

impl ManifestFiles {
    /// The `weights` file and the `monitor.file` of the optional `"monitor"` entry.
    pub fn of(manifest: &Manifest) -> Result<ManifestFiles> {
        let weights = check_relative_name("weights", &manifest.weights)?.to_string();
        let monitor = match manifest.extra.get("monitor") {
            None => None,
            Some(entry) => {
                let file = entry.get("file").and_then(|f| f.as_str()).ok_or_else(|| {
                    Error::manifest("the \"monitor\" entry needs a \"file\" string")
                })?;
                Some(check_relative_name("monitor.file", file)?.to_string())
            }
        };
        Ok(ManifestFiles { weights, monitor })
    }
}

/// The folder of a manifest file, canonical, that its relative names resolve in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestDir {
    dir: PathBuf,
}

impl ManifestDir {
    /// The folder holding the manifest at `manifest_path`.
    pub fn of(manifest_path: &Path) -> Result<ManifestDir> {
        let parent = manifest_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let dir = parent
            .canonicalize()
            .map_err(|e| Error::io(parent.display().to_string(), e))?;
        Ok(ManifestDir { dir })
    }

    /// The file `name` (a manifest field, `field` in errors) names: checked, joined to the folder,
    /// canonicalized, and refused when it lies outside the folder (a symlink out).
    pub fn resolve(&self, field: &str, name: &str) -> Result<PathBuf> {
        let joined = self.dir.join(check_relative_name(field, name)?);
        let path = joined
            .canonicalize()
            .map_err(|e| Error::io(joined.display().to_string(), e))?;
        if !path.starts_with(&self.dir) {
            return Err(Error::manifest(format!(
                "{field} {name:?} leads out of the manifest's folder {} (through a symlink)",
                self.dir.display()
            )));
        }
        Ok(path)
    }

    /// Reads the file `name` names ([`ManifestDir::resolve`], then [`read_capped`]).
    pub fn read(&self, field: &str, name: &str, max: u64) -> Result<Vec<u8>> {
        read_capped(&self.resolve(field, name)?, max)
    }

    /// `file` as a manifest-relative name (`/` separators), when it lies inside the folder.
    pub fn relative(&self, file: &Path) -> Option<String> {
        let file = file.canonicalize().ok()?;
        let parts: Vec<String> = file
            .strip_prefix(&self.dir)
            .ok()?
            .components()
            .map(|c| match c {
                Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect::<Option<_>>()?;
        (!parts.is_empty()).then(|| parts.join("/"))
    }
}

/// The bytes of the regular file at `path`, refused before reading when it is not a regular file or is
/// longer than `max` bytes.
pub fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>> {
    let shown = || path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|e| Error::io(shown(), e))?;
    if !metadata.is_file() {
        return Err(Error::io(
            shown(),
            "not a regular file (a directory, device or pipe)",
        ));
    }
    if metadata.len() > max {
        return Err(Error::io(
            shown(),
            format!(
                "{} bytes is more than the {max} bytes accepted for this kind of file",
                metadata.len()
            ),
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(shown(), e))?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(shown(), e))?;
    if bytes.len() as u64 > max {
        return Err(Error::io(
            shown(),
            "the file grew past its size cap while read",
        ));
    }
    Ok(bytes)
}

/// A manifest file's text (size-capped, a UTF-8 byte-order mark dropped).
pub fn read_text(path: &Path, max: u64) -> Result<String> {
    let bytes = read_capped(path, max)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::io(path.display().to_string(), "not UTF-8 text"))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_names_stay_inside_the_folder() {
        for good in ["w.safetensors", "sub/w.safetensors", "./w.bin", "a b.bin"] {
            assert_eq!(check_relative_name("weights", good).unwrap(), good);
        }
        for (bad, needle) in [
            ("", "is empty"),
            ("/etc/passwd", "relative"),
            ("..\\x", "relative"),
            ("../../etc/passwd", "no .."),
            ("sub/../../x", "no .."),
            ("https://evil.example/w", "URL scheme"),
            ("C:/w", "drive letter"),
            ("w?x=1", "no ?"),
        ] {
            let e = check_relative_name("weights", bad).unwrap_err().to_string();
            assert!(e.contains(needle), "{bad:?}: {e}");
            assert!(e.starts_with("bad model manifest: weights"), "{e}");
        }
    }

    #[test]
    fn reads_refuse_directories_devices_and_oversized_files() {
        let dir = std::env::temp_dir().join(format!("convscope-files-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("inner")).unwrap();
        std::fs::write(dir.join("inner/ten.bin"), [7u8; 10]).unwrap();
        assert_eq!(
            read_capped(&dir.join("inner/ten.bin"), 10).unwrap().len(),
            10
        );
        let e = read_capped(&dir.join("inner/ten.bin"), 9)
            .unwrap_err()
            .to_string();
        assert!(e.contains("10 bytes is more than the 9 bytes"), "{e}");
        let e = read_capped(&dir, 9).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        if Path::new("/dev/zero").exists() {
            let e = read_capped(Path::new("/dev/zero"), 9)
                .unwrap_err()
                .to_string();
            assert!(e.contains("not a regular file"), "{e}");
        }
        let inner = ManifestDir::of(&dir.join("inner/m.json")).unwrap();
        assert!(inner.read("weights", "ten.bin", 100).is_ok());
        assert_eq!(
            inner.relative(&dir.join("inner/ten.bin")).as_deref(),
            Some("ten.bin")
        );
        assert_eq!(inner.relative(&dir.join("inner")), None);
        #[cfg(unix)]
        {
            std::fs::write(dir.join("outside.bin"), [1u8]).unwrap();
            let link = dir.join("inner/link.bin");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(dir.join("outside.bin"), &link).unwrap();
            let e = inner
                .read("weights", "link.bin", 100)
                .unwrap_err()
                .to_string();
            assert!(e.contains("leads out of the manifest's folder"), "{e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn text_drops_a_byte_order_mark() {
        let path = std::env::temp_dir().join(format!("convscope-bom-{}.json", std::process::id()));
        std::fs::write(&path, "\u{feff}{}").unwrap();
        assert_eq!(read_text(&path, 100).unwrap(), "{}");
        std::fs::remove_file(&path).unwrap();
    }
}
