//! `trials.jsonl`: appending finished trials, reading them back, resuming.
//!
//! One JSON object per line, each ending in `\n`, appended as one write
//! and synced, so a crash (of the host, or of the runner) can only leave
//! the last line incomplete. Reading back reports such a *torn* last line
//! and leaves it out; [`ResultsWriter::open`] cuts it off before appending,
//! so the next record starts on a line of its own. Anything else that does
//! not parse is damage and an error, never silently skipped.
//!
//! A trial recorded twice with the same fault and outcome (a rerun) is kept
//! once; twice with different outcomes is a conflict and an error.
//!
//! One [`ResultsWriter`] per file: a runner with parallel QEMUs sends its
//! records to one writer.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use fault_inject::LocationMismatch;

use crate::record::{TrialKey, TrialRecord};

/// The results file's name inside a campaign's directory.
pub const TRIALS_FILE_NAME: &str = "trials.jsonl";

/// Why a results file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// The file system refused.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A complete line that is not a trial record.
    #[error("{path}:{line}: not a trial record: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What serde said.
        source: serde_json::Error,
    },
    /// A record whose location does not fit its model.
    #[error("{path}:{line}: {source}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The mismatch.
        source: LocationMismatch,
    },
    /// The same trial twice with different faults or outcomes.
    #[error("{path}:{line}: trial {key} is also on line {first_line} with another fault or outcome")]
    Conflict {
        /// The file.
        path: PathBuf,
        /// The trial.
        key: TrialKey,
        /// 1-based line of its first record.
        first_line: usize,
        /// 1-based line of the conflicting one.
        line: usize,
    },
    /// A record could not be turned into JSON.
    #[error("cannot serialise trial {key}: {source}")]
    Serialise {
        /// The trial.
        key: TrialKey,
        /// What serde said.
        source: serde_json::Error,
    },
}

/// An incomplete last line, left out of the records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TornTail {
    /// Its 1-based line number.
    pub line: usize,
    /// Its length in bytes.
    pub bytes: usize,
}

/// What a results file holds.
#[derive(Debug, Default)]
pub struct ReadBack {
    /// The records, in file order, each trial once.
    pub records: Vec<TrialRecord>,
    /// Duplicate records left out because they agreed with an earlier one.
    pub duplicates: usize,
    /// An incomplete last line, if there was one.
    pub torn_tail: Option<TornTail>,
    /// Bytes up to the end of the last complete line.
    complete_bytes: u64,
}

impl ReadBack {
    /// The trials already finished: what a resumed campaign skips.
    pub fn finished(&self) -> BTreeSet<TrialKey> {
        self.records.iter().map(TrialRecord::key).collect()
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ResultsError + '_ {
    move |source| ResultsError::Io { path: path.to_owned(), source }
}

/// Reads a results file; a file that does not exist yet holds nothing.
pub fn read_results(path: &Path) -> Result<ReadBack, ResultsError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(ReadBack::default()),
        Err(error) => return Err(io_error(path)(error)),
    };
    let mut read = ReadBack::default();
    let mut first_line_of: BTreeMap<TrialKey, (usize, usize)> = BTreeMap::new();
    let mut offset = 0;
    for (index, chunk) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        offset += chunk.len();
        let Some(text) = chunk.strip_suffix(b"\n") else {
            // Only the last chunk can lack its newline.
            read.torn_tail = Some(TornTail { line, bytes: chunk.len() });
            break;
        };
        read.complete_bytes = offset as u64;
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record: TrialRecord =
            serde_json::from_slice(text).map_err(|source| ResultsError::Parse { path: path.to_owned(), line, source })?;
        if let Err(source) = record.injection() {
            return Err(ResultsError::Invalid { path: path.to_owned(), line, source });
        }
        match first_line_of.get(&record.key()) {
            None => {
                first_line_of.insert(record.key(), (line, read.records.len()));
                read.records.push(record);
            }
            Some(&(_, at)) if read.records[at].agrees_with(&record) => read.duplicates += 1,
            Some(&(first_line, _)) => {
                return Err(ResultsError::Conflict { path: path.to_owned(), key: record.key(), first_line, line });
            }
        }
    }
    Ok(read)
}

/// Appends records to a results file.
#[derive(Debug)]
pub struct ResultsWriter {
    path: PathBuf,
    file: File,
}

