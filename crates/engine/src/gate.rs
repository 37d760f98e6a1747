//! One computation at a time: a gate that llama.cpp calls pass through.
//!
//! Two llama.cpp contexts computing at once on the same cores each start a full thread pool
//! and both crawl. A front end that reads a book in the background while a person asks a
//! question shares one [`ComputeGate`] between the two sessions: every `llama_decode` call
//! (a chunk of the book, a batch of the prompt, one answer token) holds the gate, and a
//! waiting [`Priority::Interactive`] call goes before any waiting
//! [`Priority::Background`] one, so a question waits for at most the chunk being read.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Who is asking to compute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Priority {
    /// A person is waiting (answers): goes first.
    Interactive,
    /// Long work that can pause between calls (reading a document).
    #[default]
    Background,
}

#[derive(Default)]
struct State {
    busy: bool,
    interactive_waiting: usize,
}

/// A gate shared by the sessions that must not compute at the same time; cheap to clone.
#[derive(Clone, Default)]
pub struct ComputeGate(Arc<(Mutex<State>, Condvar)>);

impl std::fmt::Debug for ComputeGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComputeGate").finish_non_exhaustive()
    }
}

/// Holds the gate until dropped.
pub struct GatePass<'g> {
    gate: &'g ComputeGate,
}

impl ComputeGate {
    /// A new, open gate.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is two plain counters: a panic elsewhere cannot leave it inconsistent.
        self.0 .0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until no one else computes (and, for background work, until no interactive
    /// call waits), then holds the gate until the returned pass is dropped.
    pub fn enter(&self, priority: Priority) -> GatePass<'_> {
        let mut state = self.lock();
        if priority == Priority::Interactive {
            state.interactive_waiting += 1;
        }
        let cvar = &self.0 .1;
        loop {
            let blocked = state.busy || (priority == Priority::Background && state.interactive_waiting > 0);
            if !blocked {
                break;
            }
            state = cvar.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        if priority == Priority::Interactive {
            state.interactive_waiting -= 1;
        }
        state.busy = true;
        GatePass { gate: self }
    }

    /// Whether someone computes right now.
    pub fn is_busy(&self) -> bool {
        self.lock().busy
    }
}

impl Drop for GatePass<'_> {
    fn drop(&mut self) {
        self.gate.lock().busy = false;
        self.gate.0 .1.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn one_holder_at_a_time_and_interactive_goes_first() {
        let gate = ComputeGate::new();
        let held = gate.enter(Priority::Background);
        assert!(gate.is_busy());
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|s| {
            let (g, t) = (gate.clone(), tx.clone());
            s.spawn(move || {
                let _p = g.enter(Priority::Background);
                t.send("background").unwrap();
            });
            // Let the background waiter queue first, then an interactive one.
            std::thread::sleep(Duration::from_millis(50));
            let (g, t) = (gate.clone(), tx.clone());
            s.spawn(move || {
                let _p = g.enter(Priority::Interactive);
                t.send("interactive").unwrap();
            });
            std::thread::sleep(Duration::from_millis(50));
            assert!(rx.try_recv().is_err(), "nobody passes while the gate is held");
            drop(held);
        });
        let order: Vec<_> = rx.try_iter().collect();
        assert_eq!(order, ["interactive", "background"]);
        assert!(!gate.is_busy());
    }
}
