//! Just enough of QMP, QEMU's JSON monitor protocol, to save a running machine.
//!
//! The protocol (QEMU's `docs/interop/qmp-spec`): the server greets with
//! `{"QMP": {...}}`; the client sends `{"execute": "qmp_capabilities"}`
//! to leave negotiation mode, then one command at a time as
//! `{"execute": NAME, "arguments": {...}}`; each command gets exactly one
//! answer, `{"return": ...}` or `{"error": {"class": ..., "desc": ...}}`,
//! and asynchronous `{"event": ...}` messages may arrive in between. QEMU
//! writes one JSON object per line. QEMU connects to the host here
//! (`-qmp tcp:ADDRESS`, [`QemuCommand::qmp_client`]), so the host needs no
//! socket path and a stand-in QEMU can be a shell script.
//!
//! [`QemuCommand::qmp_client`]: lazarus_tests::qemu::QemuCommand::qmp_client

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

/// Why a QMP exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum QmpError {
    /// Reading or writing the connection failed, or it timed out.
    #[error("QMP connection: {0}")]
    Io(#[from] io::Error),
    /// QEMU closed the connection.
    #[error("QEMU closed the QMP connection")]
    Closed,
    /// A line that is not a QMP message.
    #[error("not a QMP message: {0:?}")]
    Garbled(String),
    /// The first message was not QEMU's greeting.
    #[error("expected QEMU's QMP greeting, got {0:?}")]
    NoGreeting(String),
    /// QEMU refused the command.
    #[error("QEMU refused `{command}`: {class}: {desc}")]
    Refused {
        /// The command.
        command: String,
        /// QMP's error class.
        class: String,
        /// QEMU's description.
        desc: String,
    },
}

/// One message from QEMU.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The greeting, first on a new connection.
    Greeting,
    /// A command's success, with its value.
    Return(Value),
    /// A command's failure.
    Error {
        /// QMP's error class (`GenericError`, `CommandNotFound`, …).
        class: String,
        /// What went wrong, in words.
        desc: String,
    },
    /// An asynchronous event (`STOP`, `MIGRATION`, …), by name.
    Event(String),
}

impl Message {
    /// Decodes one line from QEMU.
    pub fn parse(line: &str) -> Result<Message, QmpError> {
        let garbled = || QmpError::Garbled(line.trim_end().to_owned());
        let value: Value = serde_json::from_str(line).map_err(|_| garbled())?;
        let object = value.as_object().ok_or_else(garbled)?;
        if object.contains_key("QMP") {
            Ok(Message::Greeting)
        } else if let Some(value) = object.get("return") {
            Ok(Message::Return(value.clone()))
        } else if let Some(error) = object.get("error") {
            let text = |key| error.get(key).and_then(Value::as_str).unwrap_or("?").to_owned();
            Ok(Message::Error { class: text("class"), desc: text("desc") })
        } else if let Some(event) = object.get("event").and_then(Value::as_str) {
            Ok(Message::Event(event.to_owned()))
        } else {
            Err(garbled())
        }
    }
}

/// The command QEMU reads: `{"execute": NAME}`, with `arguments` if any.
pub fn command_line(command: &str, arguments: Option<&Value>) -> String {
    let mut message = json!({ "execute": command });
    if let Some(arguments) = arguments {
        message["arguments"] = arguments.clone();
    }
    format!("{message}\n")
}

/// A QMP connection in command mode.
#[derive(Debug)]
pub struct Qmp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Qmp {
    /// Reads the greeting on a fresh connection from QEMU and leaves
    /// negotiation mode; every read afterwards waits at most `timeout`.
    pub fn handshake(stream: TcpStream, timeout: Duration) -> Result<Qmp, QmpError> {
        stream.set_read_timeout(Some(timeout))?;
        let writer = stream.try_clone()?;
        let mut qmp = Qmp { reader: BufReader::new(stream), writer };
        let greeting = qmp.read_line()?;
        if Message::parse(&greeting).ok() != Some(Message::Greeting) {
            return Err(QmpError::NoGreeting(greeting.trim_end().to_owned()));
        }
        qmp.execute("qmp_capabilities", None)?;
        Ok(qmp)
    }

