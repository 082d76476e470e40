//! How a long-running command is told to stop: Ctrl-C (SIGINT) or SIGTERM, the signal
//! systemd, Kubernetes and `timeout` send. Both stop the same clean way; the exit code says which.

use crate::error::{Error, Result};

/// Which signal asked the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopSignal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl StopSignal {
    /// The shell's exit code for a process ended by this signal: 128 + its number.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            StopSignal::Interrupt => 130,
            StopSignal::Terminate => 143,
        }
    }
}

/// Listens for SIGINT and SIGTERM from the moment it is created (so a signal that comes
/// before the first wait is not lost, and no longer kills the process outright).
pub(crate) struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Installs the handlers.
    pub(crate) fn install() -> Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let handler = |e| Error::io("installing the SIGINT/SIGTERM handlers", e);
            Ok(StopSignals {
                interrupt: signal(SignalKind::interrupt()).map_err(handler)?,
                terminate: signal(SignalKind::terminate()).map_err(handler)?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(StopSignals {})
        }
    }

    /// The next stop signal.
    pub(crate) async fn recv(&mut self) -> StopSignal {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => StopSignal::Interrupt,
                _ = self.terminate.recv() => StopSignal::Terminate,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            StopSignal::Interrupt
        }
    }
}
