import Glibc

/// Set by the SIGINT handler; the training loop polls it and checkpoints.
nonisolated(unsafe) var interruptRequested: sig_atomic_t = 0

/// The first Ctrl-C asks the loop to stop after the current step; a second
/// one ends the process at once.
func installInterruptHandler() {
    signal(SIGINT) { _ in
        interruptRequested = 1
        signal(SIGINT, SIG_DFL)
    }
}
