//! The `snapshot` clean state: boot once to where a trial starts, save the machine, restore it per trial.
//!
//! The save, once per run (`save`):
//!
//! 1. QEMU boots the campaign's image with the boot options
//!    `init=workload trial=await` and its QMP monitor connected to a
//!    port this process listens on (`-qmp tcp:127.0.0.1:PORT`). The kernel
//!    starts as for a trial, then, instead of starting the trusted address
//!    space, prints `snapshot: ready` and polls its fw_cfg options.
//! 2. On that line, QMP `migrate` sends the running machine (RAM, CPU and
//!    device state, about 8 MB of a 256 MiB guest, mostly empty) to a
//!    second port, and this process writes it to
//!    `snapshot/ready-PID.state` in the campaign folder. `query-migrate`
//!    says when it is complete; the stream must start with QEMU's magic.
//!    Then QMP `quit`.
//!
//! Each trial then starts QEMU with the command line of a booted trial plus
//! `-incoming exec:cat STATE` ([`QemuCommand::incoming`]): the machine
//! resumes where it was saved, in the waiting kernel, but fw_cfg now
//! carries the trial's options (fw_cfg files come from the command line,
//! not from the saved state). The kernel sees them, makes them its boot
//! options, prints `Lazarus … restored from a snapshot` (the banner line
//! the per-trial deadlines count from) and runs the trial as a booted one
//! would. Guest time goes on from the saved point: QEMU saves its virtual
//! clock and the TSC offset with the machine. Every QEMU reads the same
//! file; nothing of the saved machine is written back, because the disk
//! is opened with `-snapshot` as for every trial. The stream holds no disk
//! contents, and needs none: nothing writes the disk before the point
//! where the machine is saved, so the image is the disk it had.
//!
//! Why a migration stream and not `savevm`/`-loadvm`: `savevm` needs a
//! writable qcow2 drive, and each parallel QEMU would need its own copy
//! (an overlay per worker, reverted by every `-loadvm`); one stream file
//! serves any number of QEMUs at once and leaves the raw image untouched.
//! Why TCP to this process and not `migrate exec:cat > FILE`: QEMU kills
//! its `exec:` helper at once when it closes the stream (SIGTERM, then
//! SIGKILL 10 ms later), which can cut the last pipe-full of the state
//! off; reading from a socket here, the end of the stream is the end.
//!
//! The file is removed when the [`SavedState`] is dropped; a run killed
//! before that leaves it behind, and the next save in that folder removes
//! files of processes that no longer exist.
//!
//! [`QemuCommand::incoming`]: lazarus_tests::qemu::QemuCommand::incoming

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use lazarus_tests::qemu::{pid_is_alive, BootCmdline, QemuError, QemuExit, QemuProcess};
use lazarus_tests::runner::{Machine, LOG_NOTE_PREFIX};
use serde_json::{json, Value};

use crate::campaign::executor::{INIT_KEY, WORKLOAD_PROGRAM};
use crate::campaign::qmp::{Qmp, QmpError};

/// The `trial=` value that makes the kernel wait to be saved (kernel/src/system.rs).
pub const AWAIT_TRIAL: &str = "await";

/// Start of the line the kernel prints when it is ready to be saved
/// (kernel/src/system.rs).
pub const READY_MARKER: &str = "snapshot: ready";

/// The first bytes of every QEMU migration stream (`QEMU_VM_FILE_MAGIC`, "QEVM").
pub const STREAM_MAGIC: [u8; 4] = *b"QEVM";

/// Prefix and suffix of the saved state's file name: `ready-PID.state`.
const STATE_PREFIX: &str = "ready-";
const STATE_SUFFIX: &str = ".state";

/// How often the migration's status is asked for: it takes about 30 ms.
const MIGRATION_POLL: Duration = Duration::from_millis(10);

/// How often a connection from QEMU is looked for, and QEMU's exit with it.
const ACCEPT_POLL: Duration = Duration::from_millis(10);

/// How long QEMU gets to exit after `quit` before it is killed.
const QUIT_GRACE: Duration = Duration::from_secs(10);

/// Size of one copy from the migration socket to the file.
const COPY_CHUNK: usize = 64 * 1024;

