//! The registry of servers: names, states, generations, policies, dependencies and fault histories.
//!
//! Built once from the servers' declarations, which it checks: unique
//! names, known dependencies, no cycle. Afterwards only the manager changes
//! it, and only in the ways the invariants allow. Proxies read it to
//! check every call ([`Registry::check_call`]).

use alloc::vec;
use alloc::vec::Vec;

use crate::error::{CallError, CyclePath, RegistryError};
use crate::generation::Generation;
use crate::history::FaultHistory;
use crate::policy::RestartPolicy;
use crate::server_id::ServerId;
use crate::server_name::ServerName;
use crate::spec::ServerSpec;
use crate::state::ServerState;
use crate::topology;

/// One server's entry.
///
/// # Invariants
/// - The generation only grows, by one step at a time.
/// - A dead server stays dead: no state replaces [`ServerState::Dead`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    name: ServerName,
    policy: RestartPolicy,
    dependencies: Vec<ServerId>,
    dependents: Vec<ServerId>,
    state: ServerState,
    generation: Generation,
    history: FaultHistory,
}

impl Server {
    /// The server's name.
    pub const fn name(&self) -> ServerName {
        self.name
    }

    /// Its restart policy.
    pub const fn policy(&self) -> &RestartPolicy {
        &self.policy
    }

    /// The servers it depends on, in start order.
    pub fn dependencies(&self) -> &[ServerId] {
        &self.dependencies
    }

    /// The servers that depend on it directly, in start order.
    pub fn dependents(&self) -> &[ServerId] {
        &self.dependents
    }

    /// Where it is in its life.
    pub const fn state(&self) -> ServerState {
        self.state
    }

    /// The generation of its current (or coming) instance.
    pub const fn generation(&self) -> Generation {
        self.generation
    }

    /// Its recent faults.
    pub const fn history(&self) -> &FaultHistory {
        &self.history
    }

    /// Moves to `state`, unless the server is dead (dead is final).
    pub(crate) fn set_state(&mut self, state: ServerState) {
        if !self.state.is_dead() {
            self.state = state;
        }
    }

    /// Moves to generation `to` if it is the next one; returns whether it was.
    pub(crate) fn advance_generation(&mut self, to: Generation) -> bool {
        let next = self.generation.next() == Ok(to);
        if next {
            self.generation = to;
        }
        next
    }

    pub(crate) fn history_mut(&mut self) -> &mut FaultHistory {
        &mut self.history
    }
}

/// Every server, with a start order that puts dependencies first.
///
/// ```
/// use recovery_manager::{Registry, RestartPolicy, ServerName, ServerSpec};
///
/// let name = |n| ServerName::try_new(n).unwrap();
/// let registry = Registry::try_new([
///     ServerSpec::new(name("fs"), RestartPolicy::immediate()).depends_on(name("blk")),
///     ServerSpec::new(name("blk"), RestartPolicy::immediate()),
/// ])
/// .unwrap();
/// let order: Vec<_> = registry.start_order().iter().map(|&id| registry.get(id).unwrap().name()).collect();
/// assert_eq!(order, [name("blk"), name("fs")]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registry {
    servers: Vec<Server>,
    order: Vec<ServerId>,
}

