//! Server specifications: what the registry is built from.
//!
//! Declarations name their dependencies by server name, in any order; the
//! registry resolves and checks them.

use alloc::vec::Vec;

use crate::policy::RestartPolicy;
use crate::server_name::ServerName;

/// One server as declared: its name, its restart policy, and the servers it
/// depends on (by name, declared in any order).
///
/// A server depends on another when it calls it, so it cannot start before
/// that one serves, and is restarted after it when an escalation restarts
/// dependents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSpec {
    name: ServerName,
    policy: RestartPolicy,
    depends_on: Vec<ServerName>,
}

impl ServerSpec {
    /// A server with no dependencies.
    pub fn new(name: ServerName, policy: RestartPolicy) -> Self {
        ServerSpec { name, policy, depends_on: Vec::new() }
    }

    /// This server, also depending on `dependency`.
    pub fn depends_on(mut self, dependency: ServerName) -> Self {
        if !self.depends_on.contains(&dependency) {
            self.depends_on.push(dependency);
        }
        self
    }

    /// The server's name.
    pub const fn name(&self) -> ServerName {
        self.name
    }

    /// Its restart policy.
    pub const fn policy(&self) -> RestartPolicy {
        self.policy
    }

    /// The servers it depends on.
    pub fn dependencies(&self) -> &[ServerName] {
        &self.depends_on
    }
}