/// The boot options of the boot that is saved: `init=workload trial=await`.
pub fn await_cmdline() -> BootCmdline {
    BootCmdline::try_new(&format!("{INIT_KEY}={WORKLOAD_PROGRAM} trial={AWAIT_TRIAL}"))
        .unwrap_or_else(|e| unreachable!("the await command line is valid: {e}"))
}

/// True for the kernel's line saying it is ready to be saved.
pub fn is_ready_line(line: &str) -> bool {
    line.trim_start().starts_with(READY_MARKER)
}

/// What `query-migrate` says about the migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationStatus {
    /// Still going (`setup`, `active`, `device`, …).
    Running,
    /// All of it was sent.
    Completed,
    /// It stopped: `failed` or `cancelled`, with QEMU's reason.
    Failed(String),
}

impl MigrationStatus {
    /// Reads `query-migrate`'s answer.
    pub fn from_reply(reply: &Value) -> MigrationStatus {
        match reply.get("status").and_then(Value::as_str) {
            Some("completed") => MigrationStatus::Completed,
            Some(status @ ("failed" | "cancelled" | "cancelling")) => {
                let why = reply.get("error-desc").and_then(Value::as_str).unwrap_or("no reason given");
                MigrationStatus::Failed(format!("{status}: {why}"))
            }
            _ => MigrationStatus::Running,
        }
    }
}

/// Why the clean state could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// QEMU could not be started.
    #[error(transparent)]
    Qemu(#[from] QemuError),
    /// A file or socket step failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// QEMU ended, or the time ran out, before the kernel was ready.
    #[error(
        "the kernel never printed `{READY_MARKER}` ({end}); a kernel without `trial=await` support runs the \
         workload instead: rebuild it"
    )]
    NotReady {
        /// How the boot ended.
        end: String,
    },
    /// QEMU never connected its monitor.
    #[error("QEMU did not connect its QMP monitor to {address} ({end})")]
    NoMonitor {
        /// Where it should have connected.
        address: SocketAddr,
        /// How the wait ended.
        end: String,
    },
    /// The monitor misbehaved or refused a command.
    #[error(transparent)]
    Qmp(#[from] QmpError),
    /// QEMU reported the migration failed, or it took too long.
    #[error("saving the machine failed: {0}")]
    Migration(String),
    /// What arrived is not a migration stream.
    #[error("the saved state ({bytes} bytes) does not start with QEMU's migration magic")]
    NotAStream {
        /// How much arrived.
        bytes: u64,
    },
}

/// A machine saved at the clean state; the file goes when this is dropped.
#[derive(Debug)]
pub struct SavedState {
    path: PathBuf,
    bytes: u64,
    took: Duration,
}

impl SavedState {
    /// The migration stream's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its size.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Wall-clock time from QEMU's start to the saved file.
    pub fn took(&self) -> Duration {
        self.took
    }
}

impl Drop for SavedState {
    fn drop(&mut self) {
        // Nothing to report from a destructor; a file left behind is
        // removed by the next save in this folder. The folder stays: a
        // replay may be saving its own state there.
        let _ = fs::remove_file(&self.path);
    }
}

/// Boots `machine` with `trial=await`, saves it once the kernel is ready,
/// and returns the saved state, in `dir` (created if needed). The boot's
/// serial log and the host's notes go to `log_path`. `timeout` bounds each
/// step: to the banner, from the banner to the ready line, and the save.
pub fn save(machine: &Machine, timeout: Duration, dir: &Path, log_path: &Path) -> Result<SavedState, SnapshotError> {
    let io_error = |what: String| move |source| SnapshotError::Io { what, source };
    fs::create_dir_all(dir).map_err(io_error(format!("creating {}", dir.display())))?;
    remove_stale(dir);
    if let Some(logs) = log_path.parent() {
        fs::create_dir_all(logs).map_err(io_error(format!("creating {}", logs.display())))?;
    }
    let mut log = File::create(log_path).map_err(io_error(format!("creating {}", log_path.display())))?;
    let saved = save_logged(machine, timeout, dir, &mut log);
    if let Err(error) = &saved {
        // The log is evidence only; the error is reported anyway.
        let _ = writeln!(log, "{LOG_NOTE_PREFIX} could not save the machine: {error}");
    }
    saved
}

