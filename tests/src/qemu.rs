//! The QEMU command line, in one place, and the QEMU process that is never left behind.
//!
//! `QemuCommand` builds the argument list for both uses: the test runner
//! (serial console captured through a pipe) and `cargo xtask run` (serial
//! console and QEMU monitor multiplexed on the terminal). `QemuProcess` owns a
//! running QEMU and kills it when dropped, so a panicking runner cannot leak
//! one; on Linux the child is also asked to die with the thread that spawned
//! it (`PR_SET_PDEATHSIG`), which covers a runner killed by a signal.
//! `QemuExit` decodes QEMU's exit status under the `isa-debug-exit` contract.
//!
//! Two additions serve campaigns that start trials from a saved machine
//! (`xtask/src/campaign/snapshot.rs`): `qmp_client` connects QEMU's QMP
//! monitor to a TCP port the host listens on (to save the machine), and
//! `incoming` starts QEMU from a saved migration stream instead of booting.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::str::FromStr;

/// The QEMU binary, looked up on `PATH`.
pub const QEMU_BINARY: &str = "qemu-system-x86_64";

/// Where Debian's `ovmf` package puts the UEFI firmware image.
pub const OVMF_PATH: &str = "/usr/share/ovmf/OVMF.fd";

/// The Debian packages that provide [`QEMU_BINARY`] and [`OVMF_PATH`].
pub const DEBIAN_PACKAGES: [&str; 2] = ["qemu-system-x86", "ovmf"];

/// Guest RAM in QEMU's size syntax: room for the kernel heap and frame pool,
/// small enough that TCG boots it in a few seconds.
pub const GUEST_MEMORY: &str = "256M";

/// Guest CPUs: the kernel is uniprocessor for now.
pub const GUEST_CPUS: u32 = 1;

/// I/O port of the `isa-debug-exit` device; the kernel writes its exit byte here.
pub const EXIT_PORT: u16 = 0xf4;

/// Width in bytes of the `isa-debug-exit` port range.
pub const EXIT_PORT_BYTES: u16 = 4;

/// Name of the fw_cfg file that carries the kernel's boot options.
pub const CMDLINE_FW_CFG_NAME: &str = "opt/lazarus/cmdline";

/// Byte the kernel writes to [`EXIT_PORT`] when everything passed.
pub const KERNEL_EXIT_SUCCESS: u8 = 0x10;

/// Byte the kernel writes to [`EXIT_PORT`] when something failed.
pub const KERNEL_EXIT_FAILURE: u8 = 0x11;

/// QEMU's exit status when the guest reset and `-no-reboot` turned that into
/// an exit (a triple fault, or the QEMU monitor's quit, which looks the same).
pub const GUEST_RESET_STATUS: i32 = 0;

/// QEMU's exit status after the guest wrote `value` to the `isa-debug-exit`
/// port: `(value << 1) | 1`, as QEMU's `hw/misc/debugexit.c` computes it.
pub const fn debug_exit_status(value: u8) -> i32 {
    ((value as i32) << 1) | 1
}

/// Which firmware boots the disk image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Firmware {
    /// Legacy BIOS (SeaBIOS, QEMU's default), booting `bios.img`.
    Bios,
    /// UEFI (OVMF from [`OVMF_PATH`]), booting `uefi.img`.
    Uefi,
}

impl Firmware {
    /// Both firmwares, BIOS first.
    pub const ALL: [Firmware; 2] = [Firmware::Bios, Firmware::Uefi];

    /// Lower-case name, as in `LAZARUS_FIRMWARE` and in log file names.
    pub fn name(self) -> &'static str {
        match self {
            Firmware::Bios => "bios",
            Firmware::Uefi => "uefi",
        }
    }

    /// File name of this firmware's disk image inside the images folder.
    pub fn image_file_name(self) -> &'static str {
        match self {
            Firmware::Bios => "bios.img",
            Firmware::Uefi => "uefi.img",
        }
    }
}

impl fmt::Display for Firmware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A firmware name that is neither `bios` nor `uefi`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown firmware `{0}`: expected `bios` or `uefi`")]
pub struct UnknownFirmware(pub String);

impl FromStr for Firmware {
    type Err = UnknownFirmware;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bios" => Ok(Firmware::Bios),
            "uefi" => Ok(Firmware::Uefi),
            _ => Err(UnknownFirmware(s.to_owned())),
        }
    }
}