impl Registry {
    /// Builds a registry from declarations in any order. Every server
    /// starts in [`ServerState::Starting`] at [`Generation::FIRST`].
    pub fn try_new(specs: impl IntoIterator<Item = ServerSpec>) -> Result<Self, RegistryError> {
        let specs: Vec<ServerSpec> = specs.into_iter().collect();
        if specs.len() > usize::from(u16::MAX) + 1 {
            return Err(RegistryError::TooManyServers { count: specs.len() });
        }
        for (i, spec) in specs.iter().enumerate() {
            if specs[..i].iter().any(|earlier| earlier.name() == spec.name()) {
                return Err(RegistryError::DuplicateName(spec.name()));
            }
        }
        let index_of = |name: ServerName| specs.iter().position(|spec| spec.name() == name);
        let mut dependencies = Vec::with_capacity(specs.len());
        for spec in &specs {
            let mut resolved = Vec::with_capacity(spec.dependencies().len());
            for &dependency in spec.dependencies() {
                let index =
                    index_of(dependency).ok_or(RegistryError::UnknownDependency { server: spec.name(), dependency })?;
                resolved.push(index);
            }
            dependencies.push(resolved);
        }
        let order = topology::start_order(&dependencies)
            .map_err(|cycle| RegistryError::Cycle(CyclePath(cycle.into_iter().map(|i| specs[i].name()).collect())))?;

        let mut position = vec![0; specs.len()];
        for (place, &index) in order.iter().enumerate() {
            position[index] = place;
        }
        let id = |index: usize| ServerId::new(u16::try_from(index).unwrap_or(u16::MAX));
        let in_start_order = |mut ids: Vec<usize>| {
            ids.sort_by_key(|&i| position[i]);
            ids.into_iter().map(id).collect::<Vec<_>>()
        };
        let servers = specs
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                let dependents = (0..specs.len()).filter(|&other| dependencies[other].contains(&index)).collect();
                Server {
                    name: spec.name(),
                    policy: spec.policy(),
                    dependencies: in_start_order(dependencies[index].clone()),
                    dependents: in_start_order(dependents),
                    state: ServerState::Starting,
                    generation: Generation::FIRST,
                    history: FaultHistory::new(),
                }
            })
            .collect();
        Ok(Registry { servers, order: order.into_iter().map(id).collect() })
    }

    /// Servers registered.
    pub fn len(&self) -> usize {
        self.servers.len()
    }

    /// Whether no server is registered.
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// The server named `name`.
    pub fn id_of(&self, name: &str) -> Option<ServerId> {
        let index = self.servers.iter().position(|server| server.name.as_str() == name)?;
        u16::try_from(index).ok().map(ServerId::new)
    }

    /// A server's entry.
    pub fn get(&self, id: ServerId) -> Option<&Server> {
        self.servers.get(id.index())
    }

    /// Every server with its id, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (ServerId, &Server)> + '_ {
        // At most 65,536 servers (checked at construction): every index fits.
        self.servers
            .iter()
            .enumerate()
            .map(|(index, server)| (ServerId::new(u16::try_from(index).unwrap_or(u16::MAX)), server))
    }

    /// The order servers start in: each after every server it depends on,
    /// otherwise in declaration order.
    pub fn start_order(&self) -> &[ServerId] {
        &self.order
    }

    /// Every server that depends on `id`, directly or through others, in
    /// start order (so each comes after what it depends on).
    pub fn dependents_of(&self, id: ServerId) -> Vec<ServerId> {
        let mut affected = vec![false; self.servers.len()];
        if let Some(flag) = affected.get_mut(id.index()) {
            *flag = true;
        }
        let mut found = Vec::new();
        // In start order every dependency comes before its dependents, so
        // one pass sees each server after everything that could affect it.
        for &candidate in &self.order {
            let server = &self.servers[candidate.index()];
            if candidate != id && server.dependencies.iter().any(|d| affected[d.index()]) {
                affected[candidate.index()] = true;
                found.push(candidate);
            }
        }
        found
    }

    /// Whether a call made for generation `generation` of server `id` may
    /// go to its instance now.
    pub fn check_call(&self, id: ServerId, generation: Generation) -> Result<(), CallError> {
        let server = self.get(id).ok_or(CallError::Unknown)?;
        let current = server.generation;
        match server.state {
            ServerState::Dead { why } => Err(CallError::Dead { why }),
            _ if generation < current => Err(CallError::Stale { current }),
            _ if generation > current => Err(CallError::NotIssued { current }),
            ServerState::Serving => Ok(()),
            _ => Err(CallError::NotServing { current }),
        }
    }

    pub(crate) fn get_mut(&mut self, id: ServerId) -> Option<&mut Server> {
        self.servers.get_mut(id.index())
    }
}