/// [`save`], once its folder and log are there.
fn save_logged(machine: &Machine, timeout: Duration, dir: &Path, log: &mut File) -> Result<SavedState, SnapshotError> {
    let io_error = |what: String| move |source| SnapshotError::Io { what, source };
    let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let listen = |what: &str| {
        let listener = TcpListener::bind(loopback).map_err(io_error(format!("listening for QEMU's {what}")))?;
        let address = listener.local_addr().map_err(io_error(format!("listening for QEMU's {what}")))?;
        Ok::<_, SnapshotError>((listener, address))
    };
    let (monitor, monitor_address) = listen("QMP monitor")?;
    let (stream, stream_address) = listen("migration stream")?;

    let command = machine.command(await_cmdline()).qmp_client(monitor_address);
    writeln!(log, "{LOG_NOTE_PREFIX} {command}").map_err(io_error("writing the log".to_owned()))?;
    let started = Instant::now();
    // From here on `process` kills QEMU if anything below returns early.
    let mut process = command.spawn()?;
    let console = Console::capture(&mut process)?;
    let listeners = ((monitor, monitor_address), (stream, stream_address));
    let saved = save_running(&mut process, &console, log, started, timeout, dir, listeners);
    if saved.is_err() {
        // Its stderr ends once it is gone; nothing more to do if this fails.
        let _ = process.kill();
    }
    console.drain(log);
    console.write_stderr(log);
    saved
}

/// The two ports QEMU connects to: its QMP monitor, then the migration stream.
type Listeners = ((TcpListener, SocketAddr), (TcpListener, SocketAddr));

/// The steps of [`save`] while its QEMU runs.
fn save_running(
    process: &mut QemuProcess,
    console: &Console,
    log: &mut File,
    started: Instant,
    timeout: Duration,
    dir: &Path,
    ((monitor, monitor_address), (stream, stream_address)): Listeners,
) -> Result<SavedState, SnapshotError> {
    let io_error = |what: String| move |source| SnapshotError::Io { what, source };
    let qmp_stream = accept(&monitor, process, started + timeout)
        .map_err(|end| SnapshotError::NoMonitor { address: monitor_address, end })?;
    console.wait_until_ready(process, log, started, timeout)?;
    let mut qmp = Qmp::handshake(qmp_stream, timeout)?;

    let path = dir.join(format!("{STATE_PREFIX}{}{STATE_SUFFIX}", std::process::id()));
    // The file is removed if anything below fails.
    let mut saved = SavedState { path, bytes: 0, took: Duration::ZERO };
    let file = File::create(&saved.path).map_err(io_error(format!("creating {}", saved.path.display())))?;
    let save_deadline = Instant::now() + timeout;
    let receiver = thread::spawn(move || receive(&stream, file, save_deadline));
    qmp.execute("migrate", Some(&json!({ "uri": format!("tcp:{stream_address}") })))?;
    let status = loop {
        let status = MigrationStatus::from_reply(&qmp.execute("query-migrate", None)?);
        if status != MigrationStatus::Running {
            break status;
        }
        if Instant::now() >= save_deadline {
            break MigrationStatus::Failed(format!("not complete after {} s", timeout.as_secs()));
        }
        thread::sleep(MIGRATION_POLL);
    };
    if let MigrationStatus::Failed(why) = status {
        return Err(SnapshotError::Migration(why));
    }
    // QEMU closes the stream once it is complete; the receiver ends there.
    let received = receiver.join().unwrap_or_else(|_| Err(io::Error::other("the receiving thread panicked")));
    let (bytes, head) = received.map_err(io_error(format!("receiving the machine into {}", saved.path.display())))?;
    saved.bytes = bytes;
    saved.took = started.elapsed();
    if head != STREAM_MAGIC {
        return Err(SnapshotError::NotAStream { bytes });
    }

    // The answer to `quit` may be lost as QEMU closes the connection.
    let _ = qmp.send("quit");
    let end = match wait_or_kill(process, QUIT_GRACE)? {
        Some(status) if status.success() => "quit".to_owned(),
        Some(status) => format!("ended with {}", QemuExit::from_status(status)),
        None => format!("did not quit within {} s and was killed", QUIT_GRACE.as_secs()),
    };
    // The log is evidence only.
    let _ = writeln!(
        log,
        "{LOG_NOTE_PREFIX} saved the machine: {bytes} bytes in {:.2} s, to {}; QEMU then {end}",
        saved.took.as_secs_f64(),
        saved.path.display()
    );
    Ok(saved)
}