/// Why a boot command line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmdlineError {
    /// A character outside printable ASCII (the kernel parses bytes, and a
    /// control character would corrupt the serial log).
    #[error("boot command line has a character outside printable ASCII: {0:?}")]
    BadCharacter(char),
    /// A word that is not `key=value` with a non-empty key.
    #[error("boot command line word `{0}` is not of the form key=value")]
    NotKeyValue(String),
}

/// The kernel's boot options: space-separated `key=value` words.
///
/// # Invariants
/// Printable ASCII only; every word has an `=` after a non-empty key; words
/// are separated by exactly one space. Commas are allowed and escaped when
/// the line is put into QEMU's option syntax.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootCmdline(String);

impl BootCmdline {
    /// Validates `text` and normalises its spacing.
    pub fn try_new(text: &str) -> Result<Self, CmdlineError> {
        if let Some(bad) = text.chars().find(|c| !(c.is_ascii_graphic() || *c == ' ')) {
            return Err(CmdlineError::BadCharacter(bad));
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        for word in &words {
            match word.split_once('=') {
                Some((key, _)) if !key.is_empty() => {}
                _ => return Err(CmdlineError::NotKeyValue((*word).to_owned())),
            }
        }
        Ok(BootCmdline(words.join(" ")))
    }

    /// The command line that runs one test group: `test=<group>`.
    pub fn run_group(group: &str) -> Result<Self, CmdlineError> {
        Self::try_new(&format!("test={group}"))
    }

    /// The command line that makes the kernel list its test cases: `test=list`.
    pub fn list_tests() -> Self {
        BootCmdline("test=list".to_owned())
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when there are no options at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for BootCmdline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Escapes a value for QEMU's `key=value,key=value` option syntax, where a
/// literal comma is written as two.
pub fn escape_option_value(value: &str) -> String {
    value.replace(',', ",,")
}

/// Where the guest's serial console goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    /// Serial port on QEMU's stdout, read by the test runner through a pipe;
    /// stdin is closed so nothing can reach the guest by accident.
    Captured,
    /// Serial port and QEMU monitor multiplexed on the terminal
    /// (`-serial mon:stdio`: Ctrl-A X quits, Ctrl-A C toggles the monitor).
    Interactive,
}

/// Why QEMU could not be started or watched.
#[derive(Debug, thiserror::Error)]
pub enum QemuError {
    /// The QEMU binary is not installed (or not on `PATH`).
    #[error(
        "`{binary}` was not found on PATH; install QEMU and OVMF with \
         `sudo apt-get install {packages}` or run `cargo xtask setup`",
        packages = DEBIAN_PACKAGES.join(" ")
    )]
    QemuMissing {
        /// The program name that was looked up.
        binary: String,
    },
    /// The disk image does not exist.
    #[error("disk image {0} does not exist; `cargo xtask build` makes it")]
    ImageMissing(PathBuf),
    /// The UEFI firmware is not installed.
    #[error(
        "UEFI firmware {0} does not exist; install it with `sudo apt-get install ovmf` \
         or run `cargo xtask setup`"
    )]
    FirmwareMissing(PathBuf),
    /// A path that QEMU's option syntax cannot carry as text.
    #[error("path {0} is not valid UTF-8, which QEMU's option syntax needs")]
    NonUtf8Path(PathBuf),
    /// The saved machine state to start from does not exist.
    #[error("saved machine state {0} does not exist")]
    StateMissing(PathBuf),
    /// The virtio disk file does not exist, or the scratch disk could not
    /// be made.
    #[error("virtio disk {path}: {source}")]
    Disk {
        /// The disk file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// Starting QEMU failed for another reason.
    #[error("could not start `{binary}`: {source}")]
    Spawn {
        /// The program that was started.
        binary: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// Waiting for or killing QEMU failed.
    #[error("could not wait for or stop QEMU (pid {pid}): {source}")]
    Wait {
        /// QEMU's process id.
        pid: u32,
        /// What the operating system said.
        source: io::Error,
    },
}

/// One QEMU invocation: which image, which firmware, which boot options,
/// where the console goes. The only place the QEMU command line is built.
#[derive(Debug, Clone)]
pub struct QemuCommand {
    binary: String,
    firmware: Firmware,
    image: PathBuf,
    ovmf: PathBuf,
    cmdline: BootCmdline,
    console: Console,
    count_instructions: bool,
    incoming: Option<PathBuf>,
    qmp: Option<SocketAddr>,
    disk: Option<VirtioDisk>,
}

impl QemuCommand {
    /// A captured-console boot of `image` with `firmware` and no boot options.
    pub fn new(firmware: Firmware, image: impl Into<PathBuf>) -> Self {
        QemuCommand {
            binary: QEMU_BINARY.to_owned(),
            firmware,
            image: image.into(),
            ovmf: PathBuf::from(OVMF_PATH),
            cmdline: BootCmdline::default(),
            console: Console::Captured,
            count_instructions: false,
            incoming: None,
            qmp: None,
            disk: None,
        }
    }

    /// Starts the guest from the machine state saved in `state` (a QEMU
    /// migration stream, as `migrate` writes it) instead of booting it:
    /// `-incoming exec:cat STATE`. The rest of the command line must match
    /// the one of the QEMU that saved it (same memory, devices and drive),
    /// except for fw_cfg files, which come from this command line, not from
    /// the saved state. Many QEMUs can start from one file at once.
    pub fn incoming(mut self, state: impl Into<PathBuf>) -> Self {
        self.incoming = Some(state.into());
        self
    }

    /// Connects QEMU's QMP monitor to `address` (`-qmp tcp:ADDRESS`): QEMU
    /// is the client, so the host listens there before starting QEMU, and
    /// QEMU fails at start if nobody does.
    pub fn qmp_client(mut self, address: SocketAddr) -> Self {
        self.qmp = Some(address);
        self
    }

    /// Attaches the raw image `path` as a legacy virtio-blk disk (PCI,
    /// `disable-modern=on`) whose writes persist: the boot image alone is
    /// then protected by a per-drive `snapshot=on` instead of `-snapshot`.
    /// For `cargo xtask run --disk FILE`, and later the `blk` server's
    /// persistence across reboots. Two QEMUs cannot share such a file.
    pub fn disk(mut self, path: impl Into<PathBuf>) -> Self {
        self.disk = Some(VirtioDisk { path: path.into(), persistent: true });
        self
    }

    /// Attaches a blank scratch disk, [`SCRATCH_DISK_BYTES`] of zeros in
    /// `dir/`[`SCRATCH_DISK_FILE_NAME`] (made on the first spawn), as a
    /// legacy virtio-blk disk. Its writes go to QEMU's temporary overlay
    /// (`-snapshot`), so every boot sees it blank and parallel boots share
    /// the one file: what the in-QEMU tests use.
    pub fn scratch_disk(mut self, dir: impl AsRef<Path>) -> Self {
        let path = dir.as_ref().join(SCRATCH_DISK_FILE_NAME);
        self.disk = Some(VirtioDisk { path, persistent: false });
        self
    }

    /// The saved machine state this command starts from, if any.
    pub fn incoming_state(&self) -> Option<&Path> {
        self.incoming.as_deref()
    }

    /// Runs the guest under `-icount shift=0`: its clock advances one
    /// nanosecond per instruction, so time measured in the guest is a count
    /// of guest instructions, the same on any host (for benchmarks).
    pub fn count_instructions(mut self, on: bool) -> Self {
        self.count_instructions = on;
        self
    }

    /// Sets the kernel's boot options.
    pub fn cmdline(mut self, cmdline: BootCmdline) -> Self {
        self.cmdline = cmdline;
        self
    }

    /// Sets where the serial console goes.
    pub fn console(mut self, console: Console) -> Self {
        self.console = console;
        self
    }

    /// Uses another QEMU binary (a path, or a name looked up on `PATH`).
    pub fn binary(mut self, binary: impl Into<String>) -> Self {
        self.binary = binary.into();
        self
    }

    /// Uses another UEFI firmware file.
    pub fn ovmf(mut self, ovmf: impl Into<PathBuf>) -> Self {
        self.ovmf = ovmf.into();
        self
    }

    /// The firmware this command boots with.
    pub fn firmware(&self) -> Firmware {
        self.firmware
    }

    /// The disk image this command boots.
    pub fn image(&self) -> &Path {
        &self.image
    }

    /// The QEMU program name or path.
    pub fn program(&self) -> &str {
        &self.binary
    }

    /// The argument list (without the program name).
    pub fn args(&self) -> Result<Vec<String>, QemuError> {
        let image = path_text(&self.image)?;
        let serial = match self.console {
            Console::Captured => "stdio",
            Console::Interactive => "mon:stdio",
        };
        let mut args: Vec<String> = vec![
            "-drive".into(),
            format!("format=raw,file={}", escape_option_value(image)),
            // Writes go to a temporary overlay: the image stays pristine and
            // parallel boots of one image do not fight over its lock.
            "-snapshot".into(),
            "-serial".into(),
            serial.into(),
            "-display".into(),
            "none".into(),
            // A guest reset (triple fault) ends QEMU instead of rebooting forever.
            "-no-reboot".into(),
            "-m".into(),
            GUEST_MEMORY.into(),
            "-smp".into(),
            GUEST_CPUS.to_string(),
            "-cpu".into(),
            "max".into(),
            "-device".into(),
            format!("isa-debug-exit,iobase={EXIT_PORT:#x},iosize={EXIT_PORT_BYTES:#04x}"),
        ];
        if self.count_instructions {
            args.push("-icount".into());
            args.push("shift=0".into());
        }
        if self.firmware == Firmware::Uefi {
            args.push("-bios".into());
            args.push(path_text(&self.ovmf)?.to_owned());
        }
        if !self.cmdline.is_empty() {
            args.push("-fw_cfg".into());
            args.push(format!(
                "name={CMDLINE_FW_CFG_NAME},string={}",
                escape_option_value(self.cmdline.as_str())
            ));
        }
        if let Some(address) = self.qmp {
            args.push("-qmp".into());
            args.push(format!("tcp:{address}"));
        }
        if let Some(disk) = &self.disk {
            if disk.persistent {
                // Only the boot image is protected; the disk keeps writes.
                args.retain(|a| a != "-snapshot");
                if let Some(boot) = args.iter_mut().find(|a| a.starts_with("format=raw,file=")) {
                    boot.push_str(",snapshot=on");
                }
            }
            args.push("-drive".into());
            args.push(format!(
                "file={},if=none,id={VIRTIO_DISK_ID},format=raw",
                escape_option_value(path_text(&disk.path)?)
            ));
            args.push("-device".into());
            args.push(format!("virtio-blk-pci,drive={VIRTIO_DISK_ID},disable-modern=on"));
        }
        if let Some(state) = &self.incoming {
            // QEMU runs the command with `/bin/sh -c`. It reads the stream
            // to its end before the guest runs, so `cat` is done with the
            // file by then (QEMU's `exec:` reader is killed on close).
            args.push("-incoming".into());
            args.push(format!("exec:cat {}", shell_quote(path_text(state)?)));
        }
        Ok(args)
    }

    /// Checks the image and firmware exist, then starts QEMU.
    ///
    /// Captured: stdin closed, stdout and stderr piped (take them with
    /// [`QemuProcess::take_stdout`] / [`QemuProcess::take_stderr`]).
    /// Interactive: all three inherited from this process.
    pub fn spawn(&self) -> Result<QemuProcess, QemuError> {
        if !self.image.is_file() {
            return Err(QemuError::ImageMissing(self.image.clone()));
        }
        if self.firmware == Firmware::Uefi && !self.ovmf.is_file() {
            return Err(QemuError::FirmwareMissing(self.ovmf.clone()));
        }
        if let Some(state) = self.incoming.as_ref().filter(|state| !state.is_file()) {
            return Err(QemuError::StateMissing(state.clone()));
        }
        if let Some(disk) = &self.disk {
            disk.prepare()?;
        }
        let mut command = Command::new(&self.binary);
        command.args(self.args()?);
        match self.console {
            Console::Captured => {
                command
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
            }
            Console::Interactive => {
                command
                    .stdin(Stdio::inherit())
                    .stdout(Stdio::inherit())
                    .stderr(Stdio::inherit());
            }
        }
        die_with_parent(&mut command);
        let child = command.spawn().map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                QemuError::QemuMissing {
                    binary: self.binary.clone(),
                }
            } else {
                QemuError::Spawn {
                    binary: self.binary.clone(),
                    source,
                }
            }
        })?;
        Ok(QemuProcess {
            pid: child.id(),
            child,
            exit: None,
        })
    }
}

