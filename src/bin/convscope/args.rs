//! A small command-line option parser: `--key value`, `--key=value` and boolean `--flag`s, each command
//! declaring the options it accepts so that a typo is an error before any work starts. An option declared
//! as `"key..."` takes one or more values (`--images a.png b.png`, what a shell glob gives): the words up to
//! the next `--option`.

use convscope::{Error, Result};
use std::collections::BTreeMap;
use std::str::FromStr;

#[derive(Debug)]
pub struct Args {
    values: BTreeMap<String, String>,
    /// The further values of the `key...` options (after the first, which is in `values`).
    more: BTreeMap<String, Vec<String>>,
    flags: Vec<String>,
}

impl Args {
    /// Parses `argv` (after the subcommand) given the accepted valued options and flags (names without `--`).
    pub fn parse(argv: &[String], valued: &[&str], flags: &[&str]) -> Result<Args> {
        let mut values = BTreeMap::new();
        let mut more: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut seen_flags = Vec::new();
        let lists: Vec<&str> = valued
            .iter()
            .filter_map(|k| k.strip_suffix("..."))
            .collect();
        let valued: Vec<&str> = valued.iter().map(|k| k.trim_end_matches("...")).collect();
        let mut it = argv.iter().peekable();
        while let Some(token) = it.next() {
            let Some(body) = token.strip_prefix("--") else {
                return Err(Error::option(
                    token.as_str(),
                    "is not an option (options start with --)",
                ));
            };
            let (key, inline) = match body.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (body, None),
            };
            if flags.contains(&key) {
                if inline.is_some() {
                    return Err(Error::option(key, format!("--{key} takes no value")));
                }
                seen_flags.push(key.to_string());
            } else if valued.contains(&key) {
                let value = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .cloned()
                        .ok_or_else(|| Error::option(key, format!("--{key} needs a value")))?,
                };
                if values.insert(key.to_string(), value).is_some() {
                    return Err(Error::option(key, format!("--{key} given twice")));
                }
                if lists.contains(&key) {
                    while let Some(next) = it.next_if(|t| !t.starts_with("--")) {
                        more.entry(key.to_string()).or_default().push(next.clone());
                    }
                }
            } else {
                let mut known: Vec<String> = valued
                    .iter()
                    .chain(flags)
                    .map(|k| format!("--{k}"))
                    .collect();
                known.sort();
                return Err(Error::option(
                    key,
                    format!(
                        "unknown option --{key}; this command takes {}",
                        known.join(" ")
                    ),
                ));
            }
        }
        Ok(Args {
            values,
            more,
            flags: seen_flags,
        })
    }

    /// The given valued options among `flags`, as `(flag, text)` pairs for the catalogue's checker
    /// (`convscope::catalogue::options::Values::from_flags`).
    pub fn given<'a>(&'a self, flags: &'a [&str]) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.values
            .iter()
            .filter(|(k, _)| flags.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn flag(&self, key: &str) -> bool {
        self.flags.iter().any(|f| f == key)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Every value of a `key...` option, in order (empty when it is not given).
    pub fn all(&self, key: &str) -> Vec<&str> {
        let rest = self.more.get(key).into_iter().flatten().map(String::as_str);
        self.get(key).into_iter().chain(rest).collect()
    }

    pub fn required(&self, key: &str) -> Result<&str> {
        self.get(key)
            .ok_or_else(|| Error::option(key, format!("--{key} is required")))
    }

    /// The option parsed as `T`, if given.
    pub fn opt<T: FromStr>(&self, key: &str) -> Result<Option<T>>
    where
        T::Err: std::fmt::Display,
    {
        self.get(key)
            .map(|v| {
                v.parse::<T>()
                    .map_err(|e| Error::option(key, format!("--{key} {v:?}: {e}")))
            })
            .transpose()
    }

    pub fn or<T: FromStr>(&self, key: &str, default: T) -> Result<T>
    where
        T::Err: std::fmt::Display,
    {
        Ok(self.opt(key)?.unwrap_or(default))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_values_flags_and_rejects_typos() {
        let a = Args::parse(
            &argv("--model m.json --index=3 --json"),
            &["model", "index"],
            &["json"],
        )
        .unwrap();
        assert_eq!(a.get("model"), Some("m.json"));
        assert_eq!(a.or("index", 0usize).unwrap(), 3);
        assert!(a.flag("json"));
        assert!(a.required("other").is_err());
        assert!(Args::parse(&argv("--modle m"), &["model"], &[])
            .unwrap_err()
            .to_string()
            .contains("--model"));
        assert!(Args::parse(&argv("--model"), &["model"], &[]).is_err());
        assert!(Args::parse(&argv("stray"), &["model"], &[]).is_err());
        let a = Args::parse(&argv("--index x"), &["index"], &[]).unwrap();
        assert!(a.opt::<usize>("index").is_err());
    }

    #[test]
    fn a_list_option_takes_the_words_up_to_the_next_option() {
        let a = Args::parse(
            &argv("--images a.png b.png c.png --model m --json"),
            &["images...", "model"],
            &["json"],
        )
        .unwrap();
        assert_eq!(a.all("images"), ["a.png", "b.png", "c.png"]);
        assert_eq!(a.get("images"), Some("a.png"));
        assert_eq!(a.all("model"), ["m"]);
        assert!(a.all("other").is_empty());
        assert!(a.flag("json"));
        let e = Args::parse(&argv("--model m extra"), &["images...", "model"], &[]);
        assert!(e.unwrap_err().to_string().contains("not an option"));
    }
}
