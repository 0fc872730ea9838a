//! QEMU and OVMF: check they are installed, and install them with apt-get when we may.
//!
//! As root (CI, fresh containers) this runs `apt-get update` once and then
//! `apt-get install -y qemu-system-x86 ovmf` non-interactively; otherwise it
//! fails with the exact `sudo apt-get install ...` command to run by hand.

use std::path::Path;
use std::process::Command;

use lazarus_tests::qemu::{find_program, DEBIAN_PACKAGES, OVMF_PATH, QEMU_BINARY};

use crate::error::XtaskError;
use crate::shell;

/// What is missing, by name, for messages.
fn missing() -> Vec<&'static str> {
    let mut missing = Vec::new();
    if find_program(QEMU_BINARY).is_none() {
        missing.push(QEMU_BINARY);
    }
    if !Path::new(OVMF_PATH).is_file() {
        missing.push(OVMF_PATH);
    }
    missing
}

/// True when this process runs as root.
fn is_root() -> bool {
    // SAFETY: geteuid takes no arguments, touches no memory and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `apt-get` with no questions asked.
fn apt_get() -> Command {
    let mut command = Command::new("apt-get");
    command.env("DEBIAN_FRONTEND", "noninteractive");
    command
}

/// What to do about QEMU and OVMF, given what is missing and who we are.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan {
    /// Everything is there.
    Nothing,
    /// Install with apt-get (we are root).
    Install,
    /// Tell the user the exact command; we may not install.
    AskUser {
        /// What is missing, for the message.
        missing: String,
        /// The command to run by hand.
        command: String,
    },
}

fn plan(missing: &[&str], root: bool) -> Plan {
    if missing.is_empty() {
        Plan::Nothing
    } else if root {
        Plan::Install
    } else {
        Plan::AskUser {
            missing: missing.join(" and "),
            command: format!("sudo apt-get install {}", DEBIAN_PACKAGES.join(" ")),
        }
    }
}

/// Makes sure QEMU and OVMF are installed; returns what was checked or done.
pub fn ensure_installed() -> Result<Vec<String>, XtaskError> {
    let before = missing();
    match plan(&before, is_root()) {
        Plan::Nothing => {
            let qemu = find_program(QEMU_BINARY)
                .map_or_else(|| QEMU_BINARY.to_owned(), |p| p.display().to_string());
            return Ok(vec![format!(
                "QEMU ({qemu}) and OVMF ({OVMF_PATH}): already installed"
            )]);
        }
        Plan::AskUser { missing, command } => {
            return Err(XtaskError::NeedRootToInstall { missing, command })
        }
        Plan::Install => {}
    }
    shell::run(apt_get().arg("update"))?;
    let mut install = apt_get();
    install.args(["install", "-y"]).args(DEBIAN_PACKAGES);
    shell::run(&mut install)?;
    let after = missing();
    if !after.is_empty() {
        return Err(XtaskError::StillMissing {
            what: after.join(" and "),
            command: shell::display(&install),
        });
    }
    Ok(vec![format!(
        "QEMU and OVMF: installed ({}) for {}",
        DEBIAN_PACKAGES.join(" "),
        before.join(" and ")
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_only_as_root_and_otherwise_names_the_command() {
        assert_eq!(plan(&[], false), Plan::Nothing);
        assert_eq!(plan(&[QEMU_BINARY], true), Plan::Install);
        let Plan::AskUser { missing, command } = plan(&[QEMU_BINARY, OVMF_PATH], false) else {
            panic!("expected to ask the user");
        };
        assert_eq!(command, "sudo apt-get install qemu-system-x86 ovmf");
        let error = XtaskError::NeedRootToInstall { missing, command }.to_string();
        assert!(error.starts_with(
            "qemu-system-x86_64 and /usr/share/ovmf/OVMF.fd not installed, and installing needs root; \
             run `sudo apt-get install qemu-system-x86 ovmf`"
        ));
    }
}