/// File name of the scratch disk [`QemuCommand::scratch_disk`] attaches.
pub const SCRATCH_DISK_FILE_NAME: &str = "scratch-disk.img";

/// Bytes of the scratch disk: 2,048 sectors of 512 bytes, room for the
/// tests' writes; a sparse file, so it costs no space.
pub const SCRATCH_DISK_BYTES: u64 = 1 << 20;

/// The QEMU drive id of the virtio disk.
const VIRTIO_DISK_ID: &str = "lazarus-disk";

/// A raw disk image attached as a legacy virtio-blk PCI device.
#[derive(Debug, Clone, PartialEq, Eq)]
struct VirtioDisk {
    path: PathBuf,
    /// Writes reach the file (else the `-snapshot` overlay takes them and
    /// the file is made blank if missing).
    persistent: bool,
}

impl VirtioDisk {
    /// Checks a persistent disk exists; makes a missing scratch disk,
    /// atomically (a temporary file renamed into place), so parallel
    /// spawns never see half a file.
    fn prepare(&self) -> Result<(), QemuError> {
        let error = |source| QemuError::Disk { path: self.path.clone(), source };
        if self.path.is_file() {
            return Ok(());
        }
        if self.persistent {
            return Err(error(io::Error::new(io::ErrorKind::NotFound, "no such file")));
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(error)?;
        }
        let temporary = self.path.with_extension(format!("tmp{}", std::process::id()));
        let file = std::fs::File::create(&temporary).map_err(error)?;
        file.set_len(SCRATCH_DISK_BYTES).map_err(error)?;
        drop(file);
        std::fs::rename(&temporary, &self.path).map_err(error)
    }
}