impl ResultsWriter {
    /// Opens `path` for appending (creating it and its directory if
    /// needed) and returns what it already holds. A torn last line is cut
    /// off, and reported in the returned [`ReadBack`].
    pub fn open(path: &Path) -> Result<(Self, ReadBack), ResultsError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io_error(dir))?;
        }
        let read = read_results(path)?;
        if read.torn_tail.is_some() {
            let file = OpenOptions::new().write(true).open(path).map_err(io_error(path))?;
            file.set_len(read.complete_bytes).map_err(io_error(path))?;
            file.sync_all().map_err(io_error(path))?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(io_error(path))?;
        Ok((ResultsWriter { path: path.to_owned(), file }, read))
    }

    /// Appends one record as one line, written at once and synced to disk.
    pub fn append(&mut self, record: &TrialRecord) -> Result<(), ResultsError> {
        let mut line = serde_json::to_string(record)
            .map_err(|source| ResultsError::Serialise { key: record.key(), source })?;
        line.push('\n');
        self.file.write_all(line.as_bytes()).map_err(io_error(&self.path))?;
        self.file.sync_data().map_err(io_error(&self.path))
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;
    use crate::record::tests::record;
    use fault_inject::Config;

    fn temp_file() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("campaigns").join("c1").join(TRIALS_FILE_NAME);
        (dir, path)
    }

    #[test]
    fn appends_and_reads_back_and_knows_what_is_finished() {
        let (_dir, path) = temp_file();
        let (mut writer, before) = ResultsWriter::open(&path).unwrap();
        assert!(before.records.is_empty());
        let records = [
            record(0, Config::Unwind, Outcome::Recovered),
            record(0, Config::NoRecovery, Outcome::Hang),
            record(1, Config::Unwind, Outcome::Sdc),
        ];
        for rec in &records {
            writer.append(rec).unwrap();
        }
        let read = read_results(&path).unwrap();
        assert_eq!(read.records, records);
        assert_eq!(read.torn_tail, None);
        let finished: Vec<String> = read.finished().iter().map(|k| k.to_string()).collect();
        assert_eq!(finished, ["0/unwind", "0/none", "1/unwind"]);
        assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 3);
    }

    #[test]
    fn a_torn_last_line_is_reported_then_cut_off_on_resume() {
        let (_dir, path) = temp_file();
        let (mut writer, _) = ResultsWriter::open(&path).unwrap();
        writer.append(&record(0, Config::Unwind, Outcome::Recovered)).unwrap();
        drop(writer);
        let torn = r#"{"id":1,"seed":1,"config":"unw"#;
        OpenOptions::new().append(true).open(&path).unwrap().write_all(torn.as_bytes()).unwrap();

        let read = read_results(&path).unwrap();
        assert_eq!(read.records.len(), 1);
        assert_eq!(read.torn_tail, Some(TornTail { line: 2, bytes: torn.len() }));

        let (mut writer, read) = ResultsWriter::open(&path).unwrap();
        assert_eq!(read.torn_tail.map(|t| t.line), Some(2));
        writer.append(&record(1, Config::Unwind, Outcome::Hang)).unwrap();
        let read = read_results(&path).unwrap();
        assert_eq!(read.torn_tail, None);
        assert_eq!(read.records.iter().map(|r| r.id.0).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn a_damaged_complete_line_is_an_error_with_its_line_number() {
        let (_dir, path) = temp_file();
        let (mut writer, _) = ResultsWriter::open(&path).unwrap();
        writer.append(&record(0, Config::Unwind, Outcome::Recovered)).unwrap();
        OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"id\": oops}\n").unwrap();
        let error = read_results(&path).unwrap_err();
        assert!(matches!(error, ResultsError::Parse { line: 2, .. }), "{error}");
        assert!(error.to_string().contains("trials.jsonl:2"), "{error}");
    }

    #[test]
    fn reruns_are_kept_once_and_conflicting_reruns_are_refused() {
        let (_dir, path) = temp_file();
        let (mut writer, _) = ResultsWriter::open(&path).unwrap();
        let first = record(4, Config::Restart, Outcome::ClientError);
        let mut rerun = first.clone();
        rerun.duration_ms += 300;
        writer.append(&first).unwrap();
        writer.append(&rerun).unwrap();
        let read = read_results(&path).unwrap();
        assert_eq!((read.records.len(), read.duplicates), (1, 1));

        let mut other = first.clone();
        other.outcome = Outcome::Recovered;
        writer.append(&other).unwrap();
        let error = read_results(&path).unwrap_err();
        assert!(
            matches!(error, ResultsError::Conflict { first_line: 1, line: 3, key, .. } if key == first.key()),
            "{error}"
        );
    }

    #[test]
    fn a_record_whose_location_does_not_fit_its_model_is_refused() {
        let (_dir, path) = temp_file();
        let mut bad = record(0, Config::Unwind, Outcome::Recovered);
        bad.location = "rip.3".parse().unwrap();
        let (mut writer, _) = ResultsWriter::open(&path).unwrap();
        writer.append(&bad).unwrap();
        assert!(matches!(read_results(&path), Err(ResultsError::Invalid { line: 1, .. })));
    }

    #[test]
    fn a_missing_file_holds_nothing() {
        let (_dir, path) = temp_file();
        let read = read_results(&path).unwrap();
        assert!(read.records.is_empty() && read.torn_tail.is_none());
    }
}
