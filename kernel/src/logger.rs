//! The `log` backend: every record goes to the serial console with the time
//! since boot and its level.

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::time;

struct SerialLogger;

static LOGGER: SerialLogger = SerialLogger;

impl Log for SerialLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let us = time::uptime_us();
        let level = match record.level() {
            Level::Error => "ERROR",
            Level::Warn => "WARN ",
            Level::Info => "INFO ",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        };
        crate::kprintln!("[{:>5}.{:06}] {level} {}", us / 1_000_000, us % 1_000_000, record.args());
    }

    fn flush(&self) {}
}

/// Installs the logger at `level`; a second call only changes the level.
pub fn init(level: LevelFilter) {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

/// Parses a `log=` boot option value.
pub fn parse_level(value: &str) -> Option<LevelFilter> {
    value.parse().ok()
}
