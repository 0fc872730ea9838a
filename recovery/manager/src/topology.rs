//! Dependency order: a start order in which every server comes after its dependencies, or the cycle that prevents one.
//!
//! Used once, when the registry is built: the order both starts servers and
//! orders their restarts when a dependency escalates.

use alloc::vec;
use alloc::vec::Vec;

/// A start order for servers `0..n`, where `dependencies[i]` lists what
/// server `i` depends on: every server after all its dependencies, ties
/// broken by declaration order so the order is stable. On a cycle, returns
/// it: each server in the list depends on the next, and the last on the
/// first.
pub(crate) fn start_order(dependencies: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let n = dependencies.len();
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let ready = (0..n).find(|&i| !placed[i] && dependencies[i].iter().all(|&d| placed[d]));
        match ready {
            Some(i) => {
                placed[i] = true;
                order.push(i);
            }
            None => return Err(find_cycle(dependencies, &placed)),
        }
    }
    Ok(order)
}

/// A cycle among the servers not placed. Each of them has a dependency not
/// placed (or it would have been), so following those from any of them
/// must come back to a server already seen.
fn find_cycle(dependencies: &[Vec<usize>], placed: &[bool]) -> Vec<usize> {
    let mut path = Vec::new();
    let mut current = placed.iter().position(|&p| !p);
    while let Some(server) = current {
        if let Some(start) = path.iter().position(|&seen| seen == server) {
            return path.split_off(start);
        }
        path.push(server);
        current = dependencies[server].iter().copied().find(|&d| !placed[d]);
    }
    // Unreachable for a real cycle; an empty list still says "no order".
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_come_first_and_ties_keep_declaration_order() {
        // 0 depends on 2, 1 on nothing, 2 on 1, 3 on 0 and 1.
        let deps = vec![vec![2], vec![], vec![1], vec![0, 1]];
        assert_eq!(start_order(&deps), Ok(vec![1, 2, 0, 3]));
    }

    #[test]
    fn a_cycle_is_named() {
        // 0 -> 1 -> 2 -> 1, and 3 free.
        let deps = vec![vec![1], vec![2], vec![1], vec![]];
        assert_eq!(start_order(&deps), Err(vec![1, 2]));
        assert_eq!(start_order(&[vec![0]]), Err(vec![0]));
    }
}
