//! The kernel's pinned toolchain: read it from `kernel/rust-toolchain.toml`, install what is missing.
//!
//! The file is the one place the channel, components and targets are named.
//! rustup is asked what is installed (`rustup toolchain list`, and
//! `component list --installed` / `target list --installed` for that
//! toolchain) and installs only what is missing. Every nested cargo or
//! rustup call names the toolchain explicitly and drops `RUSTUP_TOOLCHAIN`,
//! which rustup sets to the stable toolchain `cargo xtask` itself runs on.

use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use crate::error::XtaskError;
use crate::shell;

/// The `[toolchain]` table of a `rust-toolchain.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toolchain {
    /// Toolchain name, e.g. `nightly-2026-08-01`.
    pub channel: String,
    /// Components to have, e.g. `rust-src`.
    #[serde(default)]
    pub components: Vec<String>,
    /// Extra targets to have, e.g. `x86_64-unknown-none`.
    #[serde(default)]
    pub targets: Vec<String>,
    /// rustup profile to install with, e.g. `minimal`.
    #[serde(default)]
    pub profile: Option<String>,
}

/// The whole file: just the `[toolchain]` table.
#[derive(Debug, Deserialize)]
struct ToolchainFile {
    toolchain: Toolchain,
}

impl Toolchain {
    /// Reads and validates a `rust-toolchain.toml`.
    pub fn read(path: &Path) -> Result<Self, XtaskError> {
        let text = std::fs::read_to_string(path).map_err(|source| XtaskError::ToolchainRead {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates the text of a `rust-toolchain.toml` (`path` is for errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self, XtaskError> {
        let file: ToolchainFile =
            toml::from_str(text).map_err(|source| XtaskError::ToolchainParse {
                path: path.to_owned(),
                source,
            })?;
        let toolchain = file.toolchain;
        if toolchain.channel.is_empty() || toolchain.channel.contains(char::is_whitespace) {
            return Err(XtaskError::ToolchainChannel {
                path: path.to_owned(),
                channel: toolchain.channel,
            });
        }
        Ok(toolchain)
    }

    /// `cargo +<channel>`, with `RUSTUP_TOOLCHAIN` removed so the `+` wins
    /// everywhere, including in build scripts that run cargo again.
    pub fn cargo(&self) -> Command {
        let mut command = Command::new("cargo");
        command
            .env_remove("RUSTUP_TOOLCHAIN")
            .arg(format!("+{}", self.channel));
        command
    }

    /// The `rustup toolchain install` command for this toolchain. It never
    /// updates rustup itself: a build tool must not replace the machine's
    /// rustup (with a fresh RUSTUP_HOME, rustup would otherwise do so).
    fn install_command(&self) -> Command {
        let mut command = rustup();
        command.args(["toolchain", "install", "--no-self-update", &self.channel]);
        if let Some(profile) = &self.profile {
            command.args(["--profile", profile]);
        }
        for component in &self.components {
            command.args(["-c", component]);
        }
        for target in &self.targets {
            command.args(["-t", target]);
        }
        command
    }

    /// Installs the toolchain, components and targets that are missing;
    /// returns one line per thing checked or done.
    pub fn ensure_installed(&self) -> Result<Vec<String>, XtaskError> {
        let mut report = Vec::new();
        let list = shell::stdout_of(rustup().args(["toolchain", "list"]))?;
        if !toolchain_listed(&list, &self.channel) {
            let mut install = self.install_command();
            shell::run(&mut install)?;
            let list = shell::stdout_of(rustup().args(["toolchain", "list"]))?;
            if !toolchain_listed(&list, &self.channel) {
                return Err(XtaskError::StillMissing {
                    what: format!("toolchain {}", self.channel),
                    command: shell::display(&install),
                });
            }
            report.push(format!("toolchain {}: installed", self.channel));
        } else {
            report.push(format!("toolchain {}: already installed", self.channel));
        }

        let plus = format!("+{}", self.channel);
        let targets = shell::stdout_of(rustup().args([&plus, "target", "list", "--installed"]))?;
        let installed_targets: Vec<&str> = targets.lines().map(str::trim).collect();
        let missing = missing_targets(&self.targets, &installed_targets);
        if !missing.is_empty() {
            shell::run(
                rustup()
                    .args(["target", "add", "--toolchain", &self.channel])
                    .args(&missing),
            )?;
            report.push(format!("targets added: {}", missing.join(", ")));
        }

        let components =
            shell::stdout_of(rustup().args([&plus, "component", "list", "--installed"]))?;
        let installed: Vec<&str> = components.lines().map(str::trim).collect();
        let missing = missing_components(&self.components, &installed, &installed_targets);
        if !missing.is_empty() {
            shell::run(
                rustup()
                    .args(["component", "add", "--toolchain", &self.channel])
                    .args(&missing),
            )?;
            report.push(format!("components added: {}", missing.join(", ")));
        }
        report.push(format!(
            "toolchain {} has components [{}] and targets [{}]",
            self.channel,
            self.components.join(", "),
            self.targets.join(", ")
        ));
        Ok(report)
    }
}

/// `rustup`, without the `RUSTUP_TOOLCHAIN` of the stable toolchain xtask runs on.
fn rustup() -> Command {
    let mut command = Command::new("rustup");
    command.env_remove("RUSTUP_TOOLCHAIN");
    command
}

/// True if `rustup toolchain list` output has `channel`, which rustup lists
/// as `<channel>-<host triple>` (plus markers like `(default)`).
pub fn toolchain_listed(list: &str, channel: &str) -> bool {
    list.lines()
        .filter_map(|line| line.split_whitespace().next())
        .any(|name| {
            name == channel
                || name
                    .strip_prefix(channel)
                    .and_then(|rest| rest.strip_prefix('-'))
                    // A host triple starts with its architecture, never a
                    // digit; this keeps `nightly` from matching
                    // `nightly-2026-08-01-<triple>`.
                    .is_some_and(|triple| {
                        triple.starts_with(|c: char| c.is_ascii_alphabetic())
                            && triple.contains('-')
                    })
        })
}

/// Targets in `wanted` that are not in `installed`.
pub fn missing_targets(wanted: &[String], installed: &[&str]) -> Vec<String> {
    wanted
        .iter()
        .filter(|t| !installed.contains(&t.as_str()))
        .cloned()
        .collect()
}

/// Components in `wanted` that `installed` (rustup's `component list
/// --installed`) lacks. rustup lists target-specific components with their
/// target appended (`llvm-tools-x86_64-unknown-linux-gnu`) and drops the
/// `-preview` that older names such as `llvm-tools-preview` carry.
pub fn missing_components(wanted: &[String], installed: &[&str], targets: &[&str]) -> Vec<String> {
    let base_names: Vec<&str> = installed
        .iter()
        .map(|line| {
            targets
                .iter()
                .find_map(|target| {
                    line.strip_suffix(target)
                        .and_then(|rest| rest.strip_suffix('-'))
                })
                .unwrap_or(line)
        })
        .collect();
    wanted
        .iter()
        .filter(|component| {
            let short = component.strip_suffix("-preview").unwrap_or(component);
            !base_names
                .iter()
                .any(|name| *name == component.as_str() || *name == short)
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::Paths;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn reads_the_kernels_toolchain_file() {
        let toolchain = Toolchain::read(&Paths::discover().toolchain_file()).unwrap();
        assert!(toolchain.channel.starts_with("nightly-"));
        assert!(toolchain.components.contains(&"rust-src".to_owned()));
        assert!(toolchain
            .targets
            .contains(&"x86_64-unknown-none".to_owned()));
    }

    #[test]
    fn parses_a_full_and_a_minimal_file() {
        let full = r#"
            # comment
            [toolchain]
            channel = "nightly-2026-08-01"
            components = ["rust-src", "llvm-tools-preview"]
            targets = ["x86_64-unknown-none"]
            profile = "minimal"
        "#;
        let t = Toolchain::parse(full, Path::new("f")).unwrap();
        assert_eq!(t.channel, "nightly-2026-08-01");
        assert_eq!(t.components, ["rust-src", "llvm-tools-preview"]);
        assert_eq!(t.profile.as_deref(), Some("minimal"));
        let args: Vec<String> = t
            .install_command()
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args.join(" "),
            "toolchain install --no-self-update nightly-2026-08-01 --profile minimal -c rust-src \
             -c llvm-tools-preview -t x86_64-unknown-none"
        );
        let minimal =
            Toolchain::parse("[toolchain]\nchannel = \"stable\"\n", Path::new("f")).unwrap();
        assert!(minimal.components.is_empty() && minimal.profile.is_none());
    }

    #[test]
    fn rejects_bad_files() {
        for bad in [
            "",
            "[toolchain]\n",
            "[toolchain]\nchannel = 3\n",
            "[toolchain]\nchannel = \"a\"\ncolour = \"red\"\n",
        ] {
            assert!(
                matches!(
                    Toolchain::parse(bad, Path::new("f")),
                    Err(XtaskError::ToolchainParse { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            Toolchain::parse("[toolchain]\nchannel = \"night ly\"\n", Path::new("f")),
            Err(XtaskError::ToolchainChannel { .. })
        ));
    }

    #[test]
    fn finds_toolchains_in_rustup_output() {
        let list = "stable-x86_64-unknown-linux-gnu (active, default)\n\
                    nightly-x86_64-unknown-linux-gnu\n\
                    nightly-2026-08-01-x86_64-unknown-linux-gnu /root/.rustup/toolchains/x\n";
        assert!(toolchain_listed(list, "nightly-2026-08-01"));
        assert!(toolchain_listed(list, "stable"));
        assert!(toolchain_listed(list, "nightly"));
        assert!(!toolchain_listed(list, "nightly-2026-10-29"));
        assert!(!toolchain_listed(
            "stable-x86_64-unknown-linux-gnu\nnightly-2026-08-01-x86_64-unknown-linux-gnu\n",
            "nightly"
        ));
        assert!(!toolchain_listed(
            "no installed toolchains\n",
            "nightly-2026-08-01"
        ));
    }

    #[test]
    fn component_names_match_across_triples_and_preview() {
        let installed = [
            "cargo-x86_64-unknown-linux-gnu",
            "llvm-tools-x86_64-unknown-linux-gnu",
            "rust-src",
            "rust-std-x86_64-unknown-none",
        ];
        let targets = ["x86_64-unknown-linux-gnu", "x86_64-unknown-none"];
        let wanted = strings(&["rust-src", "llvm-tools-preview", "rustfmt", "rust"]);
        assert_eq!(
            missing_components(&wanted, &installed, &targets),
            ["rustfmt", "rust"]
        );
        assert_eq!(
            missing_targets(
                &strings(&["x86_64-unknown-none", "aarch64-unknown-none"]),
                &targets
            ),
            ["aarch64-unknown-none"]
        );
    }
}