/// Removes saved states in `dir` left by processes that no longer run.
fn remove_stale(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix(STATE_PREFIX))
            .and_then(|n| n.strip_suffix(STATE_SUFFIX))
            .and_then(|n| n.parse::<u32>().ok());
        if pid.is_some_and(|pid| !pid_is_alive(pid)) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Waits for QEMU to connect to `listener`; gives up when QEMU exits or
/// at `deadline`, saying which.
fn accept(listener: &TcpListener, process: &mut QemuProcess, deadline: Instant) -> Result<TcpStream, String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).map_err(|e| e.to_string())?;
                return Ok(stream);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e.to_string()),
        }
        match process.try_wait() {
            Ok(Some(status)) => return Err(format!("QEMU ended with {}", QemuExit::from_status(status))),
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
        if Instant::now() >= deadline {
            return Err("timed out".to_owned());
        }
        thread::sleep(ACCEPT_POLL);
    }
}

/// Accepts QEMU's migration connection and copies the stream into `file`
/// until QEMU closes it; returns its length and first bytes (as many as
/// [`STREAM_MAGIC`] has).
fn receive(listener: &TcpListener, mut file: File, deadline: Instant) -> io::Result<(u64, Vec<u8>)> {
    listener.set_nonblocking(true)?;
    let mut stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => thread::sleep(ACCEPT_POLL),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "QEMU never connected to send the machine"))
            }
            Err(e) => return Err(e),
        }
    };
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(deadline.saturating_duration_since(Instant::now()).max(ACCEPT_POLL)))?;
    let mut head = Vec::with_capacity(STREAM_MAGIC.len());
    let mut total = 0u64;
    let mut chunk = vec![0u8; COPY_CHUNK];
    loop {
        let read = match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let wanted = STREAM_MAGIC.len() - head.len();
        head.extend(chunk[..read].iter().take(wanted));
        file.write_all(&chunk[..read])?;
        total += read as u64;
    }
    file.sync_all()?;
    Ok((total, head))
}

/// Waits up to `grace` for QEMU to exit, then kills it; its exit status,
/// or `None` if it had to be killed.
fn wait_or_kill(process: &mut QemuProcess, grace: Duration) -> Result<Option<ExitStatus>, QemuError> {
    let deadline = Instant::now() + grace;
    loop {
        if let Some(status) = process.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            process.kill()?;
            return Ok(None);
        }
        thread::sleep(ACCEPT_POLL);
    }
}