impl fmt::Display for QemuCommand {
    /// The command as a shell would take it (for logs and `cargo xtask run`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&shell_quote(&self.binary))?;
        match self.args() {
            Ok(args) => {
                for arg in args {
                    write!(f, " {}", shell_quote(&arg))?;
                }
                Ok(())
            }
            Err(e) => write!(f, " <{e}>"),
        }
    }
}

/// Quotes `word` for a POSIX shell when it has anything but safe characters.
fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn path_text(path: &Path) -> Result<&str, QemuError> {
    path.to_str()
        .ok_or_else(|| QemuError::NonUtf8Path(path.to_owned()))
}

/// Makes the kernel send SIGKILL to QEMU when the thread that spawned it dies
/// (Linux `PR_SET_PDEATHSIG`), so even a runner killed by a signal leaves no
/// QEMU behind. The runner waits for QEMU on the spawning thread, which
/// therefore outlives the child in normal operation.
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;

    let parent = std::process::id();
    let hook = move || -> io::Result<()> {
        // SAFETY: prctl(PR_SET_PDEATHSIG, sig) only sets a flag on the calling
        // process; it takes no pointers and is async-signal-safe, as code
        // between fork and exec must be.
        if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: getppid has no arguments and cannot fail.
        let now_parent = unsafe { libc::getppid() };
        // The parent may have died before the flag was set; then nothing
        // would kill the orphan, so refuse to exec (without allocating).
        if u32::try_from(now_parent).ok() != Some(parent) {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        Ok(())
    };
    // SAFETY: `hook` runs in the forked child before exec and only makes the
    // async-signal-safe system calls above; it allocates nothing and touches
    // no locks or shared state.
    unsafe {
        command.pre_exec(hook);
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}

/// A running QEMU. Dropping it kills and reaps QEMU unless it already exited.
#[derive(Debug)]
pub struct QemuProcess {
    child: Child,
    pid: u32,
    exit: Option<ExitStatus>,
}

impl QemuProcess {
    /// QEMU's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Takes QEMU's stdout (the serial console), if it was captured.
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// Takes QEMU's stderr, if it was captured.
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// Returns QEMU's exit status if it has exited, without blocking.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>, QemuError> {
        if self.exit.is_none() {
            self.exit = self
                .child
                .try_wait()
                .map_err(|source| self.wait_error(source))?;
        }
        Ok(self.exit)
    }

    /// Blocks until QEMU exits.
    pub fn wait(&mut self) -> Result<ExitStatus, QemuError> {
        if let Some(status) = self.exit {
            return Ok(status);
        }
        let status = self
            .child
            .wait()
            .map_err(|source| self.wait_error(source))?;
        self.exit = Some(status);
        Ok(status)
    }

    /// Kills QEMU (SIGKILL) and reaps it; a no-op if it already exited.
    pub fn kill(&mut self) -> Result<ExitStatus, QemuError> {
        if let Some(status) = self.try_wait()? {
            return Ok(status);
        }
        if let Err(source) = self.child.kill() {
            // It may have exited between the check and the kill.
            if self.try_wait()?.is_none() {
                return Err(self.wait_error(source));
            }
        }
        self.wait()
    }

    fn wait_error(&self, source: io::Error) -> QemuError {
        QemuError::Wait {
            pid: self.pid,
            source,
        }
    }
}

