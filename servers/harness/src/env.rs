//! [`TestEnv`]: an `Env` over plain memory, for host tests of servers.
//!
//! It keeps the kept-state region in a `Vec<u64>`, counts each injection
//! site's hits, panics at an armed site (an injected fault), and collects
//! console output.

use server_api::{Env, Server};

/// An `Env` over plain memory, for host tests.
#[derive(Debug, Default)]
pub struct TestEnv {
    /// The kept-state region.
    pub kept: Vec<u64>,
    /// Bytes the server wrote to the console.
    pub console: Vec<u8>,
    /// Hits of each site so far.
    hits: Vec<u64>,
    /// The armed fault: the site, and how many of its hits to let through
    /// before the one that faults.
    armed: Option<(u32, u64)>,
}

impl TestEnv {
    /// An environment for a server of `S`'s sites and kept words, its
    /// region zeroed (a first start).
    pub fn for_server<S: Server>() -> Self {
        let sites = usize::try_from(S::SITES).unwrap_or(usize::MAX);
        TestEnv { kept: vec![0; S::KEPT_WORDS], console: Vec::new(), hits: vec![0; sites], armed: None }
    }

    /// Hits of `site` so far.
    pub fn hits(&self, site: u32) -> u64 {
        usize::try_from(site).ok().and_then(|site| self.hits.get(site)).copied().unwrap_or(0)
    }

    /// How many distinct sites were hit.
    pub fn sites_hit(&self) -> usize {
        self.hits.iter().filter(|&&hits| hits > 0).count()
    }

    /// Arms a fault: the hit of `site` after the next `skip` ones panics,
    /// as an injected fault would fire there. One fault per arming.
    pub fn arm(&mut self, site: u32, skip: u64) {
        self.armed = Some((site, skip));
    }

    /// Whether an armed fault has not fired yet.
    pub fn armed(&self) -> bool {
        self.armed.is_some()
    }
}

impl Env for TestEnv {
    /// Counts the hit; panics at an armed site, and at a site number
    /// beyond the server's `SITES` (a server bug).
    fn site(&mut self, site: u32) {
        let Some(hits) = usize::try_from(site).ok().and_then(|index| self.hits.get_mut(index)) else {
            panic!("site {site} is beyond the server's SITES ({})", self.hits.len());
        };
        *hits += 1;
        match &mut self.armed {
            Some((armed, 0)) if *armed == site => {
                self.armed = None;
                panic!("injected fault at site {site}");
            }
            Some((armed, skip)) if *armed == site => *skip -= 1,
            _ => {}
        }
    }

    fn kept(&mut self) -> &mut [u64] {
        &mut self.kept
    }

    fn console_write(&mut self, bytes: &[u8]) {
        self.console.extend_from_slice(bytes);
    }
}