/// The serial console and stderr of the saved boot, each read on a thread
/// of its own.
struct Console {
    lines: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

impl Console {
    fn capture(process: &mut QemuProcess) -> Result<Console, SnapshotError> {
        let not_captured = || SnapshotError::Io {
            what: "reading QEMU's serial console".to_owned(),
            source: io::Error::other("the QEMU command does not capture it"),
        };
        let stdout = process.take_stdout().ok_or_else(not_captured)?;
        let mut stderr = process.take_stderr().ok_or_else(not_captured)?;
        let (stderr_sender, stderr_receiver) = mpsc::channel();
        thread::spawn(move || {
            let mut text = String::new();
            // A read error only shortens the evidence.
            let _ = stderr.read_to_string(&mut text);
            let _ = stderr_sender.send(text);
        });
        let (sender, lines) = mpsc::channel();
        // Detached: ends when QEMU closes its stdout, i.e. when it ends.
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut raw = Vec::new();
            while matches!(reader.read_until(b'\n', &mut raw), Ok(n) if n > 0) {
                let line = String::from_utf8_lossy(&raw).trim_end_matches(['\r', '\n']).replace('\r', "");
                if sender.send(line).is_err() {
                    return;
                }
                raw.clear();
            }
        });
        Ok(Console { lines, stderr: stderr_receiver })
    }

    /// Copies serial lines to the log until the ready line: `timeout` to
    /// the banner, `timeout` again after it.
    fn wait_until_ready(
        &self,
        process: &mut QemuProcess,
        log: &mut File,
        started: Instant,
        timeout: Duration,
    ) -> Result<(), SnapshotError> {
        let mut deadline = started + timeout;
        let mut banner = false;
        loop {
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    // The log is evidence only; a failed write must not stop the save.
                    let _ = writeln!(log, "{line}");
                    if is_ready_line(&line) {
                        return Ok(());
                    }
                    if !banner && line.contains(lazarus_tests::runner::BANNER_MARKER) {
                        banner = true;
                        deadline = Instant::now() + timeout;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    process.kill()?;
                    let end = format!("still not ready after {} s, killed", timeout.as_secs());
                    return Err(SnapshotError::NotReady { end });
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let end = match wait_or_kill(process, QUIT_GRACE)? {
                        Some(status) => format!("QEMU ended with {}", QemuExit::from_status(status)),
                        None => "QEMU closed its console and was killed".to_owned(),
                    };
                    return Err(SnapshotError::NotReady { end });
                }
            }
        }
    }

    /// Copies the lines still to come to the log (QEMU has ended).
    fn drain(&self, log: &mut File) {
        while let Ok(line) = self.lines.recv_timeout(QUIT_GRACE) {
            let _ = writeln!(log, "{line}");
        }
    }

    /// Notes QEMU's stderr in the log, if it wrote any (QEMU has ended).
    fn write_stderr(&self, log: &mut File) {
        let text = self.stderr.recv_timeout(QUIT_GRACE).unwrap_or_default();
        if !text.trim().is_empty() {
            let _ = writeln!(log, "{LOG_NOTE_PREFIX} QEMU stderr: {}", text.trim());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_saved_boot_waits_for_a_trial_and_the_host_knows_the_line() {
        assert_eq!(await_cmdline().as_str(), "init=workload trial=await");
        assert!(is_ready_line("snapshot: ready: waiting for a trial's options in fw_cfg opt/lazarus/cmdline"));
        assert!(is_ready_line("  snapshot: ready"));
        assert!(!is_ready_line("campaign: end"));
        assert!(!is_ready_line("the snapshot: ready soon"));
    }

    #[test]
    fn migration_status_follows_query_migrate() {
        let status = |reply: Value| MigrationStatus::from_reply(&reply);
        assert_eq!(status(json!({"status": "completed", "total-time": 28})), MigrationStatus::Completed);
        assert_eq!(status(json!({"status": "active"})), MigrationStatus::Running);
        assert_eq!(status(json!({"status": "setup"})), MigrationStatus::Running);
        assert_eq!(status(json!({})), MigrationStatus::Running);
        assert_eq!(
            status(json!({"status": "failed", "error-desc": "Connection refused"})),
            MigrationStatus::Failed("failed: Connection refused".into())
        );
        assert_eq!(status(json!({"status": "cancelled"})), MigrationStatus::Failed("cancelled: no reason given".into()));
    }

    #[test]
    fn a_received_stream_is_copied_whole_with_its_magic() {
        let temp = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let file = File::create(temp.path().join("s")).unwrap();
        let receiver = thread::spawn(move || receive(&listener, file, Instant::now() + Duration::from_secs(30)));
        let mut sender = TcpStream::connect(address).unwrap();
        let body: Vec<u8> = STREAM_MAGIC.iter().copied().chain((0..200_000u32).map(|i| i as u8)).collect();
        for piece in body.chunks(7001) {
            sender.write_all(piece).unwrap();
        }
        drop(sender);
        let (bytes, head) = receiver.join().unwrap().unwrap();
        assert_eq!((bytes, head.as_slice()), (body.len() as u64, &STREAM_MAGIC[..]));
        assert_eq!(fs::read(temp.path().join("s")).unwrap(), body);
    }

    #[test]
    fn only_states_of_dead_processes_are_removed() {
        let temp = tempfile::tempdir().unwrap();
        let mine = temp.path().join(format!("ready-{}.state", std::process::id()));
        // Pids are below 2^22 on Linux.
        let dead = temp.path().join("ready-4294967.state");
        let other = temp.path().join("notes.txt");
        for path in [&mine, &dead, &other] {
            fs::write(path, b"x").unwrap();
        }
        remove_stale(temp.path());
        assert!(mine.exists() && other.exists() && !dead.exists());
    }
}