impl Drop for QemuProcess {
    fn drop(&mut self) {
        if self.exit.is_none() {
            // Nothing to report from a destructor: the kill is best effort,
            // and the reap afterwards keeps no zombie.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// True if a process with this id exists (it may be a zombie).
#[cfg(unix)]
pub fn pid_is_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 sends nothing; it only checks that the
    // process exists and may be signalled. No memory is involved.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// True if a process with this id exists (always false where unsupported).
#[cfg(not(unix))]
pub fn pid_is_alive(_pid: u32) -> bool {
    false
}

/// Finds `program` in the folders of `PATH`, as a shell would.
pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return path.is_file().then_some(path);
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// How QEMU ended, read through the `isa-debug-exit` contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QemuExit {
    /// The kernel wrote [`KERNEL_EXIT_SUCCESS`]: status 33.
    KernelSuccess,
    /// The kernel wrote [`KERNEL_EXIT_FAILURE`]: status 35.
    KernelFailure,
    /// Status 0: the guest reset (with `-no-reboot`, probably a triple
    /// fault), or someone quit QEMU from its monitor.
    GuestReset,
    /// Any other status: QEMU itself failed (1), or an unknown exit byte.
    Status(i32),
    /// QEMU was killed by a signal.
    Signal(i32),
}

impl QemuExit {
    /// Decodes a process exit status.
    pub fn from_status(status: ExitStatus) -> Self {
        if let Some(code) = status.code() {
            return Self::from_code(code);
        }
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            if let Some(signal) = status.signal() {
                return QemuExit::Signal(signal);
            }
        }
        QemuExit::Status(-1)
    }

    /// Decodes an exit code.
    pub fn from_code(code: i32) -> Self {
        match code {
            c if c == debug_exit_status(KERNEL_EXIT_SUCCESS) => QemuExit::KernelSuccess,
            c if c == debug_exit_status(KERNEL_EXIT_FAILURE) => QemuExit::KernelFailure,
            GUEST_RESET_STATUS => QemuExit::GuestReset,
            other => QemuExit::Status(other),
        }
    }
}

impl fmt::Display for QemuExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QemuExit::KernelSuccess => write!(
                f,
                "exit status {} (kernel reported success)",
                debug_exit_status(KERNEL_EXIT_SUCCESS)
            ),
            QemuExit::KernelFailure => write!(
                f,
                "exit status {} (kernel reported failure)",
                debug_exit_status(KERNEL_EXIT_FAILURE)
            ),
            QemuExit::GuestReset => write!(
                f,
                "exit status {GUEST_RESET_STATUS} (guest reset, probably a triple fault)"
            ),
            QemuExit::Status(code) => write!(
                f,
                "exit status {code} (neither kernel success nor failure; QEMU itself may have failed)"
            ),
            QemuExit::Signal(signal) => write!(f, "killed by signal {signal}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg_after<'a>(args: &'a [String], flag: &str) -> Vec<&'a str> {
        args.windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].as_str())
            .collect()
    }

    #[test]
    fn exit_statuses_follow_the_debug_exit_formula() {
        assert_eq!(debug_exit_status(KERNEL_EXIT_SUCCESS), 33);
        assert_eq!(debug_exit_status(KERNEL_EXIT_FAILURE), 35);
        assert_eq!(QemuExit::from_code(33), QemuExit::KernelSuccess);
        assert_eq!(QemuExit::from_code(35), QemuExit::KernelFailure);
        assert_eq!(QemuExit::from_code(0), QemuExit::GuestReset);
        assert_eq!(QemuExit::from_code(1), QemuExit::Status(1));
        assert!(QemuExit::GuestReset.to_string().contains("triple fault"));
    }

    #[test]
    fn bios_command_has_the_fixed_options_and_no_firmware() {
        let args = QemuCommand::new(Firmware::Bios, "/imgs/bios.img")
            .args()
            .unwrap();
        assert_eq!(
            arg_after(&args, "-drive"),
            ["format=raw,file=/imgs/bios.img"]
        );
        assert_eq!(arg_after(&args, "-serial"), ["stdio"]);
        assert_eq!(arg_after(&args, "-display"), ["none"]);
        assert_eq!(arg_after(&args, "-m"), ["256M"]);
        assert_eq!(arg_after(&args, "-smp"), ["1"]);
        assert_eq!(arg_after(&args, "-cpu"), ["max"]);
        assert_eq!(
            arg_after(&args, "-device"),
            ["isa-debug-exit,iobase=0xf4,iosize=0x04"]
        );
        assert!(args.iter().any(|a| a == "-snapshot"));
        assert!(args.iter().any(|a| a == "-no-reboot"));
        assert!(arg_after(&args, "-bios").is_empty());
        assert!(arg_after(&args, "-fw_cfg").is_empty());
    }

    #[test]
    fn uefi_interactive_command_adds_ovmf_and_the_monitor() {
        let args = QemuCommand::new(Firmware::Uefi, "u.img")
            .console(Console::Interactive)
            .args()
            .unwrap();
        assert_eq!(arg_after(&args, "-bios"), [OVMF_PATH]);
        assert_eq!(arg_after(&args, "-serial"), ["mon:stdio"]);
    }

    #[test]
    fn cmdline_goes_into_fw_cfg_with_commas_doubled() {
        let cmdline = BootCmdline::try_new("test=list  log=a,b").unwrap();
        assert_eq!(cmdline.as_str(), "test=list log=a,b");
        let args = QemuCommand::new(Firmware::Bios, "/a,b/bios.img")
            .cmdline(cmdline)
            .args()
            .unwrap();
        assert_eq!(
            arg_after(&args, "-fw_cfg"),
            ["name=opt/lazarus/cmdline,string=test=list log=a,,b"]
        );
        assert_eq!(
            arg_after(&args, "-drive"),
            ["format=raw,file=/a,,b/bios.img"]
        );
    }

    #[test]
    fn cmdline_validation() {
        assert_eq!(BootCmdline::try_new("").unwrap(), BootCmdline::default());
        assert_eq!(
            BootCmdline::run_group("memory").unwrap().as_str(),
            "test=memory"
        );
        assert_eq!(BootCmdline::list_tests().as_str(), "test=list");
        assert_eq!(
            BootCmdline::try_new("test=x\nevil=1"),
            Err(CmdlineError::BadCharacter('\n'))
        );
        assert_eq!(
            BootCmdline::try_new("verbose"),
            Err(CmdlineError::NotKeyValue("verbose".into()))
        );
        assert_eq!(
            BootCmdline::try_new("=1"),
            Err(CmdlineError::NotKeyValue("=1".into()))
        );
        assert!(BootCmdline::try_new("k=").is_ok());
        assert!(BootCmdline::run_group("a b").is_err());
    }

    #[test]
    fn firmware_names_round_trip() {
        for fw in Firmware::ALL {
            assert_eq!(fw.name().parse::<Firmware>(), Ok(fw));
        }
        assert_eq!(" UEFI ".parse::<Firmware>(), Ok(Firmware::Uefi));
        assert!("coreboot".parse::<Firmware>().is_err());
        assert_eq!(Firmware::Uefi.image_file_name(), "uefi.img");
    }

    #[test]
    fn a_restored_machine_reads_its_state_with_cat_and_keeps_its_own_fw_cfg() {
        let plain = QemuCommand::new(Firmware::Bios, "/x/bios.img").args().unwrap();
        assert!(arg_after(&plain, "-incoming").is_empty());
        assert!(arg_after(&plain, "-qmp").is_empty());
        let command = QemuCommand::new(Firmware::Bios, "/x/bios.img")
            .cmdline(BootCmdline::try_new("trial=3").unwrap())
            .incoming("/c/it's here/ready.state");
        assert_eq!(command.incoming_state(), Some(Path::new("/c/it's here/ready.state")));
        let args = command.args().unwrap();
        assert_eq!(arg_after(&args, "-incoming"), [r"exec:cat '/c/it'\''s here/ready.state'"]);
        assert_eq!(arg_after(&args, "-fw_cfg"), ["name=opt/lazarus/cmdline,string=trial=3"]);
        // Everything else is the command line of a boot, which the saved
        // machine must match.
        let booted = QemuCommand::new(Firmware::Bios, "/x/bios.img")
            .cmdline(BootCmdline::try_new("trial=3").unwrap())
            .args()
            .unwrap();
        assert_eq!(args[..args.len() - 2], booted[..]);
        let missing = QemuCommand::new(Firmware::Bios, std::env::current_exe().unwrap())
            .incoming("/nonexistent/ready.state")
            .spawn();
        assert!(matches!(missing, Err(QemuError::StateMissing(_))));
    }

    #[test]
    fn disks_attach_as_legacy_virtio_blk() {
        let scratch = QemuCommand::new(Firmware::Bios, "/i/bios.img")
            .scratch_disk("/logs")
            .args()
            .unwrap();
        assert_eq!(
            arg_after(&scratch, "-drive"),
            [
                "format=raw,file=/i/bios.img",
                "file=/logs/scratch-disk.img,if=none,id=lazarus-disk,format=raw"
            ]
        );
        assert!(arg_after(&scratch, "-device")
            .contains(&"virtio-blk-pci,drive=lazarus-disk,disable-modern=on"));
        assert!(scratch.iter().any(|a| a == "-snapshot"), "scratch writes stay in the overlay");
        let kept = QemuCommand::new(Firmware::Bios, "/i/bios.img")
            .disk("/d/disk,1.img")
            .args()
            .unwrap();
        assert!(!kept.iter().any(|a| a == "-snapshot"), "the disk keeps its writes");
        assert_eq!(
            arg_after(&kept, "-drive"),
            [
                "format=raw,file=/i/bios.img,snapshot=on",
                "file=/d/disk,,1.img,if=none,id=lazarus-disk,format=raw"
            ]
        );
    }

    #[test]
    fn scratch_disk_is_made_once_and_a_missing_disk_is_an_error() {
        let dir = std::env::temp_dir().join(format!("lazarus-scratch-{}", std::process::id()));
        let disk = VirtioDisk { path: dir.join(SCRATCH_DISK_FILE_NAME), persistent: false };
        disk.prepare().unwrap();
        assert_eq!(std::fs::metadata(&disk.path).unwrap().len(), SCRATCH_DISK_BYTES);
        disk.prepare().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let missing = QemuCommand::new(Firmware::Bios, std::env::current_exe().unwrap())
            .disk("/nonexistent/disk.img")
            .spawn();
        assert!(matches!(missing, Err(QemuError::Disk { .. })));
    }

    #[test]
    fn qmp_connects_to_the_host() {
        let address: SocketAddr = "127.0.0.1:4444".parse().unwrap();
        let args = QemuCommand::new(Firmware::Bios, "b.img")
            .qmp_client(address)
            .args()
            .unwrap();
        assert_eq!(arg_after(&args, "-qmp"), ["tcp:127.0.0.1:4444"]);
    }

    #[test]
    fn display_quotes_what_a_shell_would_split() {
        let shown = QemuCommand::new(Firmware::Bios, "/x/bios.img")
            .cmdline(BootCmdline::try_new("a=1 b=2").unwrap())
            .to_string();
        assert!(shown.starts_with("qemu-system-x86_64 -drive format=raw,file=/x/bios.img "));
        assert!(shown.ends_with("'name=opt/lazarus/cmdline,string=a=1 b=2'"));
    }

    #[test]
    fn missing_image_and_qemu_are_errors_not_panics() {
        let missing = QemuCommand::new(Firmware::Bios, "/nonexistent/bios.img").spawn();
        assert!(matches!(missing, Err(QemuError::ImageMissing(_))));
        let exe = std::env::current_exe().unwrap();
        let no_qemu = QemuCommand::new(Firmware::Bios, exe)
            .binary("lazarus-no-such-qemu")
            .spawn();
        assert!(matches!(no_qemu, Err(QemuError::QemuMissing { .. })));
    }

    #[test]
    fn dropping_a_process_kills_it() {
        let child = Command::new("sleep")
            .arg("30")
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        let process = QemuProcess {
            pid,
            child,
            exit: None,
        };
        assert!(pid_is_alive(pid));
        drop(process);
        assert!(!pid_is_alive(pid));
    }
}
