//! Campaign names, and the arguments that name a campaign or point at its files.
//!
//! A campaign called `NAME` lives in `target/campaigns/NAME/`. Commands that
//! read results (`compare`, `merge`, `report`, `replay`) also take a path,
//! so shard results copied from other machines can be used where they are:
//! an argument with a `/` in it is a path, anything else a name.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use campaign::TRIALS_FILE_NAME;

/// Longest campaign name, in bytes: room for a derived name with a few
/// targets, well under the 255-byte file-name limit of Linux file systems.
pub const NAME_MAX_BYTES: usize = 128;

/// The extension that marks a path as a results file rather than a folder.
const RESULTS_EXTENSION: &str = "jsonl";

/// Why a campaign name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("a campaign name cannot be empty")]
    Empty,
    /// The name is too long for a folder name.
    #[error("campaign name `{name}` is {len} bytes long; at most {NAME_MAX_BYTES} are allowed (pass a shorter --name)")]
    TooLong {
        /// The name.
        name: String,
        /// Its length in bytes.
        len: usize,
    },
    /// A character that does not belong in a folder name.
    #[error("campaign name `{name}` has {bad:?}; use letters, digits, '.', '_', '+' and '-', not starting with '.'")]
    BadCharacter {
        /// The name.
        name: String,
        /// The first bad character.
        bad: char,
    },
}

/// A campaign's name: the name of its folder under `target/campaigns`.
///
/// # Invariants
/// 1 to [`NAME_MAX_BYTES`] bytes of ASCII letters, digits, `.`, `_`, `+`
/// and `-`, not starting with `.`: never a path, never `.` or `..`, so
/// `--fresh` can only ever remove a folder under `target/campaigns`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CampaignName(String);

impl CampaignName {
    /// Validates `name`.
    pub fn try_new(name: &str) -> Result<Self, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || "._+-".contains(c);
        if let Some(bad) = name.chars().find(|&c| !allowed(c)).or(name.starts_with('.').then_some('.')) {
            return Err(NameError::BadCharacter { name: name.to_owned(), bad });
        }
        if name.len() > NAME_MAX_BYTES {
            return Err(NameError::TooLong { name: name.to_owned(), len: name.len() });
        }
        Ok(CampaignName(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CampaignName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CampaignName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CampaignName::try_new(s)
    }
}

/// A campaign on the command line: a name under `target/campaigns`, or a
/// path (anything with a `/`) to a campaign folder or a results file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CampaignRef {
    /// `target/campaigns/NAME`.
    Name(CampaignName),
    /// A campaign folder, or a `.jsonl` results file.
    Path(PathBuf),
}

impl CampaignRef {
    /// The campaign's folder: `root/NAME`, the path itself, or the folder
    /// holding the results file.
    pub fn dir(&self, root: &Path) -> PathBuf {
        match self {
            CampaignRef::Name(name) => root.join(name.as_str()),
            CampaignRef::Path(path) if is_results_file(path) => {
                path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
            }
            CampaignRef::Path(path) => path.clone(),
        }
    }

    /// The results file: `trials.jsonl` in the folder, or the file named.
    pub fn results_file(&self, root: &Path) -> PathBuf {
        match self {
            CampaignRef::Path(path) if is_results_file(path) => path.clone(),
            _ => self.dir(root).join(TRIALS_FILE_NAME),
        }
    }

    /// The name shown in tables and on the report: the campaign's name, or
    /// the last part of its folder.
    pub fn label(&self, root: &Path) -> String {
        match self {
            CampaignRef::Name(name) => name.to_string(),
            CampaignRef::Path(_) => {
                let dir = self.dir(root);
                dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned())
            }
        }
    }
}

fn is_results_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == RESULTS_EXTENSION)
}

impl fmt::Display for CampaignRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CampaignRef::Name(name) => write!(f, "{name}"),
            CampaignRef::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

impl FromStr for CampaignRef {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains(std::path::MAIN_SEPARATOR) || s.contains('/') {
            Ok(CampaignRef::Path(PathBuf::from(s)))
        } else {
            Ok(CampaignRef::Name(s.parse()?))
        }
    }
}

impl From<CampaignName> for CampaignRef {
    fn from(name: CampaignName) -> Self {
        CampaignRef::Name(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_folder_names_and_never_paths() {
        for good in ["quick", "seed7-all-fs+name", "big_2026.v2", "A-1"] {
            assert_eq!(CampaignName::try_new(good).unwrap().as_str(), good);
        }
        assert_eq!(CampaignName::try_new(""), Err(NameError::Empty));
        for (bad, char) in [("..", '.'), (".hidden", '.'), ("a b", ' '), ("a/b", '/'), ("ü", 'ü')] {
            assert_eq!(
                CampaignName::try_new(bad),
                Err(NameError::BadCharacter { name: bad.into(), bad: char }),
                "{bad}"
            );
        }
        let long = "x".repeat(NAME_MAX_BYTES + 1);
        assert!(matches!(CampaignName::try_new(&long), Err(NameError::TooLong { .. })));
    }

    #[test]
    fn a_slash_makes_a_path_and_a_jsonl_path_is_a_results_file() {
        let root = Path::new("/repo/target/campaigns");
        let name: CampaignRef = "quick".parse().unwrap();
        assert_eq!(name.dir(root), root.join("quick"));
        assert_eq!(name.results_file(root), root.join("quick/trials.jsonl"));
        assert_eq!(name.label(root), "quick");

        let dir: CampaignRef = "./shards/one".parse().unwrap();
        assert_eq!(dir.dir(root), Path::new("./shards/one"));
        assert_eq!(dir.results_file(root), Path::new("./shards/one/trials.jsonl"));
        assert_eq!(dir.label(root), "one");

        let file: CampaignRef = "/data/shard2.jsonl".parse().unwrap();
        assert_eq!(file.results_file(root), Path::new("/data/shard2.jsonl"));
        assert_eq!(file.dir(root), Path::new("/data"));
        assert!("no good".parse::<CampaignRef>().is_err());
    }
}