    /// Runs `command` and returns its value; events on the way are skipped.
    pub fn execute(&mut self, command: &str, arguments: Option<&Value>) -> Result<Value, QmpError> {
        self.writer.write_all(command_line(command, arguments).as_bytes())?;
        loop {
            match Message::parse(&self.read_line()?)? {
                Message::Return(value) => return Ok(value),
                Message::Error { class, desc } => {
                    return Err(QmpError::Refused { command: command.to_owned(), class, desc })
                }
                Message::Greeting | Message::Event(_) => {}
            }
        }
    }

    /// Sends `command` without waiting for an answer (for `quit`, whose
    /// answer may be lost as QEMU closes the connection).
    pub fn send(&mut self, command: &str) -> Result<(), QmpError> {
        Ok(self.writer.write_all(command_line(command, None).as_bytes())?)
    }

    fn read_line(&mut self) -> Result<String, QmpError> {
        let mut line = String::new();
        match self.reader.read_line(&mut line)? {
            0 => Err(QmpError::Closed),
            _ => Ok(line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    #[test]
    fn messages_decode_as_qemu_7_2_writes_them() {
        let greeting = r#"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian"}, "capabilities": ["oob"]}}"#;
        assert_eq!(Message::parse(greeting).unwrap(), Message::Greeting);
        assert_eq!(Message::parse("{\"return\": {}}\r\n").unwrap(), Message::Return(json!({})));
        let status = r#"{"return": {"status": "completed", "total-time": 28}}"#;
        assert_eq!(Message::parse(status).unwrap(), Message::Return(json!({"status": "completed", "total-time": 28})));
        let error = r#"{"error": {"class": "GenericError", "desc": "File descriptor named '3' has not been found"}}"#;
        assert_eq!(
            Message::parse(error).unwrap(),
            Message::Error { class: "GenericError".into(), desc: "File descriptor named '3' has not been found".into() }
        );
        let event = r#"{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}"#;
        assert_eq!(Message::parse(event).unwrap(), Message::Event("STOP".into()));
        assert!(matches!(Message::parse("lazarus> "), Err(QmpError::Garbled(_))));
        assert!(matches!(Message::parse("[1, 2]"), Err(QmpError::Garbled(_))));
        assert!(matches!(Message::parse(r#"{"id": 1}"#), Err(QmpError::Garbled(_))));
    }

    #[test]
    fn commands_are_one_json_line() {
        assert_eq!(command_line("quit", None), "{\"execute\":\"quit\"}\n");
        let line = command_line("migrate", Some(&json!({"uri": "tcp:127.0.0.1:9"})));
        assert_eq!(line, "{\"arguments\":{\"uri\":\"tcp:127.0.0.1:9\"},\"execute\":\"migrate\"}\n");
    }

    /// A QMP server that greets, then answers each line with the next of `answers`.
    fn server(answers: Vec<&'static str>) -> (TcpStream, thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let handle = thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            writer.write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n").unwrap();
            let mut received = Vec::new();
            for answer in answers {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                received.push(line.trim_end().to_owned());
                writer.write_all(answer.as_bytes()).unwrap();
            }
            received
        });
        (TcpStream::connect(address).unwrap(), handle)
    }

    #[test]
    fn a_session_negotiates_skips_events_and_reports_refusals() {
        let (stream, server) = server(vec![
            "{\"return\": {}}\r\n",
            "{\"event\": \"STOP\"}\r\n{\"return\": {\"status\": \"active\"}}\r\n",
            "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nope has not been found\"}}\r\n",
        ]);
        let mut qmp = Qmp::handshake(stream, Duration::from_secs(10)).unwrap();
        assert_eq!(qmp.execute("query-migrate", None).unwrap(), json!({"status": "active"}));
        let refused = qmp.execute("nope", None).unwrap_err();
        assert_eq!(refused.to_string(), "QEMU refused `nope`: CommandNotFound: The command nope has not been found");
        assert!(matches!(qmp.execute("quit", None), Err(QmpError::Closed)));
        let received = server.join().unwrap();
        assert_eq!(received, ["{\"execute\":\"qmp_capabilities\"}", "{\"execute\":\"query-migrate\"}", "{\"execute\":\"nope\"}"]);
    }

    #[test]
    fn something_else_than_qemu_is_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let other = thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream.write_all(b"SSH-2.0-OpenSSH\r\n").unwrap();
        });
        let error = Qmp::handshake(TcpStream::connect(address).unwrap(), Duration::from_secs(10)).unwrap_err();
        assert!(matches!(error, QmpError::NoGreeting(ref line) if line == "SSH-2.0-OpenSSH"), "{error}");
        other.join().unwrap();
    }
}
