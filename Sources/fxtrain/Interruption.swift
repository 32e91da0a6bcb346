import Glibc

/// Set by the SIGINT handler; the training loop polls it and checkpoints.
nonisolated(unsafe) var interruptRequested: sig_atomic_t = 0

/// The first Ctrl-C asks the loop to stop after the current step; a second
/// one ends the process at once. SIGUSR1 asks the same: mpirun passes it on
/// to every rank (a Ctrl-C to mpirun ends the job without a checkpoint).
func installInterruptHandler() {
    signal(SIGINT) { _ in
        interruptRequested = 1
        signal(SIGINT, SIG_DFL)
    }
    signal(SIGUSR1) { _ in interruptRequested = 1 }
}
